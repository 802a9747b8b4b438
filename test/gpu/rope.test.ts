// RoPE kernel vs twin with arbitrary (any-order) positions. Tolerance atol 1e-6 + rtol 1e-6
// (two products and a sum per output, same f32 table on both sides).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand, randomF32 } from '../util/gpu.js';
import { ropeTable } from '../../src/ops/rope.js';

describe('rope (webgpu vs twin)', () => {
  it('matches for shuffled positions and ragged sizes', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          T: fc.integer({ min: 1, max: 40 }),
          H: fc.integer({ min: 1, max: 4 }),
          half: fc.integer({ min: 1, max: 33 }),
          seed: fc.nat(),
        }),
        async ({ B, T, H, half, seed }) => {
          const D = 2 * half,
            P = 64;
          const r = rand(seed);
          const pos = Uint32Array.from({ length: B * T }, () => Math.floor(r() * P));
          const x = randomF32(B * T * H * D, seed + 1);
          const table = ropeTable(P, D);
          const want = await cpu.read(
            cpu.rope(cpu.tensor(x, [B, T, H, D]), cpu.tensor(pos, [B, T]), cpu.tensor(table, [P, half, 2])),
          );
          const got = await gpu.read(
            gpu.rope(gpu.tensor(x, [B, T, H, D]), gpu.tensor(pos, [B, T]), gpu.tensor(table, [P, half, 2])),
          );
          expectClose(got, want, 1e-6, 1e-6);
        },
      ),
      { numRuns: 15, seed: 15 },
    );
  });

  it('position 0 is the identity and rotations preserve pair norms', async () => {
    const gpu = await gpuBackend();
    const D = 8,
      table = ropeTable(16, D);
    const x = randomF32(2 * D, 3);
    const got = await gpu.read(
      gpu.rope(gpu.tensor(x, [2, 1, D]), gpu.tensor(new Uint32Array([0, 9]), [2]), gpu.tensor(table, [16, 4, 2])),
    );
    expectClose(got.subarray(0, D), x.subarray(0, D), 0, 0);
    for (let j = 0; j < 4; j++) {
      const n0 = Math.hypot(x[D + j], x[D + j + 4]),
        n1 = Math.hypot(got[D + j], got[D + j + 4]);
      expect(Math.abs(n0 - n1)).toBeLessThan(1e-6);
    }
  });
});
