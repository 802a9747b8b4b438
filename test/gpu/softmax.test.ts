// softmax / log-softmax kernel vs twin, with large logits (stability), −inf entries, an all −inf
// row and a NaN row. Tolerance: softmax atol 1e-6 + rtol 1e-5; log-softmax atol 1e-5 + rtol 1e-5 — within
// the WGSL spec: exp(x) is good to 3 + 2|x| ULP (x ≤ 0 after the max is subtracted: ≤ 2.7e-6 relative for
// |x| ≤ 10, and terms further down are below atol), log to 2^-21 absolute on [0.5, 2].
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand, randomF32 } from '../util/gpu.js';

describe('softmax (webgpu vs twin)', () => {
  it('matches over ragged rows, with −inf entries and large logits', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 30 }),
          C: fc.integer({ min: 1, max: 600 }),
          seed: fc.nat(),
          log: fc.boolean(),
          big: fc.boolean(),
        }),
        async ({ rows, C, seed, log, big }) => {
          const x = randomF32(rows * C, seed, big ? 80 : 4);
          const r = rand(seed + 9);
          for (let i = 0; i < x.length; i++) if (r() < 0.1) x[i] = -Infinity;
          const want = await cpu.read(cpu.softmax(cpu.tensor(x, [rows, C]), { log }));
          const got = await gpu.read(gpu.softmax(gpu.tensor(x, [rows, C]), { log }));
          expectClose(got, want, log ? 1e-5 : 1e-6, 1e-5, `rows ${rows} C ${C} log ${log}`);
        },
      ),
      { numRuns: 20, seed: 13 },
    );
  });

  it('an all −inf row and a row with NaN give NaN on both backends', async () => {
    const gpu = await gpuBackend();
    const x = new Float32Array([-Infinity, -Infinity, -Infinity, 1, NaN, 2, 0, 1, 2]);
    const got = await gpu.read(gpu.softmax(gpu.tensor(x, [3, 3])));
    const want = await cpu.read(cpu.softmax(cpu.tensor(x, [3, 3])));
    expect([...got.subarray(0, 6)].every(Number.isNaN)).toBe(true);
    expectClose(got, want, 1e-6, 1e-5);
  });
});
