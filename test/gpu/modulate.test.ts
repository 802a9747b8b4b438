// modulate and gatedAdd (DiT adaLN-Zero) kernel vs twin over ragged (B, T, C): atol 1e-6 + rtol 1e-6
// (one or two f32 roundings on both sides). Bad shapes, dtypes and out tensors are OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

describe('modulate (webgpu vs twin)', () => {
  it('modulate and gatedAdd match the twin', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 4 }),
          T: fc.integer({ min: 1, max: 60 }),
          C: fc.integer({ min: 1, max: 70 }),
          seed: fc.nat(),
        }),
        async ({ B, T, C, seed }) => {
          const a = randomF32(B * T * C, seed, 3),
            r = randomF32(B * T * C, seed + 1),
            u = randomF32(B * C, seed + 2),
            v = randomF32(B * C, seed + 3);
          const run = async (be: typeof cpu) => {
            const ta = be.tensor(a, [B, T, C]),
              tr = be.tensor(r, [B, T, C]),
              tu = be.tensor(u, [B, C]),
              tv = be.tensor(v, [B, C]);
            return [await be.read(be.modulate(ta, tu, tv)), await be.read(be.gatedAdd(ta, tr, tu))];
          };
          const [g, c] = [await run(gpu), await run(cpu)];
          expectClose(g[0], c[0], 1e-6, 1e-6, 'modulate');
          expectClose(g[1], c[1], 1e-6, 1e-6, 'gatedAdd');
        },
      ),
      { numRuns: 15, seed: 8 },
    );
  });

  it('rejects bad inputs', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(randomF32(24, 1), [2, 3, 4]);
    expect(() => gpu.modulate(x, gpu.tensor(randomF32(8, 1), [2, 4]), gpu.tensor(randomF32(6, 1), [2, 3]))).toThrow(
      OpInputError,
    );
    expect(() => gpu.gatedAdd(x, gpu.tensor(randomF32(12, 1), [1, 3, 4]), gpu.tensor(randomF32(8, 1), [2, 4]))).toThrow(
      OpInputError,
    );
    const bc = gpu.tensor(randomF32(8, 1), [2, 4]);
    expect(() => gpu.modulate(gpu.tensor(randomF32(12, 1), [3, 4]), bc, bc)).toThrow(/rank 3/);
    expect(() => gpu.modulate(x, gpu.tensor(randomF32(8, 1), [8]), bc)).toThrow(/rank 2/);
    expect(() => gpu.modulate(x, bc, gpu.tensor(new Uint32Array(8), [2, 4]))).toThrow(/f32/);
    expect(() => gpu.gatedAdd(x, x, gpu.tensor(randomF32(8, 1), [4, 2]))).toThrow(OpInputError);
    expect(() => gpu.modulate(x, bc, bc, { out: gpu.empty([2, 4, 3]) })).toThrow(/out has shape/);
    expect(() => gpu.gatedAdd(x, x, bc, { out: cpu.empty([2, 3, 4]) })).toThrow(/cpu backend/);
  });
});
