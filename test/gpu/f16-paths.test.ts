// The two ways f16 weights are read (shaders/lib/f16_native.wgsl with `shader-f16`, f16_packed.wgsl
// without it), on the GPU vs the CPU twins and vs each other:
// - on a device with `shader-f16` (lavapipe: this test insists it has it there) both paths run the
//   same matmul (tiled and blocked, B and Bᵀ, bias, GELU, ragged shapes) over f16 values that include
//   subnormals and ±0, and the embedding over those and ±65504 (not in the matmul: one such term
//   would make the f32 rounding of the sum, not the read, what the twin comparison measures): native
//   and packed are bitwise equal (the same f16 values, widened exactly, summed in the same order),
//   matmul is within atol 1e-4 + rtol 1e-4 of the twin and the embedding equals it exactly;
// - a device without the feature (SwiftShader, or f16: 'packed' / SAMPLESCOPE_F16=packed) runs the
//   packed path, refuses 'native' with OpInputError, and never compiles a module with `enable f16`;
// - the pipeline cache keeps the variants apart and the source differs only by the lib piece.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import { toF16 } from '../../src/backend/f16.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { OpInputError } from '../../src/errors.js';
import { kernelSource } from '../../src/gpu/kernels.js';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';

/** f16 bits of random values, with special values spliced in: subnormals, ±0, the smallest normal (and ±max) */
function f16Weights(n: number, seed: number, max = false): Uint16Array {
  const w = toF16(randomF32(n, seed)) as Uint16Array;
  const special = [0x0001, 0x83ff, 0x0000, 0x8000, 0x0400, 0x8400, 0x03ff, ...(max ? [0x7bff, 0xfbff] : [])];
  for (let i = 0; i < n; i += 7) w[i] = special[(i / 7) % special.length];
  return w;
}

/** modules compiled by a backend's device from here on (their WGSL) */
function spyModules(be: WebGPUBackend): string[] {
  const codes: string[] = [];
  const dev = be.runtime.device;
  const create = dev.createShaderModule.bind(dev);
  dev.createShaderModule = (d: GPUShaderModuleDescriptor) => {
    codes.push(d.code);
    return create(d);
  };
  return codes;
}

/** matmul and embedding over f16 weights on one backend, as plain arrays */
async function run(be: typeof cpu, path: 'tiled' | 'blocked' | 'cpu') {
  const out: number[][] = [];
  for (const [M, K, N, transB, act] of [
    [5, 37, 19, true, 'none'],
    [70, 40, 66, false, 'gelu'],
    [64, 96, 33, true, 'none'],
  ] as const) {
    const g = be as WebGPUBackend;
    if (path !== 'cpu') g.matmulPath = path;
    const w = f16Weights(K * N, M + K + N);
    const B = be.tensor(w, transB ? [N, K] : [K, N]);
    const a = be.tensor(randomF32(M * K, M), [M, K]);
    const bias = be.tensor(randomF32(N, N), [N]);
    out.push([...(await be.read(be.matmul(a, B, { transB, bias, activation: act })))]);
    if (path !== 'cpu') g.matmulPath = 'auto';
  }
  const [V, C] = [41, 13];
  const ids = be.tensor(new Uint32Array([0, 40, 7, 7, 13, 1, 22]), [7]);
  out.push([...(await be.read(be.embedding(ids, be.tensor(f16Weights(V * C, 3, true), [V, C]))))]);
  return out;
}

