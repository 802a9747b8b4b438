// The diffusion samplers on WebGPU with a small random-weight DiT (8×8 images, patch 4, 100
// timesteps): the same seed gives the same images as the CPU backend within atol 1e-3 (f32 vs f64
// through 10 steps of a random network; DDIM η = 0 and DDPM with noise), guided sampling included;
// and after the first step, no GPU buffer is created inside the sampling loop.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { randomDenoiser } from '../../src/models/random.js';
import { sampleDiffusion, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { expectClose, gpuBackend } from '../util/gpu.js';

describe('diffusion samplers on webgpu', () => {
  it.each([
    ['ddim η = 0, guided', { sampler: 'ddim', steps: 10, classId: 1, guidance: 3 }],
    ['ddpm, 10 steps', { sampler: 'ddpm', steps: 10, classId: 0 }],
    ['consistency, 3 steps', { sampler: 'consistency', steps: 3 }],
  ] as [string, Partial<DiffusionOptions>][])('%s: same images as the cpu backend', async (_, o) => {
    const gpu = await gpuBackend();
    const run = async (be: typeof gpu | CpuBackend) => {
      const m = randomDenoiser({ seed: 3 }, be);
      const r = await sampleDiffusion(m, { batch: 5, seed: 7, ...o } as DiffusionOptions);
      m.dispose();
      return r;
    };
    const [g, c] = [await run(gpu), await run(new CpuBackend())];
    expect(g.backend).toBe('webgpu');
    expect(g.nfe).toBe(c.nfe);
    expectClose(g.images, c.images, 1e-3, 1e-3, 'images');
  });

  it('creates no buffers inside the loop', async () => {
    const gpu = await gpuBackend();
    const m = randomDenoiser({ seed: 4 }, gpu);
    const created: number[] = [];
    await sampleDiffusion(m, {
      batch: 4,
      seed: 1,
      sampler: 'ddim',
      steps: 8,
      classId: 2,
      guidance: 2.5,
      guidanceInterval: [30, 70],
      previewEvery: 3,
      onStep: () => {
        created.push(gpu.stats().buffersCreated);
      },
    });
    expect(created.length).toBe(8);
    // step 0 warms the pool; guided and unguided steps (different batch sizes) both occur by step 3
    for (let s = 4; s < created.length; s++) expect(created[s] - created[s - 1]).toBe(0);
    m.dispose();
  });
});
