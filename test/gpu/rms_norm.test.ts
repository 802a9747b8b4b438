// rms_norm kernel vs its twin, rows of ragged widths (not multiples of the
// workgroup size) and row counts. Tolerance: atol 1e-5 + rtol 1e-4 (two f32 reductions over
// C ≤ 700, a division and inverseSqrt, which the WGSL spec bounds by 2 ULP; a wrong mean square errs by O(1)).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

const ATOL = 1e-5,
  RTOL = 1e-4;
const shape = fc.record({
  rows: fc.integer({ min: 1, max: 40 }),
  C: fc.integer({ min: 1, max: 700 }),
  seed: fc.nat(),
  shift: fc.double({ min: -5, max: 5, noNaN: true }),
});

describe('rms_norm (webgpu vs twin)', () => {
  it('matches', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(shape, async ({ rows, C, seed }) => {
        const x = randomF32(rows * C, seed, 3);
        const g = randomF32(C, seed + 1);
        const want = await cpu.read(cpu.rmsNorm(cpu.tensor(x, [rows, C]), cpu.tensor(g, [C]), { eps: 1e-6 }));
        const got = await gpu.read(gpu.rmsNorm(gpu.tensor(x, [rows, C]), gpu.tensor(g, [C]), { eps: 1e-6 }));
        expectClose(got, want, ATOL, RTOL, `rows ${rows} C ${C}`);
      }),
      { numRuns: 20, seed: 12 },
    );
  });
});
