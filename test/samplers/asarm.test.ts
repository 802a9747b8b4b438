// AS-ARM samplers on an enumerable two-stream toy model (3 tokens + [MASK], length 4): sequential
// sampling in a fixed order σ and ASSD with draft lengths 2, 3 and 4 must both draw from the exact
// sequential distribution Π p(x_σ(i) | x_σ(<i)) — χ² over 81 sequences, 20,000 samples, seed 2026,
// p > 0.01 — and ASSD must use no more passes than tokens on every row.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { SamplerConfigError } from '../../src/errors.js';
import { randomModel } from '../../src/models/random.js';
import { sampleAsarm, type AsarmOptions } from '../../src/samplers/asarm.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { conditioned, sequenceIndex, sequentialDistribution } from '../util/exact.js';

const cpu = new CpuBackend();
const L = 4,
  R = 3,
  N = 20000;
const model = randomModel(
  { vocab: R, length: L, dModel: 8, heads: 2, classes: 2, twoStream: true, scale: 2.5, seed: 3 },
  cpu,
);
const sigma = Uint32Array.from([2, 0, 3, 1]);

async function fit(o: Partial<AsarmOptions> & Pick<AsarmOptions, 'sampler'>, temperature = 1) {
  const res = await sampleAsarm(model, { batch: N, length: L, seed: 2026, order: sigma, ...o });
  const counts = new Array(R ** L).fill(0);
  for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
  const p = await sequentialDistribution(model, L, sigma, { temperature });
  return { res, chi: chiSquare(counts, p) };
}

describe('AS-ARM samplers match the exact sequential distribution', () => {
  it('the toy distribution is far from uniform', async () => {
    const p = await sequentialDistribution(model, L, sigma);
    expect(Math.max(...p) / Math.min(...p)).toBeGreaterThan(20);
  });

  it.each([[true], [false]])('sequential (KV cache %s): χ² fit, one pass per token', async (kvCache) => {
    const { res, chi } = await fit({ sampler: 'sequential', kvCache });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(L);
    expect(res.knobs.kvCache).toBe(kvCache);
    expect(res.rowNfe.every((v, b) => v === res.rowTokens[b])).toBe(true);
  });

  it('sequential on the KV cache with a prompt, ragged rows: the prompt is kept, the law given it', async () => {
    // row-dependent prompts (0, 1 or 2 fixed positions), σ = prompt first then the rest in sigma's order
    const prompt = new Int32Array(N * L).fill(-1);
    for (let b = 0; b < N; b++) {
      if (b % 3 >= 1) prompt[b * L + 2] = 1;
      if (b % 3 === 2) prompt[b * L + 0] = 0;
    }
    const res = await sampleAsarm(model, { batch: N, length: L, seed: 5, sampler: 'sequential', prompt, order: sigma });
    const p = await sequentialDistribution(model, L, sigma);
    for (const g of [1, 2]) {
      const keep = (i: number) => Math.floor(i / R) % R === 1 && (g === 1 || Math.floor(i / R ** 3) === 0);
      const cond = conditioned(p, keep);
      const counts = new Array(R ** L).fill(0);
      for (let b = g; b < N; b += 3) counts[sequenceIndex(res.samples, b, L, R)]++;
      expect(chiSquare(counts, cond).pValue).toBeGreaterThan(0.01);
    }
  });

  it.each([[2], [3], [4]])('ASSD with draft %i: χ² fit and NFE ≤ tokens on every row', async (draft) => {
    const { res, chi } = await fit({ sampler: 'assd', draft });
    expect(chi.pValue).toBeGreaterThan(0.01);
    for (let b = 0; b < N; b++) {
      expect(res.rowTokens[b]).toBe(L);
      if (res.rowNfe[b] > res.rowTokens[b])
        throw new Error(`row ${b}: ${res.rowNfe[b]} passes for ${res.rowTokens[b]} tokens`);
    }
    expect(res.accepted!).toBeGreaterThan(0);
    expect(res.accepted!).toBeLessThan(res.proposed!);
  });

  it('ASSD without the KV cache (full passes, accept/reject on the host in f64): χ² fit', async () => {
    const { res, chi } = await fit({ sampler: 'assd', draft: 3, kvCache: false });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.knobs.kvCache).toBe(false);
  });

  it('ASSD on the KV cache decides on the device: χ² with guidance and a prompt', async () => {
    const prompt = Int32Array.from([2, -1, -1, -1]);
    const sig = Uint32Array.from([0, 3, 1, 2]); // the prompt position first
    const res = await sampleAsarm(model, {
      batch: N,
      length: L,
      seed: 12,
      sampler: 'assd',
      draft: 3,
      classId: 1,
      guidance: 1.5,
      prompt,
      order: sig,
    });
    expect(res.knobs.kvCache).toBe(true);
    const p = await sequentialDistribution(model, L, sig, { classId: 1, guidance: 1.5 });
    const cond = conditioned(p, (i) => Math.floor(i / R ** (L - 1)) === 2);
    const counts = new Array(R ** L).fill(0);
    for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
    expect(chiSquare(counts, cond).pValue).toBeGreaterThan(0.01);
    expect(res.accepted!).toBeLessThan(res.proposed!);
  });

  it('ASSD at temperature 0.8 matches sequential at 0.8', async () => {
    const { chi } = await fit({ sampler: 'assd', draft: 3, temperature: 0.8 }, 0.8);
    expect(chi.pValue).toBeGreaterThan(0.01);
  });

  it('prompts are kept and placed first in σ', async () => {
    const res = await sampleAsarm(model, {
      batch: 200,
      length: L,
      seed: 4,
      sampler: 'assd',
      draft: 2,
      prompt: Int32Array.from([-1, 1, -1, -1]),
    });
    for (let b = 0; b < 200; b++) {
      expect(res.samples[b * L + 1]).toBe(1);
      expect(res.order[b * L]).toBe(1);
      expect(res.rowTokens[b]).toBe(3);
    }
  });

  it('bad knobs are SamplerConfigErrors', async () => {
    const e1 = await sampleAsarm(model, { batch: 2, length: L, seed: 1, sampler: 'assd', draft: 1 }).catch((e) => e);
    expect(e1).toBeInstanceOf(SamplerConfigError);
    expect(e1.knob).toBe('draft');
    const e2 = await sampleAsarm(model, {
      batch: 2,
      length: L,
      seed: 1,
      sampler: 'sequential',
      order: Uint32Array.from([0, 0, 1, 2]),
    }).catch((e) => e);
    expect(e2.knob).toBe('order');
  });
});
