// conv2d kernel vs twin over ragged shapes (square and rectangular kernels 1–4, stride 1–3, padding
// 0–2, odd sizes), plus one model-sized case (14×14, 32 → 64 channels, 3×3: 288 products per output):
// atol 1e-5 + rtol 1e-4 (f32 accumulation in a different order than the twin's f64; a random walk
// over ≤ 288 products of values in [-1, 1] errs by ~1e-6, an indexing bug by O(0.1)). Bad shapes,
// dtypes, options and out tensors are OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpInputError } from '../../src/errors.js';
import type { Activation } from '../../src/ops/elementwise.js';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

const ATOL = 1e-5,
  RTOL = 1e-4;

describe('conv2d (webgpu vs twin)', () => {
  it('matches the twin', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 3, max: 13 }),
          W: fc.integer({ min: 3, max: 13 }),
          Cin: fc.integer({ min: 1, max: 9 }),
          Cout: fc.integer({ min: 1, max: 11 }),
          KH: fc.integer({ min: 1, max: 3 }),
          KW: fc.integer({ min: 1, max: 4 }),
          stride: fc.integer({ min: 1, max: 3 }),
          pad: fc.integer({ min: 0, max: 2 }),
          bias: fc.boolean(),
          act: fc.constantFrom<Activation>('none', 'relu', 'gelu', 'silu'),
          seed: fc.nat(),
        }),
        async ({ B, H, W, Cin, Cout, KH, KW, stride, pad, bias, act, seed }) => {
          const x = randomF32(B * H * W * Cin, seed),
            w = randomF32(KH * KW * Cin * Cout, seed + 1),
            b = randomF32(Cout, seed + 2);
          const run = async (be: typeof cpu) =>
            be.read(
              be.conv2d(be.tensor(x, [B, H, W, Cin]), be.tensor(w, [KH, KW, Cin, Cout]), {
                bias: bias ? be.tensor(b, [Cout]) : undefined,
                stride,
                pad,
                activation: act,
              }),
            );
          expectClose(
            await run(gpu),
            await run(cpu),
            ATOL,
            RTOL,
            `conv ${B}×${H}×${W}×${Cin} k${KH}×${KW} s${stride} p${pad} ${act}`,
          );
        },
      ),
      { numRuns: 15, seed: 3 },
    );
  });

  it('matches the twin at model size (14×14, 32 → 64 channels, 3×3, pad 1, ReLU)', async () => {
    const gpu = await gpuBackend();
    const [B, H, W, Cin, Cout] = [2, 14, 14, 32, 64];
    const x = randomF32(B * H * W * Cin, 5),
      w = randomF32(9 * Cin * Cout, 6, 0.2),
      b = randomF32(Cout, 7);
    const run = async (be: typeof cpu) =>
      be.read(
        be.conv2d(be.tensor(x, [B, H, W, Cin]), be.tensor(w, [3, 3, Cin, Cout]), {
          bias: be.tensor(b, [Cout]),
          pad: 1,
          activation: 'relu',
        }),
      );
    expectClose(await run(gpu), await run(cpu), ATOL, RTOL, 'model-sized conv');
  });

  it('a 1×1 convolution is a matmul, and a known 3×3 case', async () => {
    const gpu = await gpuBackend();
    // 3×3 all-ones kernel over a 3×3 ramp with pad 1: each output is the sum of its neighbourhood
    const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const y = await gpu.read(
      gpu.conv2d(gpu.tensor(x, [1, 3, 3, 1]), gpu.tensor(new Float32Array(9).fill(1), [3, 3, 1, 1]), { pad: 1 }),
    );
    expect(Array.from(y)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('rejects bad inputs', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(randomF32(2 * 5 * 5 * 3, 1), [2, 5, 5, 3]);
    // Cin mismatch
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(9 * 2 * 4, 1), [3, 3, 2, 4]))).toThrow(OpInputError);
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(49 * 3, 1), [7, 7, 3, 1]))).toThrow(OpInputError); // does not fit
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(27, 1), [3, 3, 3, 1]), { stride: 0 })).toThrow(OpInputError);
    expect(() =>
      gpu.conv2d(x, gpu.tensor(randomF32(27, 1), [3, 3, 3, 1]), { bias: gpu.tensor(randomF32(2, 1), [2]) }),
    ).toThrow(OpInputError);
    const w = gpu.tensor(randomF32(27, 1), [3, 3, 3, 1]);
    expect(() => gpu.conv2d(gpu.tensor(randomF32(75, 1), [5, 5, 3]), w)).toThrow(/rank 4/); // x not NHWC
    expect(() => gpu.conv2d(x, gpu.tensor(randomF32(9, 1), [3, 3, 1]))).toThrow(/rank 4/); // w not (KH, KW, Cin, Cout)
    expect(() => gpu.conv2d(gpu.tensor(new Uint32Array(150), [2, 5, 5, 3]), w)).toThrow(/f32/);
    expect(() => gpu.conv2d(x, w, { pad: -1 })).toThrow(OpInputError);
    expect(() => gpu.conv2d(x, w, { stride: 1.5 })).toThrow(OpInputError);
    expect(() => gpu.conv2d(x, w, { activation: 'tanh' as Activation })).toThrow(/activation/);
    // no output channels
    expect(() => gpu.conv2d(x, gpu.tensor(new Float32Array(0), [3, 3, 3, 0]))).toThrow(OpInputError);
    expect(() => gpu.conv2d(x, w, { out: gpu.empty([2, 5, 5, 1]) })).toThrow(/out has shape/); // out is (2, 3, 3, 1)
    expect(() => gpu.conv2d(x, w, { out: gpu.empty([2, 3, 3, 1], 'u32') })).toThrow(OpInputError);
    const out = gpu.empty([2, 3, 3, 1]);
    expect(gpu.conv2d(x, w, { out })).toBe(out);
  });
});
