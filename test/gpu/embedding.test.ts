// embedding gather vs twin: exact (a copy). Out-of-range ids: NaN rows on the GPU, OpInputError on the CPU.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';

describe('embedding (webgpu vs twin)', () => {
  it('matches exactly', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          N: fc.integer({ min: 1, max: 300 }),
          V: fc.integer({ min: 1, max: 70 }),
          C: fc.integer({ min: 1, max: 100 }),
          seed: fc.nat(),
        }),
        async ({ N, V, C, seed }) => {
          const r = rand(seed);
          const ids = Uint32Array.from({ length: N }, () => Math.floor(r() * V));
          const table = randomF32(V * C, seed + 1);
          const want = await cpu.read(cpu.embedding(cpu.tensor(ids, [N]), cpu.tensor(table, [V, C])));
          const got = await gpu.read(gpu.embedding(gpu.tensor(ids, [N]), gpu.tensor(table, [V, C])));
          expectClose(got, want, 0, 0);
        },
      ),
      { numRuns: 15, seed: 14 },
    );
  });

  it('an id outside the table is NaN on the GPU and a typed error on the CPU', async () => {
    const gpu = await gpuBackend();
    const ids = new Uint32Array([0, 7]);
    const table = randomF32(6, 1);
    const got = await gpu.read(gpu.embedding(gpu.tensor(ids, [2]), gpu.tensor(table, [3, 2])));
    expect(Number.isNaN(got[2]) && Number.isNaN(got[3])).toBe(true);
    expect(got[0]).toBe(table[0]);
    expect(() => cpu.embedding(cpu.tensor(ids, [2]), cpu.tensor(table, [3, 2]))).toThrow(OpInputError);
  });
});
