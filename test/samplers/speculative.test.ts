// Speculative decoding (issue 18) on enumerable toy models: a 2-layer two-stream target (3 tokens +
// [MASK], length 4) and a different random 1-layer draft. Every variant must draw from the target's
// exact left-to-right sequential law Π p(x_i | x_<i) (after guidance, temperature and top-k) — χ² over
// 81 sequences, 20,000 samples, fixed seeds, p > 0.01 — and the wrong variant that skips the residual
// (draws from p instead of normalize(max(p − q, 0)) on rejection) must be rejected by the same test
// (p < 1e-6). Runs on the CPU backend (the KV cache's GPU parity is test/gpu/kv-cache.test.ts).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { OpInputError, SamplerConfigError } from '../../src/errors.js';
import { randomModel } from '../../src/models/random.js';
import { sampleSpeculative, type SpeculativeOptions } from '../../src/samplers/speculative.js';
import type { SamplerCheckpoint } from '../../src/samplers/common.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { conditioned, sequenceIndex, sequentialDistribution } from '../util/exact.js';

const cpu = new CpuBackend();
const L = 4,
  R = 3,
  N = 20000;
const spec = { vocab: R, length: L, dModel: 8, heads: 2, classes: 2, twoStream: true, scale: 2.5 };
const target = randomModel({ ...spec, layers: 2, seed: 3 }, cpu);
const draft = randomModel({ ...spec, layers: 1, seed: 11 }, cpu);
const l2r = Uint32Array.from([0, 1, 2, 3]);

type Opts = Partial<SpeculativeOptions>;
async function fit(o: Opts, exact: Parameters<typeof sequentialDistribution>[3] = {}, seed = 2026) {
  const res = await sampleSpeculative(target, { batch: N, length: L, seed, draftModel: draft, ...o });
  const counts = new Array(R ** L).fill(0);
  for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
  const p = await sequentialDistribution(target, L, l2r, exact);
  return { res, chi: chiSquare(counts, p) };
}

describe('speculative decoding draws from the target exactly', () => {
  it('the draft is a poor match for the target (so rejections happen often)', async () => {
    const p = await sequentialDistribution(target, L, l2r);
    const q = await sequentialDistribution(draft, L, l2r);
    let tv = 0;
    for (let i = 0; i < p.length; i++) tv += Math.abs(p[i] - q[i]) / 2;
    expect(tv).toBeGreaterThan(0.3);
  });

  it.each([[1], [2], [4]])('draft k = %i: χ² fit; NFE of the target ≤ tokens', async (k) => {
    const { res, chi } = await fit({ draft: k });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.accepted).toBeGreaterThan(0);
    expect(res.accepted).toBeLessThan(res.proposed);
    for (let b = 0; b < N; b++) expect(res.rowTokens[b]).toBe(L);
    expect(res.nfe).toBeLessThanOrEqual(L + 1); // prefill + at most one verify per token
    expect(res.draftNfe).toBeGreaterThan(0);
  });

  it('adaptive draft length (k ≤ 4, +2 / −1 by acceptance): still exact', async () => {
    const { res, chi } = await fit({ draft: 4, adaptiveDraft: true });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.knobs.adaptiveDraft).toBe(true);
  });

  it('temperature 0.7', async () => {
    const { chi } = await fit({ draft: 2, temperature: 0.7 }, { temperature: 0.7 });
    expect(chi.pValue).toBeGreaterThan(0.01);
  });

  it('top-k 2 (the same truncation on both models)', async () => {
    const { chi } = await fit({ draft: 2, topK: 2 }, { topK: 2 });
    expect(chi.pValue).toBeGreaterThan(0.01);
  });

  it('guidance s = 2 on class 0 (both models guided)', async () => {
    const { res, chi } = await fit({ draft: 3, classId: 0, guidance: 2 }, { classId: 0, guidance: 2 });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe % 2).toBe(0); // two passes per target call
  });

  it('self-speculation: the target with its second layer skipped as the draft', async () => {
    const { res, chi } = await fit({ draft: 2, draftModel: { layers: 1 } });
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.knobs.draftModel).toBe('self:1');
  });

  it('a prompt prefix: the conditional law given it', async () => {
    const res = await sampleSpeculative(target, {
      batch: N,
      length: L,
      seed: 7,
      draftModel: draft,
      draft: 2,
      prompt: Int32Array.from([1, -1, -1, -1]),
    });
    const p = await sequentialDistribution(target, L, l2r);
    const counts = new Array(R ** L).fill(0);
    const cond = conditioned(p, (i) => Math.floor(i / R ** (L - 1)) === 1);
    for (let b = 0; b < N; b++) {
      expect(res.samples[b * L]).toBe(1);
      counts[sequenceIndex(res.samples, b, L, R)]++;
    }
    expect(chiSquare(counts, cond).pValue).toBeGreaterThan(0.01);
  });

  it('the wrong variant (no residual on rejection) is caught by the same test', async () => {
    const { chi } = await fit({ draft: 2, unsafeSkipResidual: true });
    expect(chi.pValue).toBeLessThan(1e-6);
  });

  it('a run resumed from the checkpoint of a round gives the same samples (and a foreign checkpoint is refused)', async () => {
    const o = { batch: 64, length: L, seed: 9, draftModel: draft, draft: 2, classId: 1, guidance: 1.5 };
    const cps: SamplerCheckpoint[] = [];
    const whole = await sampleSpeculative(target, { ...o, onStep: (p) => cps.push(p.checkpoint!) });
    expect(cps.length).toBeGreaterThan(1);
    const resumed = await sampleSpeculative(target, { ...o, resume: cps[0] });
    expect(resumed.samples).toEqual(whole.samples);
    expect(resumed.accepted).toBe(whole.accepted);
    expect(resumed.proposed).toBe(whole.proposed);
    const e = await sampleSpeculative(target, { ...o, batch: 2, resume: cps[0] }).catch((x) => x);
    expect(e).toBeInstanceOf(SamplerConfigError);
    expect(e.knob).toBe('resume');
  });

  it('bad input: typed errors before anything runs', async () => {
    const base = { batch: 2, length: L, seed: 1 };
    const otherVocab = randomModel({ ...spec, vocab: 4, layers: 1, seed: 12 }, cpu);
    const noClasses = randomModel({ ...spec, classes: 0, layers: 1, seed: 13 }, cpu);
    const otherBackend = randomModel({ ...spec, layers: 1, seed: 14 }, new CpuBackend());
    const bidir = randomModel({ ...spec, twoStream: false, layers: 1, seed: 15 }, cpu);
    const err = (o: Opts, m = target) =>
      sampleSpeculative(m, { ...base, draftModel: draft, ...o } as SpeculativeOptions).then(
        () => null,
        (e) => e,
      );
    for (const d of [otherVocab, noClasses, otherBackend, bidir, { layers: 3 }, { layers: 0 }]) {
      const e = await err({ draftModel: d });
      expect(e).toBeInstanceOf(SamplerConfigError);
      expect(e.knob).toBe('draftModel');
    }
    for (const k of [0, L + 1, 1.5]) {
      const e = await err({ draft: k });
      expect(e).toBeInstanceOf(SamplerConfigError);
      expect(e.knob).toBe('draft');
    }
    expect(await err({}, bidir)).toBeInstanceOf(OpInputError);
  });
});
