// matmul kernel vs its CPU twin over generated shapes, on each path (tiled, blocked and the
// backend's own pick), including sizes that are not multiples of the 64×64 tile, the 16-wide K step
// or the blocked kernel's 4×4 outputs per invocation. Tolerance: atol 1e-5 + rtol 1e-4 (fp32 accumulation over
// K ≤ 150 of values in [-1, 1] errs by ~K·6e-8 ≈ 1e-5 at worst; an indexing bug errs by O(1)).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';
import { toF16 } from '../../src/backend/f16.js';

const ATOL = 1e-5,
  RTOL = 1e-4;

describe('matmul (webgpu vs twin)', () => {
  it.each(['tiled', 'blocked', 'auto'] as const)(
    '%s path matches over random shapes, transB, batching, bias and GELU',
    async (path) => {
      const gpu = await gpuBackend();
      gpu.matmulPath = path;
      await fc
        .assert(
          fc.asyncProperty(
            fc.record({
              batch: fc.integer({ min: 1, max: 3 }),
              M: fc.integer({ min: 1, max: 90 }),
              K: fc.integer({ min: 1, max: 150 }),
              N: fc.integer({ min: 1, max: 90 }),
              transB: fc.boolean(),
              bBatched: fc.boolean(),
              bias: fc.boolean(),
              gelu: fc.boolean(),
              f16: fc.boolean(),
              seed: fc.nat(),
            }),
            async (c) => {
              const a = randomF32(c.batch * c.M * c.K, c.seed);
              const bShape = c.transB ? [c.N, c.K] : [c.K, c.N];
              const b32 = randomF32((c.bBatched ? c.batch : 1) * c.K * c.N, c.seed + 1);
              const b = c.f16 ? (toF16(b32) as Uint16Array) : b32;
              const bias = randomF32(c.N, c.seed + 2);
              const opts = (be: typeof cpu) => ({
                transB: c.transB,
                bias: c.bias ? be.tensor(bias, [c.N]) : null,
                activation: c.gelu ? ('gelu' as const) : ('none' as const),
              });
              const shapeB = c.bBatched ? [c.batch, ...bShape] : bShape;
              const want = await cpu.read(
                cpu.matmul(cpu.tensor(a, [c.batch, c.M, c.K]), cpu.tensor(b, shapeB), opts(cpu)),
              );
              const g = gpu.matmul(gpu.tensor(a, [c.batch, c.M, c.K]), gpu.tensor(b, shapeB), opts(gpu));
              expect(g.shape).toEqual([c.batch, c.M, c.N]);
              expectClose(await gpu.read(g), want, ATOL, RTOL, JSON.stringify(c));
            },
          ),
          { numRuns: 25, seed: 20261126 },
        )
        .finally(() => {
          gpu.matmulPath = 'auto';
        });
    },
  );

  it('auto picks the blocked kernel on a software adapter and for row counts below a tile', async () => {
    const gpu = await gpuBackend();
    const soft = gpu.runtime.ctx.adapter.software;
    expect(gpu.pickMatmulPath(16, 128, 128)).toBe('blocked');
    expect(gpu.pickMatmulPath(1024, 512, 512)).toBe(soft ? 'blocked' : 'tiled');
  });

  it('writes into a preallocated out tensor and rejects bad shapes with OpInputError', async () => {
    const gpu = await gpuBackend();
    const a = gpu.tensor(randomF32(6, 1), [2, 3]);
    const b = gpu.tensor(randomF32(12, 2), [3, 4]);
    const out = gpu.empty([2, 4]);
    expect(gpu.matmul(a, b, { out })).toBe(out);
    expectClose(
      await gpu.read(out),
      await cpu.read(cpu.matmul(cpu.tensor(randomF32(6, 1), [2, 3]), cpu.tensor(randomF32(12, 2), [3, 4]))),
      ATOL,
      RTOL,
    );
    expect(() => gpu.matmul(a, gpu.tensor(randomF32(8, 3), [4, 2]))).toThrow(OpInputError);
    expect(() => gpu.matmul(a, b, { out: gpu.empty([4, 2]) })).toThrow(/out has shape/);
    expect(() => gpu.matmul(a, cpu.tensor(randomF32(12, 2), [3, 4]))).toThrow(/cpu backend/);
  });
});
