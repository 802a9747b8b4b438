// f16 weights and weights split over bindings, on the GPU vs the CPU twins:
// - (matmul with an f16 B is in matmul.test.ts's property, beside the f32 one)
// - the embedding gathers f16 rows exactly (widening is exact);
// - under a limits cap (the simulator) a weight larger than one binding is split into row blocks,
//   and matmul (transB, the head) and embedding give bit-identical results to the unsplit run — the
//   same kernel, the same summation per output; a split (K, N) B, any other op on a split tensor, and
//   a row larger than a binding are refused with LimitExceededError, and so is a tensor past the
//   binding that is not uploaded as a weight.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import { toF16 } from '../../src/backend/f16.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { LimitExceededError } from '../../src/errors.js';
import { cpu, gpuBackend, randomF32 } from '../util/gpu.js';

const f16 = (n: number, seed: number) => toF16(randomF32(n, seed)) as Uint16Array;

describe('f16 weights (webgpu vs twin)', () => {
  it('embedding gathers f16 rows exactly, odd widths included; reads back the f16 bits', async () => {
    const gpu = await gpuBackend();
    for (const [V, C] of [
      [7, 5],
      [33, 16],
    ]) {
      const table = f16(V * C, V);
      const ids = new Uint32Array([0, V - 1, 3, 3, 1]);
      const run = async (be: typeof cpu) => be.read(be.embedding(be.tensor(ids, [5]), be.tensor(table, [V, C])));
      expect([...(await run(gpu))]).toEqual([...(await run(cpu))]);
      const t = gpu.tensor(table, [V, C]);
      expect(t.dtype).toBe('f16');
      expect([...(await gpu.read(t))]).toEqual([...table]);
    }
  });
});

describe('weights past one binding (limits cap)', () => {
  const capped = (bytes: number) =>
    createBackend({ prefer: 'webgpu', limitsCap: { maxStorageBufferBindingSize: bytes } }) as Promise<WebGPUBackend>;

  it('matmul (transB) and embedding over row blocks equal the unsplit run, f32 and f16', async () => {
    const whole = await gpuBackend();
    const split = await capped(4096); // 1024 f32 / 2048 f16 per binding
    for (const dtype of ['f32', 'f16'] as const) {
      const [V, C, M] = [301, 24, 3]; // V·C > one binding in both dtypes: 3 or 6 blocks, ragged last
      const w32 = randomF32(V * C, 5);
      const w = dtype === 'f16' ? (toF16(w32) as Uint16Array) : w32;
      const x = randomF32(M * C, 6);
      const bias = randomF32(V, 7);
      const ids = new Uint32Array([0, 300, 41, 42, 170, 299, 7, 1000]); // 1000: out of range → NaN
      for (const path of ['tiled', 'blocked'] as const) {
        const run = async (be: WebGPUBackend) => {
          be.matmulPath = path;
          const W = be.tensor(w, [V, C], { weight: true });
          const y = await be.read(be.matmul(be.tensor(x, [M, C]), W, { transB: true, bias: be.tensor(bias, [V]) }));
          const e = await be.read(be.embedding(be.tensor(ids, [8]), W));
          be.matmulPath = 'auto';
          return { y: [...y], e: [...e], blocks: (W as { blocks?: unknown[] }).blocks?.length ?? 1 };
        };
        const [a, b] = [await run(whole), await run(split)];
        expect(a.blocks).toBe(1);
        expect(b.blocks).toBe(dtype === 'f16' ? 4 : 8);
        expect(b.y).toEqual(a.y);
        expect(b.e).toEqual(a.e);
        expect(Number.isNaN(b.e[7 * C])).toBe(true);
      }
    }
  });

  it('refuses what a split cannot serve, with the binding limit named', async () => {
    const be = await capped(4096);
    const W = be.tensor(randomF32(2048, 1), [64, 32], { weight: true }); // 8 KiB: two blocks
    const x = be.tensor(randomF32(64, 2), [2, 32]);
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof LimitExceededError ? e.limit : String(e);
      }
      return 'no error';
    };
    expect(refused(() => be.matmul(be.tensor(randomF32(128, 3), [2, 64]), W))).toBe('maxStorageBufferBindingSize');
    expect(refused(() => be.gelu(W))).toBe('maxStorageBufferBindingSize');
    expect(refused(() => be.tensor(new Float32Array(2050), [2, 1025], { weight: true }))).toBe(
      'maxStorageBufferBindingSize',
    );
    // not a weight: past one binding it is refused, not split
    expect(refused(() => be.tensor(new Float32Array(2048), [64, 32]))).toBe('maxStorageBufferBindingSize');
    expect(await be.read(be.matmul(x, W, { transB: true }))).toHaveLength(128);
    be.free(W);
    expect(W.freed).toBe(true);
  });
});
