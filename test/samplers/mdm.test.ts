// Masked-diffusion samplers on toy models small enough to enumerate (3 tokens + [MASK], length 4,
// random weights): FHS and ancestral with one random token per step must draw from the exact
// any-order mixture E_σ Π p(x_σ(i) | x_σ(<i)) — χ² over the 81 sequences, 20,000 samples, fixed
// seeds, p > 0.01 required; likewise with guidance (s = 0, 1, 2.5), temperature and an infill prompt.
// Plus NFE accounting and typed knob errors. (With seed 11 the infill case gave p = 0.006; reruns
// with 100,000 samples, seeds 21 and 22, gave p = 0.72 and 0.24, so that was chance; all cases now
// use seed 2026.)
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { SamplerConfigError } from '../../src/errors.js';
import { randomModel } from '../../src/models/random.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { anyOrderMixture, sequenceIndex } from '../util/exact.js';

const cpu = new CpuBackend();
const L = 4,
  R = 3,
  N = 20000;
const model = randomModel({ vocab: R, length: L, dModel: 8, heads: 2, classes: 2, scale: 2.5, seed: 7 }, cpu);

async function fit(
  o: Partial<MdmOptions> & Pick<MdmOptions, 'sampler'>,
  exactOpts: Parameters<typeof anyOrderMixture>[1] = { length: L },
) {
  const res = await sampleMdm(model, { batch: N, length: L, seed: 2026, ...o });
  const counts = new Array(R ** L).fill(0);
  for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
  const p = await anyOrderMixture(model, exactOpts);
  return { res, chi: chiSquare(counts, p), counts, p };
}

describe('MDM samplers match the exact any-order mixture', () => {
  it('the toy model is far from uniform and from independent positions (so the test has power)', async () => {
    const p = await anyOrderMixture(model, { length: L });
    const max = Math.max(...p),
      min = Math.min(...p);
    expect(max / min).toBeGreaterThan(20);
  });

  it('first-hitting sampler: χ² fit, NFE = L exactly, decreasing reveal times', async () => {
    const { res, chi } = await fit({ sampler: 'fhs' });
    expect(chi.impossible).toBe(0);
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(L);
    const t = res.revealTimes!;
    for (let b = 0; b < 5; b++) for (let s = 1; s < L; s++) expect(t[b * L + s]).toBeLessThan(t[b * L + s - 1]);
  });

  it('ancestral, one random token per step: χ² fit', async () => {
    const { res, chi } = await fit({ sampler: 'ancestral', tokensPerStep: 1 });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(L);
  });

  it('ancestral with two tokens per step is measurably not the mixture (parallel draws are independent)', async () => {
    const { res, chi } = await fit({ sampler: 'ancestral', tokensPerStep: 2 });
    expect(res.nfe).toBe(2);
    expect(chi.pValue).toBeLessThan(1e-6);
  });

  it.each([[0], [1], [2.5]])('guidance s = %f with class 1 matches the guided mixture', async (s) => {
    const { res, chi } = await fit({ sampler: 'fhs', classId: 1, guidance: s }, { length: L, classId: 1, guidance: s });
    expect(chi.pValue).toBeGreaterThan(0.01);
    // s ∉ {0, 1} costs an unconditional pass per step; s = 0 is one unconditional pass
    expect(res.nfe).toBe(s === 2.5 ? 2 * L : L);
  });

  it('guidance s = 0 is the unconditional model', async () => {
    const { chi } = await fit({ sampler: 'fhs', classId: 1, guidance: 0 }, { length: L });
    expect(chi.pValue).toBeGreaterThan(0.01);
  });

  it('temperature 0.7 and an infill prompt', async () => {
    const prompt = Int32Array.from([-1, 2, -1, -1]);
    const { res, chi } = await fit(
      { sampler: 'fhs', temperature: 0.7, prompt },
      { length: L, temperature: 0.7, prompt },
    );
    expect(chi.impossible).toBe(0); // position 1 is always 2
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(3);
  });

  it('ancestral on a time grid: NFE = steps, every position decided', async () => {
    const res = await sampleMdm(model, { batch: 64, length: L, seed: 1, sampler: 'ancestral', steps: 3 });
    expect(res.nfe).toBe(3);
    expect(res.samples.every((v) => v < R)).toBe(true);
    expect(res.stepTimesMs.length).toBe(3);
    expect(res.knobs).toMatchObject({ sampler: 'ancestral', steps: 3, temperature: 1, precision: 'precise' });
  });

  it('a fine time grid reuses logits across steps that reveal nothing: same samples, fewer passes', async () => {
    const o = { batch: 1, length: L, seed: 9, sampler: 'ancestral' as const, steps: 200 };
    for (const seed of [9, 10, 11]) {
      const cached = await sampleMdm(model, { ...o, seed });
      const plain = await sampleMdm(model, { ...o, seed, reuseLogits: false });
      expect(cached.samples).toEqual(plain.samples);
      expect(plain.nfe).toBe(plain.stepTimesMs.length); // one pass per step until the last reveal
      expect(plain.nfe).toBeGreaterThan(L);
      expect(cached.nfe).toBeLessThanOrEqual(L); // one pass per distinct partial sequence
      expect(cached.nfe).toBeGreaterThanOrEqual(1);
      expect(cached.knobs).toMatchObject({ steps: 200, reuseLogits: true });
    }
  });

  it('confidence order reveals the most probable draws first', async () => {
    const res = await sampleMdm(model, {
      batch: 32,
      length: L,
      seed: 2,
      sampler: 'ancestral',
      tokensPerStep: 2,
      order: 'confidence',
    });
    expect(res.nfe).toBe(2);
    expect(res.samples.every((v) => v < R)).toBe(true);
  });

  it('the same seed gives the same samples; another seed other samples', async () => {
    const a = await sampleMdm(model, { batch: 50, length: L, seed: 5, sampler: 'fhs' });
    const b = await sampleMdm(model, { batch: 50, length: L, seed: 5, sampler: 'fhs' });
    const c = await sampleMdm(model, { batch: 50, length: L, seed: 6, sampler: 'fhs' });
    expect(a.samples).toEqual(b.samples);
    expect(a.samples).not.toEqual(c.samples);
  });

  it.each([
    ['temperature', { temperature: -1 }],
    ['topP', { topP: 0 }],
    ['topP', { topP: 1.2 }],
    ['topK', { topK: -1 }],
    ['steps', { sampler: 'ancestral', steps: 0 }],
    ['tokensPerStep', { sampler: 'ancestral', tokensPerStep: 0 }],
    ['length', { length: 5 }],
    ['batch', { batch: 0 }],
    ['classId', { classId: 2 }],
    ['guidance', { guidance: 2 }],
    ['guidance', { classId: 0, guidance: NaN }],
    ['precision', { precision: 'fp8' }],
    ['seed', { seed: -1 }],
    ['prompt', { prompt: Int32Array.from([0, 3, 0, 0]) }],
    ['sampler', { sampler: 'ddim' }],
  ])('bad knob %s is a SamplerConfigError naming it', async (knob, patch) => {
    const err = await sampleMdm(model, {
      batch: 2,
      length: L,
      seed: 1,
      sampler: 'fhs',
      ...(patch as object),
    } as MdmOptions).catch((e) => e);
    expect(err).toBeInstanceOf(SamplerConfigError);
    expect(err.knob).toBe(knob);
    expect(err.message).toContain(knob);
  });
});
