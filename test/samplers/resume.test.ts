// Checkpoint / resume: a sampler restarted from the checkpoint of any completed step, with the same
// options, returns exactly the samples of an uninterrupted run (randomness is counter-based by
// step). FHS, ancestral on a time grid and k-per-step (MDM), and DDIM/DDPM (diffusion), CPU backend;
// a checkpoint from another sampler or shape is a SamplerConfigError.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { SamplerConfigError } from '../../src/errors.js';
import { randomDenoiser, randomModel } from '../../src/models/random.js';
import type { SamplerCheckpoint } from '../../src/samplers/common.js';
import { sampleDiffusion, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';

const cpu = new CpuBackend();

describe('resume from a checkpoint', () => {
  const text = randomModel({ vocab: 5, length: 10, dModel: 8, heads: 2, classes: 2, scale: 2, seed: 3 }, cpu);
  it.each([
    ['fhs', { sampler: 'fhs' }],
    ['ancestral grid', { sampler: 'ancestral', steps: 12 }],
    ['ancestral k = 3', { sampler: 'ancestral', tokensPerStep: 3 }],
  ] as [string, Partial<MdmOptions>][])('MDM %s', async (_, o) => {
    const opts = { batch: 6, length: 10, seed: 4, classId: 1, guidance: 1.5, ...o } as MdmOptions;
    const cps: SamplerCheckpoint[] = [];
    const full = await sampleMdm(text, { ...opts, onStep: (p) => cps.push(p.checkpoint!) });
    expect(cps.length).toBeGreaterThan(2);
    for (const cp of [cps[0], cps[Math.floor(cps.length / 2)], cps[cps.length - 1]]) {
      const r = await sampleMdm(text, { ...opts, resume: structuredClone(cp) });
      expect(r.samples).toEqual(full.samples);
    }
    const err = await sampleMdm(text, { ...opts, length: 9, resume: cps[0] }).catch((e) => e);
    expect(err).toBeInstanceOf(SamplerConfigError);
  });

  const img = randomDenoiser({ seed: 2 }, cpu);
  it.each([
    [
      'ddim η = 0.5, guided',
      { sampler: 'ddim', steps: 8, eta: 0.5, classId: 1, guidance: 3, guidanceInterval: [20, 60] },
    ],
    ['ddpm', { sampler: 'ddpm', steps: 8, classId: 0 }],
  ] as [string, Partial<DiffusionOptions>][])('diffusion %s', async (_, o) => {
    const opts = { batch: 3, seed: 6, ...o } as DiffusionOptions;
    const cps: SamplerCheckpoint[] = [];
    const full = await sampleDiffusion(img, {
      ...opts,
      checkpoint: true,
      onStep: (p) => {
        cps.push(p.checkpoint!);
      },
    });
    for (const cp of [cps[0], cps[3], cps[7]]) {
      const r = await sampleDiffusion(img, { ...opts, resume: structuredClone(cp) });
      expect(r.images).toEqual(full.images);
    }
    const err = await sampleDiffusion(img, { ...opts, sampler: 'consistency', eta: undefined, resume: cps[0] }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SamplerConfigError);
  });

  it('checkpointEvery k: x read back after every k-th step only; resuming from one gives the same images', async () => {
    const opts = { sampler: 'ddim', steps: 20, batch: 2, seed: 8, classId: 1, previewEvery: 0 } as DiffusionOptions;
    const reads = async (k: number | undefined, o: Partial<DiffusionOptions> = {}) => {
      const be = new CpuBackend();
      const model = randomDenoiser({ seed: 2 }, be);
      let n = 0;
      const read = be.read.bind(be);
      be.read = (t) => (n++, read(t));
      const cps: SamplerCheckpoint[] = [];
      const r = await sampleDiffusion(model, {
        ...opts,
        ...o,
        checkpoint: true,
        checkpointEvery: k,
        onStep: (p) => void (p.checkpoint && cps.push(p.checkpoint)),
      });
      return { n, cps, images: r.images };
    };
    const every = await reads(undefined),
      tenth = await reads(10);
    // per step: one checkpoint read, plus the final images
    expect(every.n).toBe(20 + 1);
    expect(tenth.n).toBe(2 + 1);
    expect(tenth.cps.map((c) => c.next)).toEqual([10, 20]);
    expect(tenth.images).toEqual(every.images);
    const resumed = await sampleDiffusion(img, { ...opts, resume: structuredClone(tenth.cps[0]) });
    expect(resumed.images).toEqual(every.images);
    for (const bad of [0, 1.5, -1]) expect(await reads(bad).catch((e) => e)).toBeInstanceOf(SamplerConfigError);
  });
});
