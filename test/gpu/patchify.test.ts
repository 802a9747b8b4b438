// patchify / unpatchify kernel vs twin: exact (pure gathers); unpatchify ∘ patchify = identity; the
// patch vector order (py, px, c) checked on a hand-made case. Bad shapes, dtypes, patch sizes and out
// tensors are OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import { cpu, gpuBackend, randomF32 } from '../util/gpu.js';

describe('patchify (webgpu vs twin)', () => {
  it('patchify matches the twin and unpatchify inverts it', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          hp: fc.integer({ min: 1, max: 5 }),
          wp: fc.integer({ min: 1, max: 5 }),
          p: fc.integer({ min: 1, max: 4 }),
          C: fc.integer({ min: 1, max: 3 }),
          seed: fc.nat(),
        }),
        async ({ B, hp, wp, p, C, seed }) => {
          const H = hp * p,
            W = wp * p;
          const x = randomF32(B * H * W * C, seed);
          const g = gpu.patchify(gpu.tensor(x, [B, H, W, C]), p);
          expect(g.shape).toEqual([B, hp * wp, p * p * C]);
          expect(await gpu.read(g)).toEqual(await cpu.read(cpu.patchify(cpu.tensor(x, [B, H, W, C]), p)));
          expect(await gpu.read(gpu.unpatchify(g, { p, H, W, C }))).toEqual(x);
        },
      ),
      { numRuns: 15, seed: 6 },
    );
  });

  it('orders a patch as (py, px, c)', async () => {
    const gpu = await gpuBackend();
    // 1×2×4 image, C = 1, p = 2: patches [[0,1],[4,5]] and [[2,3],[6,7]]
    const x = Float32Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(await gpu.read(gpu.patchify(gpu.tensor(x, [1, 2, 4, 1]), 2)))).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
  });

  it('rejects bad inputs', async () => {
    const gpu = await gpuBackend();
    expect(() => gpu.patchify(gpu.tensor(randomF32(30, 1), [1, 5, 6, 1]), 2)).toThrow(OpInputError);
    expect(() => gpu.unpatchify(gpu.tensor(randomF32(16, 1), [1, 4, 4]), { p: 2, H: 4, W: 2, C: 1 })).toThrow(
      OpInputError,
    );
    const x = gpu.tensor(randomF32(32, 1), [2, 4, 4, 1]);
    expect(() => gpu.patchify(gpu.tensor(randomF32(16, 1), [4, 4, 1]), 2)).toThrow(/rank 4/);
    expect(() => gpu.patchify(gpu.tensor(new Uint32Array(32), [2, 4, 4, 1]), 2)).toThrow(/f32/);
    expect(() => gpu.patchify(x, 0)).toThrow(OpInputError);
    expect(() => gpu.patchify(x, 2, { out: gpu.empty([2, 4, 5]) })).toThrow(/out has shape/);
    expect(() => gpu.unpatchify(gpu.tensor(randomF32(32, 1), [2, 4, 4]), { p: 2, H: 4, W: 4, C: 2 })).toThrow(
      OpInputError,
    ); // p·p·C = 8
    expect(() =>
      gpu.unpatchify(gpu.tensor(randomF32(32, 1), [2, 4, 4]), { p: 2, H: 4, W: 4, C: 1, out: gpu.empty([2, 4, 4]) }),
    ).toThrow(/out has shape/);
  });
});
