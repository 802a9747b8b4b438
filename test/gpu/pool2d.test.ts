// pool2d kernel vs twin (square and rectangular windows and strides): max is exact; average within
// atol 1e-6 + rtol 1e-6 (≤ 12 f32 additions of values in [-3, 3], then one division). Bad shapes,
// dtypes, options and out tensors are OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

describe('pool2d (webgpu vs twin)', () => {
  it('matches the twin', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 2, max: 15 }),
          W: fc.integer({ min: 2, max: 15 }),
          C: fc.integer({ min: 1, max: 17 }),
          kh: fc.integer({ min: 1, max: 3 }),
          kw: fc.integer({ min: 1, max: 4 }),
          stride: fc.oneof(
            fc.integer({ min: 1, max: 3 }),
            fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          ),
          kind: fc.constantFrom('max', 'avg'),
          seed: fc.nat(),
        }),
        async ({ B, H, W, C, kh, kw, stride, kind, seed }) => {
          if (kh > H || kw > W) return;
          const size: [number, number] = [kh, kw];
          const x = randomF32(B * H * W * C, seed, 3);
          const run = async (be: typeof cpu) =>
            be.read(be.pool2d(be.tensor(x, [B, H, W, C]), { kind: kind as 'max', size, stride }));
          const tol = kind === 'max' ? 0 : 1e-6;
          expectClose(await run(gpu), await run(cpu), tol, tol, `${kind} ${kh}×${kw}/${JSON.stringify(stride)}`);
        },
      ),
      { numRuns: 15, seed: 4 },
    );
  });

  it('rejects bad inputs', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(randomF32(16, 1), [1, 4, 4, 1]);
    expect(() => gpu.pool2d(x, { kind: 'max', size: 5 })).toThrow(OpInputError);
    expect(() => gpu.pool2d(x, { kind: 'min' as 'max', size: 2 })).toThrow(OpInputError);
    expect(() => gpu.pool2d(gpu.tensor(randomF32(16, 1), [4, 4]), { kind: 'max', size: 2 })).toThrow(OpInputError);
    expect(() => gpu.pool2d(gpu.tensor(new Int32Array(16), [1, 4, 4, 1]), { kind: 'max', size: 2 })).toThrow(/f32/);
    expect(() => gpu.pool2d(x, { kind: 'avg', size: 0 })).toThrow(OpInputError);
    expect(() => gpu.pool2d(x, { kind: 'avg', size: 2, stride: [1, 0] })).toThrow(OpInputError);
    expect(() => gpu.pool2d(x, { kind: 'avg', size: [1, 5] })).toThrow(/does not fit/);
    expect(() => gpu.pool2d(x, { kind: 'max', size: 2, out: gpu.empty([1, 3, 3, 1]) })).toThrow(/out has shape/);
    const out = gpu.empty([1, 2, 2, 1]);
    expect(gpu.pool2d(x, { kind: 'max', size: 2, out })).toBe(out);
  });
});
