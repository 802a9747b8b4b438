// Samplers on the WebGPU backend: FHS, ASSD, cached sequential and speculative decoding (its
// accept/reject in the spec_verify kernel) draw from the exact distributions of the toy models (χ²,
// 20,000 samples, seed 2026, p > 0.01), and a steady-state sampling step creates no GPU buffers.
import { describe, expect, it } from 'vitest';
import { randomModel } from '../../src/models/random.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { sampleSpeculative } from '../../src/samplers/speculative.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { anyOrderMixture, sequenceIndex, sequentialDistribution } from '../util/exact.js';
import { gpuBackend } from '../util/gpu.js';

const L = 4,
  R = 3,
  N = 20000;

function counts(samples: Uint32Array): number[] {
  const c = new Array(R ** L).fill(0);
  for (let b = 0; b < N; b++) c[sequenceIndex(samples, b, L, R)]++;
  return c;
}

describe('samplers on webgpu', () => {
  it('FHS with guidance matches the exact guided mixture', async () => {
    const gpu = await gpuBackend();
    const model = randomModel({ vocab: R, length: L, classes: 2, scale: 2.5, seed: 7 }, gpu);
    const res = await sampleMdm(model, { batch: N, length: L, seed: 2026, sampler: 'fhs', classId: 0, guidance: 2 });
    expect(res.backend).toBe('webgpu');
    expect(res.nfe).toBe(2 * L);
    const p = await anyOrderMixture(model, { length: L, classId: 0, guidance: 2 });
    expect(chiSquare(counts(res.samples), p).pValue).toBeGreaterThan(0.01);
    model.dispose();
  });

  it('ASSD matches the exact sequential distribution', async () => {
    const gpu = await gpuBackend();
    const model = randomModel({ vocab: R, length: L, classes: 2, twoStream: true, scale: 2.5, seed: 3 }, gpu);
    const sigma = Uint32Array.from([3, 1, 0, 2]);
    const res = await sampleAsarm(model, { batch: N, length: L, seed: 2026, sampler: 'assd', draft: 3, order: sigma });
    const p = await sequentialDistribution(model, L, sigma);
    expect(chiSquare(counts(res.samples), p).pValue).toBeGreaterThan(0.01);
    expect(res.rowNfe.every((v, b) => v <= res.rowTokens[b])).toBe(true);
    model.dispose();
  });

  it('speculative decoding (guided, T = 0.8, top-k 2, k = 3) and cached sequential match the exact law', async () => {
    const gpu = await gpuBackend();
    const spec = { vocab: R, length: L, classes: 2, twoStream: true, scale: 2.5, dModel: 8, heads: 2 };
    const target = randomModel({ ...spec, layers: 2, seed: 3 }, gpu);
    const draft = randomModel({ ...spec, layers: 1, seed: 11 }, gpu);
    const knobs = { classId: 0, guidance: 2, temperature: 0.8, topK: 2 };
    const ltr = Uint32Array.from([0, 1, 2, 3]);
    const p = await sequentialDistribution(target, L, ltr, knobs);
    const created: number[] = [];
    const res = await sampleSpeculative(target, {
      batch: N,
      length: L,
      seed: 2026,
      draftModel: draft,
      draft: 3,
      ...knobs,
      onStep: () => created.push(gpu.stats().buffersCreated),
    });
    expect(res.backend).toBe('webgpu');
    expect(chiSquare(counts(res.samples), p).pValue).toBeGreaterThan(0.01);
    expect(res.accepted).toBeLessThan(res.proposed);
    // rounds after the first reuse the pool: no buffer created inside the loop
    for (let s = 2; s < created.length; s++) expect(created[s] - created[s - 1]).toBe(0);
    const seq = await sampleAsarm(target, {
      batch: N,
      length: L,
      seed: 7,
      sampler: 'sequential',
      order: ltr,
      ...knobs,
    });
    expect(seq.knobs.kvCache).toBe(true);
    expect(chiSquare(counts(seq.samples), p).pValue).toBeGreaterThan(0.01);
    target.dispose();
    draft.dispose();
  });

  it('no GPU buffer is created inside the sampling loop after the first step', async () => {
    const gpu = await gpuBackend();
    const model = randomModel({ vocab: 20, length: 16, dModel: 32, heads: 4, layers: 2, seed: 9 }, gpu);
    const created: number[] = [];
    await sampleMdm(model, {
      batch: 8,
      length: 16,
      seed: 1,
      sampler: 'fhs',
      topP: 0.9,
      onStep: () => created.push(gpu.stats().buffersCreated),
    });
    expect(created.length).toBe(16);
    // step 0 warms the pool (activations, staging); every later step reuses it
    for (let s = 2; s < created.length; s++) expect(created[s] - created[s - 1]).toBe(0);
    model.dispose();
  });
  it('continuous batching on WebGPU: refilled slots create no buffer; samples = the single-sample runs', async () => {
    const gpu = await gpuBackend();
    const spec = { vocab: 5, length: 8, classes: 2, twoStream: true, scale: 2.5, dModel: 16, heads: 2 };
    const target = randomModel({ ...spec, layers: 2, seed: 3 }, gpu);
    const draft = randomModel({ ...spec, layers: 1, seed: 11 }, gpu);
    const base = { length: 8, seed: 12, classId: 1 };
    for (const run of [
      (o: { batch: number; samples: number; firstSample?: number; onStep?: () => void }) =>
        sampleAsarm(target, { ...base, ...o, sampler: 'assd', draft: 3 }),
      (o: { batch: number; samples: number; firstSample?: number; onStep?: () => void }) =>
        sampleSpeculative(target, { ...base, ...o, draftModel: draft, draft: 2 }),
    ]) {
      // the first run meets every pass shape (a draft pass appending 2 tokens may first come late, by chance);
      // the second, with the pool warm, creates no buffer in any round, refills included
      await run({ batch: 4, samples: 24 });
      const created: number[] = [];
      const before = gpu.stats().buffersCreated;
      const cont = await run({ batch: 4, samples: 24, onStep: () => created.push(gpu.stats().buffersCreated) });
      expect(created.length).toBeGreaterThan(8); // many rounds, slots refilled along the way
      expect(created.every((c) => c === before)).toBe(true);
      for (const i of [0, 5, 23]) {
        const one = await run({ batch: 1, samples: 1, firstSample: i });
        expect(Array.from(one.samples)).toEqual(Array.from(cont.samples.subarray(i * 8, (i + 1) * 8)));
      }
    }
    target.dispose();
    draft.dispose();
  });
});
