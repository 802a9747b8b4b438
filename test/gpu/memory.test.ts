// Peak GPU memory of a forward (issue 19 item 3): every activation goes back to the pool after its last use
// (src/models/denoiser.ts, transformer.ts) and the pool's size classes are four per doubling with reuse up to
// twice a request (src/gpu/buffer-pool.ts). The bench's shapes, against what onnxruntime-web's WebGPU EP took
// on the same models (bench/results/2026-11-27-…-b.md, Chromium/SwiftShader): digits-diffusion B = 64 63.1 MiB,
// text-mdm B = 64, L = 64 57.2 MiB; ours before this change 127.2 and 32.8 MiB. Measured here after it:
// 13.5 MiB and 24.4 MiB of pool bytes (weights included, sized exactly). The bounds are ORT's halved and ORT's.
import { describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { loadDenoiser, loadModel } from '../../src/models/index.js';
import { gpuBackend } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

const MiB = 2 ** 20;

describe('peak GPU memory of a forward at B = 64', () => {
  it('digits-diffusion ≤ half of ORT WebGPU EP, text-mdm (L = 64) ≤ ORT; a second forward allocates nothing', async () => {
    const be = (await gpuBackend()) as WebGPUBackend;
    const pool = be.runtime.pool;
    const start = pool.stats().bytes;
    const d = await loadDenoiser(MODELS + 'digits-diffusion', be);
    const B = 64,
      S = d.imageSize;
    const x = be.tensor(new Float32Array(B * S * S * d.channels), [B, S, S, d.channels]);
    const run = async () => {
      const y = await d.forward({ x, t: new Uint32Array(B).fill(500), classes: new Uint32Array(B).fill(3) });
      await be.read(y);
      be.free(y);
    };
    await run();
    const digits = pool.stats().bytes - start;
    const created = pool.stats().created;
    await run();
    expect(pool.stats().created).toBe(created);
    console.log(`[memory] digits-diffusion B=64: ${(digits / MiB).toFixed(1)} MiB`);
    expect(digits).toBeLessThanOrEqual(63.09 * MiB * 0.5);
    be.free(x);
    d.dispose();
    pool.trim();

    const base = pool.stats().bytes;
    const m = await loadModel(MODELS + 'text-mdm', be);
    const L = 64;
    const y = await m.forward({
      tokens: new Uint32Array(B * L).fill(m.maskId!),
      batch: B,
      length: L,
      classes: new Uint32Array(B).fill(2),
    });
    await be.read(y);
    be.free(y);
    const text = pool.stats().bytes - base;
    console.log(`[memory] text-mdm B=64 L=64: ${(text / MiB).toFixed(1)} MiB`);
    expect(text).toBeLessThanOrEqual(57.21 * MiB);
    m.dispose();
  }, 120_000);
});