describe('f16 read paths', () => {
  it('native and packed agree bitwise with each other and with the twin (both where shader-f16 is offered)', async () => {
    const gpu = await gpuBackend();
    const a = gpu.info.adapter!;
    const lavapipe = /llvmpipe|lavapipe/i.test(`${a.description} ${a.device}`);
    const has = gpu.runtime.ctx.features.has('shader-f16');
    console.log(`[f16] shader-f16: ${has ? 'yes' : 'no'}; default path ${gpu.f16Path}`);
    if (lavapipe) expect(has).toBe(true); // lavapipe offers it: both paths must be tested there
    // the default: native where the device has the feature on a hardware adapter; packed on software ones
    expect(gpu.f16Path).toBe(has && !gpu.runtime.ctx.adapter.software ? 'native' : 'packed');
    expect(gpu.info.f16).toBe(gpu.f16Path);
    const dflt = gpu.f16Path;
    const codes = spyModules(gpu);
    const want = await run(cpu, 'cpu');
    const paths = has ? (['native', 'packed'] as const) : (['packed'] as const);
    for (const mm of ['tiled', 'blocked'] as const) {
      const got: Record<string, number[][]> = {};
      for (const p of paths) {
        gpu.f16Path = p;
        got[p] = await run(gpu, mm);
        expect(gpu.info.f16).toBe(p);
      }
      gpu.f16Path = dflt; // the shared backend goes back to its default for the other tests
      for (const p of paths) {
        for (let i = 0; i < 3; i++) expectClose(got[p][i], want[i], 1e-4, 1e-4);
        expect(got[p][3]).toEqual(want[3]); // the embedding widens exactly
      }
      if (has) expect(got.native).toEqual(got.packed);
    }
    // what ran: the native variant's modules where the feature is, never elsewhere
    expect(codes.filter((c) => c.startsWith('enable f16;')).length).toBe(has ? 2 : 0);
  });

  it('a device without shader-f16 runs the packed path and never compiles `enable f16`', async () => {
    for (const make of [
      () => createBackend({ prefer: 'webgpu', f16: 'packed' }),
      async () => {
        process.env.SAMPLESCOPE_F16 = 'packed';
        try {
          return await createBackend({ prefer: 'webgpu' });
        } finally {
          delete process.env.SAMPLESCOPE_F16;
        }
      },
    ]) {
      const be = (await make()) as WebGPUBackend;
      expect(be.runtime.device.features.has('shader-f16')).toBe(false);
      expect(be.f16Path).toBe('packed');
      expect(() => (be.f16Path = 'native')).toThrow(OpInputError);
      expect(() => be.runtime.pipelines.getPipeline({ kernel: 'matmul', variant: { f16: 'native' } })).toThrow(
        OpInputError,
      );
      const codes = spyModules(be);
      const got = await run(be, 'blocked');
      expectClose(got[0], (await run(cpu, 'cpu'))[0], 1e-4, 1e-4);
      expect(codes.length).toBeGreaterThanOrEqual(2); // matmul, embedding
      for (const c of codes) expect(c).not.toMatch(/enable f16/);
      be.destroy();
    }
  });

  it('SAMPLESCOPE_F16 with another value is a typed error', async () => {
    process.env.SAMPLESCOPE_F16 = 'fast';
    try {
      await expect(createBackend({ prefer: 'webgpu' })).rejects.toThrow(/SAMPLESCOPE_F16 must be/);
    } finally {
      delete process.env.SAMPLESCOPE_F16;
    }
  });

  it('one kernel source per op: the variants differ by the lib piece; the cache keys them apart', async () => {
    for (const k of ['matmul', 'embedding']) {
      const native = kernelSource(k, undefined, { f16: 'native' });
      const packed = kernelSource(k, undefined, { f16: 'packed' });
      expect(native.split('\n')[0]).toBe('enable f16;');
      expect(native.match(/enable f16;/g)).toHaveLength(1);
      expect(packed).not.toMatch(/enable f16/);
      expect(kernelSource(k)).toBe(packed);
      // the kernel's own text appears unchanged in both
      const own = packed.slice(packed.lastIndexOf(`// ${k} —`));
      expect(native.endsWith(own)).toBe(true);
    }
    const gpu = await gpuBackend();
    if (!gpu.runtime.ctx.features.has('shader-f16')) return; // only the packed variant exists there
    const cache = gpu.runtime.pipelines;
    const key = { kernel: 'embedding', constants: { WG: 64, TABLE_F16: true } };
    const p = cache.getPipeline({ ...key, variant: { f16: 'packed' } });
    const n = cache.getPipeline({ ...key, variant: { f16: 'native' } });
    expect(n).not.toBe(p);
    expect(cache.getPipeline(key)).toBe(p);
    await cache.check();
  });
});
