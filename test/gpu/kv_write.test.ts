// kv_write (KV-cache append) vs twin: exact (a copy), over ragged offsets and sizes that are not
// multiples of the workgroup; the rest of the cache is untouched. Bad shapes: OpInputError on both.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';

describe('kv_write (webgpu vs twin)', () => {
  it('writes each row at its own offset, exactly, and nothing else', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 5 }),
          S: fc.integer({ min: 1, max: 40 }),
          H: fc.integer({ min: 1, max: 4 }),
          D: fc.integer({ min: 1, max: 33 }),
          seed: fc.nat(),
        }),
        async ({ B, S, H, D, seed }) => {
          const r = rand(seed);
          const M = 1 + Math.floor(r() * S);
          const offsets = Uint32Array.from({ length: B }, () => Math.floor(r() * (S - M + 1)));
          const cache0 = randomF32(B * S * H * D, seed + 1);
          const src = randomF32(B * M * H * D, seed + 2);
          const run = async (be: typeof cpu) => {
            const c = be.tensor(cache0, [B, S, H, D]);
            be.kvWrite(c, be.tensor(src, [B, M, H, D]), be.tensor(offsets, [B]));
            return be.read(c);
          };
          const want = (await run(cpu)) as Float32Array;
          expectClose(await run(gpu), want, 0, 0);
          // the twin itself: rows outside [offset, offset + M) keep the old values
          const W = H * D;
          for (let b = 0; b < B; b++)
            for (let s = 0; s < S; s++) {
              const inside = s >= offsets[b] && s < offsets[b] + M;
              const from = inside ? src.subarray((b * M + s - offsets[b]) * W) : cache0.subarray((b * S + s) * W);
              expect(want.subarray((b * S + s) * W, (b * S + s + 1) * W)).toEqual(from.subarray(0, W));
            }
        },
      ),
      { numRuns: 15, seed: 18 },
    );
  });

  it('refuses shapes that do not fit (both backends) and offsets past the cache (twin)', async () => {
    const gpu = await gpuBackend();
    for (const be of [cpu, gpu]) {
      const c = be.empty([2, 4, 3]);
      expect(() => be.kvWrite(c, be.empty([2, 1, 2]), be.tensor(new Uint32Array([0, 0]), [2]))).toThrow(OpInputError);
      expect(() => be.kvWrite(c, be.empty([1, 1, 3]), be.tensor(new Uint32Array([0]), [1]))).toThrow(OpInputError);
      expect(() => be.kvWrite(c, be.empty([2, 1, 3]), be.tensor(new Uint32Array([0]), [1]))).toThrow(/offsets/);
    }
    const c = cpu.empty([1, 4, 3]);
    expect(() => cpu.kvWrite(c, cpu.empty([1, 2, 3]), cpu.tensor(new Uint32Array([3]), [1]))).toThrow(/do not fit/);
  });
});
