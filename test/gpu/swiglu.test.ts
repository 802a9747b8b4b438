// swiglu kernel vs twin (y = silu(gate) · up for x = [gate | up]) over generated shapes, including row
// lengths that are not multiples of the workgroup size: atol 1e-6 + rtol 1e-5 (SiLU's exp differs in
// the last bits between WGSL and f64). Odd last dims are typed errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';

describe('swiglu (webgpu vs twin)', () => {
  it('matches over generated shapes', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          T: fc.integer({ min: 1, max: 9 }),
          F: fc.integer({ min: 1, max: 150 }),
          seed: fc.nat(),
        }),
        async ({ B, T, F, seed }) => {
          const x = randomF32(B * T * 2 * F, seed, 6);
          const run = async (be: typeof cpu) => be.read(be.swiglu(be.tensor(x, [B, T, 2 * F])));
          const g = await run(gpu);
          expect(g.length).toBe(B * T * F);
          expectClose(g, await run(cpu), 1e-6, 1e-5, JSON.stringify({ B, T, F }));
        },
      ),
      { numRuns: 20, seed: 23 },
    );
  });

  it('is silu(gate)·up by definition, and refuses an odd last dim', async () => {
    const gpu = await gpuBackend();
    const y = await gpu.read(gpu.swiglu(gpu.tensor(Float32Array.from([0, 2, 5, 3]), [1, 4])));
    expectClose(y, Float32Array.from([0, (2 / (1 + Math.exp(-2))) * 3]), 1e-6, 1e-6, 'by hand');
    expect(() => gpu.swiglu(gpu.tensor(randomF32(3, 1), [1, 3]))).toThrow(OpInputError);
  });
});
