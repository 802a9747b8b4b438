// conv2d kernel vs twin over ragged shapes (kernel sizes 1–5, stride 1–3, padding 0–2, odd sizes):
// atol 1e-5 + rtol 1e-4 (f32 accumulation in a different order than the twin's f64). Bad shapes
// are OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

describe('conv2d (webgpu vs twin)', () => {
  it('matches the twin', async () => {
    const gpu = await gpuBackend();
    await fc.assert(fc.asyncProperty(
      fc.record({
        B: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 3, max: 13 }), W: fc.integer({ min: 3, max: 13 }), Cin: fc.integer({ min: 1, max: 9 }),
        Cout: fc.integer({ min: 1, max: 11 }), K: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 0, max: 2 }),
        bias: fc.boolean(), act: fc.constantFrom('none', 'relu', 'gelu', 'silu'), seed: fc.nat(),
      }),
      async ({ B, H, W, Cin, Cout, K, stride, pad, bias, act, seed }) => {
        const x = randomF32(B * H * W * Cin, seed), w = randomF32(K * K * Cin * Cout, seed + 1), b = randomF32(Cout, seed + 2);
        const run = async (be: typeof cpu) => be.read(be.conv2d(be.tensor(x, [B, H, W, Cin]), be.tensor(w, [K, K, Cin, Cout]),
          { bias: bias ? be.tensor(b, [Cout]) : undefined, stride, pad, activation: act as 'none' }));
        expectClose(await run(gpu), await run(cpu), 1e-5, 1e-4, `conv ${B}×${H}×${W}×${Cin} k${K} s${stride} p${pad} ${act}`);
      }), { numRuns: 15, seed: 3 });
  });

  it('a 1×1 convolution is a matmul, and a known 3×3 case', async () => {
    const gpu = await gpuBackend();
    // 3×3 all-ones kernel over a 3×3 ramp with pad 1: each output is the sum of its neighbourhood
    const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const y = await gpu.read(gpu.conv2d(gpu.tensor(x, [1, 3, 3, 1]), gpu.tensor(new Float32Array(9).fill(1), [3, 3, 1, 1]), { pad: 1 }));
    expect(Array.from(y)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('rejects bad inputs', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(randomF32(2 * 5 * 5 * 3, 1), [2, 5, 5, 3]);
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(9 * 2 * 4, 1), [3, 3, 2, 4]))).toThrow(OpInputError); // Cin mismatch
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(49 * 3, 1), [7, 7, 3, 1]))).toThrow(OpInputError); // does not fit
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(27, 1), [3, 3, 3, 1]), { stride: 0 })).toThrow(OpInputError);
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(27, 1), [3, 3, 3, 1]), { bias: gpu.tensor(randomF32(2, 1), [2]) })).toThrow(OpInputError);
  });
});
