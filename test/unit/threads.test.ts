// The fast CPU path's thread plan (src/models/onnx/threads.ts): threads only where SharedArrayBuffer
// exists (Node, or a cross-origin-isolated page), 'auto' = the cores up to 4, bad counts refused, and
// the first plan of a runtime kept (onnxruntime-web reads its thread count once).
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import { AUTO_MAX, ortThreads, planThreads, threadEnv } from '../../src/models/onnx/threads.js';

const page = (isolated: boolean, cores = 8) => ({ node: false, isolated, cores });

describe('ORT wasm thread plan', () => {
  it('a cross-origin-isolated page or Node gets the threads asked for; auto takes the cores up to AUTO_MAX', () => {
    expect(planThreads(3, page(true))).toEqual({ threads: 3, reason: '3 threads (cross-origin isolated)' });
    expect(planThreads('auto', page(true, 8)).threads).toBe(AUTO_MAX);
    expect(planThreads('auto', page(true, 2))).toEqual({
      threads: 2,
      reason: '2 threads (cross-origin isolated; 2 cores)',
    });
    expect(planThreads(2, { node: true, isolated: true, cores: 2 }).reason).toBe('2 threads (worker threads)');
    expect(planThreads('auto', page(true, 1))).toEqual({ threads: 1, reason: 'one thread (one core here)' });
    expect(planThreads(1, page(false))).toEqual({ threads: 1, reason: 'one thread' });
  });

  it('threads asked for without cross-origin isolation: one thread, saying why', () => {
    for (const req of [4, 'auto'] as const) {
      const p = planThreads(req, page(false, 4));
      expect(p.threads).toBe(1);
      expect(p.reason).toMatch(/^one thread: 4 were asked for, but this page is not cross-origin isolated/);
      expect(p.reason).toContain('Cross-Origin-Embedder-Policy: require-corp');
    }
  });

  it('bad counts are typed errors', () => {
    for (const bad of [0, -1, 1.5, NaN, '2' as unknown as number])
      expect(() => planThreads(bad, page(true))).toThrow(OpInputError);
  });

  it('the first plan of a runtime is kept; a later request for another count is told so', () => {
    const env = { node: true, isolated: true, cores: 8 };
    expect(ortThreads(2, env)).toEqual({ threads: 2, reason: '2 threads (worker threads)' });
    expect(ortThreads(2, env).reason).toBe('2 threads (worker threads)');
    const later = ortThreads(1, env);
    expect(later.threads).toBe(2);
    expect(later.reason).toMatch(/fixed by the first ONNX load here .*; 1 asked for now$/);
  });

  it('this runtime (Node) is one where threads are possible, with its core count', () => {
    const env = threadEnv();
    expect(env.node).toBe(true);
    expect(env.isolated).toBe(true);
    expect(env.cores).toBeGreaterThanOrEqual(1);
  });
});
