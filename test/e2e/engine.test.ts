// The engine in a real module worker (Chromium, SwiftShader WebGPU): load a model by URL, sample
// with per-step progress crossing the boundary, cancel through an AbortSignal (AbortError at the
// next step, settling within one model call + 50 ms, where a model call is the longest step of the
// same request run to the end, timed in the worker), and a worker crash mid-sample: the pending
// call rejects with WorkerCrashedError within 2 s and the next call runs on a fresh worker.
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';

const ctx = useBrowserAndServer();

describe('engine in a module worker', () => {
  it('progress, cancellation and crash recovery', async () => {
    const page = await ctx.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(ctx.url);
    const r = await page.evaluate(`(async () => {
      const { createEngine } = await import('/src/worker/client.ts');
      const engine = createEngine();
      const out = {};
      try {
        out.backend = (await engine.init('auto')).name;
        const info = await engine.loadModel('/test/fixtures/tiny-bidir/', { id: 'm' });
        const L = Math.min(12, info.maxLength);
        const steps = [];
        const res = await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 2, length: L, seed: 1 } }, (p) => { steps.push(p.step); });
        out.L = L; out.nfe = res.nfe; out.steps = steps; out.texts = res.texts.length; out.samplesLen = res.samples.length;

        // one model call: the longest step of the same request run to the end (the worker's own timing)
        const plain = await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 32, length: L, seed: 2 } });
        const stepMs = Math.max(...plain.stepTimesMs);
        const ac = new AbortController();
        let cancelAt = 0;
        try {
          await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 32, length: L, seed: 2 } }, (p) => {
            if (p.step === 2) { cancelAt = performance.now(); ac.abort(); }
          }, { signal: ac.signal });
          out.cancel = 'not cancelled';
        } catch (e) {
          out.cancel = { name: e.name, step: e.step, elapsed: performance.now() - cancelAt, stepMs };
        }

        const t0 = performance.now();
        const pendingCall = engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 64, length: L, seed: 3 } }).then(() => 'resolved', (e) => e.name);
        await engine.crashForTest(30);
        out.crash = { result: await pendingCall, ms: performance.now() - t0 };
        out.afterCrash = (await engine.init('auto')).name;
        out.workers = engine.workersStarted;
      } finally {
        engine.dispose();
      }
      return out;
    })()`) as Record<string, any>;
    expect(r.backend).toBe('webgpu');
    expect(r.nfe).toBe(r.L);
    expect(r.steps).toEqual(Array.from({ length: r.L }, (_, i) => i));
    expect([r.texts, r.samplesLen]).toEqual([2, 2 * r.L]);
    expect(r.cancel.name).toBe('AbortError');
    expect(r.cancel.step).toBe(3);
    expect(r.cancel.elapsed).toBeLessThan(r.cancel.stepMs + 50);
    expect(r.crash.result).toBe('WorkerCrashedError');
    expect(r.crash.ms).toBeLessThan(2000);
    expect(r.afterCrash).toBe('webgpu');
    expect(r.workers).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
