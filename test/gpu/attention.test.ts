// attention kernel vs twin with bidirectional, causal, random (any-order) and two-stream masks,
// Tq ≠ Tk, shared or per-batch masks, fully masked rows (zeros by definition), and grouped-query
// attention (Hkv key/value heads, each serving g = H / Hkv query heads; g = 1 is plain multi-head).
// Tolerance atol 1e-5 + rtol 1e-4 (online vs two-pass softmax in f32 over Tk ≤ 48; WGSL's exp is good to
// 3 + 2|x| ULP, ~1e-6 relative for the weights that matter).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';

function makeMask(kind: number, B: number, Tq: number, Tk: number, seed: number): Uint32Array {
  const r = rand(seed);
  const m = new Uint32Array(B * Tq * Tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      for (let j = 0; j < Tk; j++) {
        let v = 1;
        if (kind === 1) v = j <= i ? 1 : 0; // causal
        if (kind === 2) v = r() < 0.5 ? 1 : 0; // arbitrary (σ-causal, two-stream…); some rows empty
        if (kind === 3) v = j < i ? 1 : 0; // strictly causal: row 0 fully masked
        m[(b * Tq + i) * Tk + j] = v;
      }
    }
  }
  return m;
}

describe('attention (webgpu vs twin)', () => {
  it('matches for every mask kind and stream layout', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          Tq: fc.integer({ min: 1, max: 40 }),
          Tk: fc.integer({ min: 1, max: 48 }),
          Hkv: fc.integer({ min: 1, max: 3 }),
          g: fc.integer({ min: 1, max: 3 }),
          D: fc.integer({ min: 1, max: 40 }),
          kind: fc.integer({ min: 0, max: 3 }),
          shared: fc.boolean(),
          seed: fc.nat(),
        }),
        async ({ B, Tq, Tk, Hkv, g, D, kind, shared, seed }) => {
          const H = Hkv * g;
          const q = randomF32(B * Tq * H * D, seed, 2),
            k = randomF32(B * Tk * Hkv * D, seed + 1, 2),
            v = randomF32(B * Tk * Hkv * D, seed + 2);
          const mb = shared ? 1 : B;
          const mask = makeMask(kind, mb, Tq, Tk, seed + 3);
          const run = async (be: typeof cpu) =>
            be.read(
              be.attention(
                be.tensor(q, [B, Tq, H, D]),
                be.tensor(k, [B, Tk, Hkv, D]),
                be.tensor(v, [B, Tk, Hkv, D]),
                be.tensor(mask, [mb, Tq, Tk]),
              ),
            );
          expectClose(
            await run(gpu),
            await run(cpu),
            1e-5,
            1e-4,
            JSON.stringify({ B, Tq, Tk, H, Hkv, D, kind, shared }),
          );
        },
      ),
      { numRuns: 25, seed: 16 },
    );
  });

  it('a fully masked query row outputs zeros; bad shapes are typed errors', async () => {
    const gpu = await gpuBackend();
    const q = gpu.tensor(randomF32(4, 1), [1, 2, 1, 2]);
    const k = gpu.tensor(randomF32(4, 2), [1, 2, 1, 2]);
    const out = await gpu.read(gpu.attention(q, k, k, gpu.tensor(new Uint32Array([0, 0, 1, 0]), [2, 2])));
    expect([...out.subarray(0, 2)]).toEqual([0, 0]);
    expect(() => gpu.attention(q, k, k, gpu.tensor(new Uint32Array(3), [1, 3]))).toThrow(OpInputError);
    // 3 query heads cannot share 2 key/value heads
    const q3 = gpu.tensor(randomF32(6, 1), [1, 1, 3, 2]),
      k2 = gpu.tensor(randomF32(4, 1), [1, 1, 2, 2]);
    expect(() => gpu.attention(q3, k2, k2, gpu.tensor(new Uint32Array(1), [1, 1]))).toThrow(/must divide/);
    expect(() =>
      gpu.attention(
        gpu.tensor(randomF32(129, 1), [1, 1, 1, 129]),
        gpu.tensor(randomF32(129, 1), [1, 1, 1, 129]),
        gpu.tensor(randomF32(129, 1), [1, 1, 1, 129]),
        gpu.tensor(new Uint32Array(1), [1, 1]),
      ),
    ).toThrow(/exceeds/);
  });
});
