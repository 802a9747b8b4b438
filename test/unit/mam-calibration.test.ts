// The MaM head's calibration properties that hold by construction, and the statistics the calibration
// report is made of:
// - the observed-softplus head: log p(∅) = 0 exactly for every class, and log p ≤ 0 for 10,000 random
//   partial inputs of a random-weight model with sharp weights (scale 4) — a property of the form,
//   whatever the weights; a window declared shorter than the model's is scored as the start of the
//   full window (the same numbers, bit for bit);
// - the softplus twin in both tails; Spearman and ROC AUC against hand-computed values;
// - manifests: marginal_form must be known and needs marginal_head and a mask id; a recorded calibration
//   must be complete and in range.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { ModelFormatError } from '../../src/errors.js';
import { rocAuc, spearman } from '../../src/metrics/mam-calibration.js';
import { validateManifest } from '../../src/models/manifest.js';
import { randomModel } from '../../src/models/random.js';
import { softplus } from '../../src/reference/elementwise.js';
import { logMarginals } from '../../src/samplers/mam.js';
import { FIXTURES } from '../util/models.js';

const cpu = new CpuBackend();

describe('observed-softplus MaM head', () => {
  const R = 5,
    L = 6;
  const model = randomModel(
    {
      vocab: R,
      length: L,
      dModel: 8,
      heads: 2,
      classes: 2,
      marginalHead: true,
      marginalForm: 'observed-softplus',
      scale: 4,
      seed: 9,
    },
    cpu,
  );

  it('log p(∅) is exactly 0 for every class and unconditionally', async () => {
    const empty = new Uint32Array(L).fill(R);
    for (const c of [0, 1, undefined]) expect((await logMarginals(model, empty, 1, L, c))[0]).toBe(0);
  });

  it('log p ≤ 0 over 10,000 random partial inputs', async () => {
    const N = 10_000;
    const x = new Uint32Array(N * L);
    let s = 12345;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < x.length; i++) x[i] = next() < 0.4 ? R : Math.floor(next() * R);
    const lp = await logMarginals(model, x, N, L, 0);
    let max = -Infinity,
      observedRows = 0;
    for (let b = 0; b < N; b++) {
      max = Math.max(max, lp[b]);
      if (x.subarray(b * L, (b + 1) * L).some((t) => t !== R)) observedRows++;
    }
    expect(max).toBeLessThanOrEqual(0);
    expect(observedRows).toBeGreaterThan(9_900); // the property is tested on inputs that observe something
  });

  it('a shorter declared window scores as the start of the full window', async () => {
    const text = Uint32Array.from([2, 0, 4]);
    const full = Uint32Array.from([2, 0, 4, R, R, R]);
    const [short] = await logMarginals(model, text, 1, 3, 1);
    const [whole] = await logMarginals(model, full, 1, L, 1);
    expect(short).toBe(whole);
    expect(short).toBeLessThan(0);
  });
});

describe('softplus twin', () => {
  it('is log(1 + eˣ) in both tails', () => {
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(800)).toBe(800);
    expect(softplus(-800)).toBe(0);
    expect(softplus(-30) / Math.exp(-30)).toBeCloseTo(1, 12);
    expect(softplus(2)).toBeCloseTo(Math.log(1 + Math.exp(2)), 14);
  });
});

describe('calibration statistics', () => {
  it('Spearman: ±1 for monotone series, the textbook value with ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = (1, 2.5, 2.5, 4), b = (1, 3, 2, 4): Pearson of the ranks = 4.5 / √(4.5 · 5)
    expect(spearman([1, 2, 2, 3], [5, 7, 6, 9])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(() => spearman([1], [1])).toThrow(RangeError);
  });

  it('ROC AUC: P(pos > neg) + ½ P(tie)', () => {
    expect(rocAuc([3, 4], [1, 2])).toBe(1);
    expect(rocAuc([1, 2], [3, 4])).toBe(0);
    // pairs: (2,1) >, (2,2) tie, (2,3) <, (5,·) > > > → (1 + 0.5 + 0 + 3) / 6
    expect(rocAuc([2, 5], [1, 2, 3])).toBeCloseTo(4.5 / 6, 12);
  });
});

describe('manifest marginal_form', () => {
  const base = JSON.parse(readFileSync(`${FIXTURES}tiny-mam-softplus/manifest.json`, 'utf8'));
  const rule = (m: unknown) => {
    try {
      validateManifest(m);
      return 'ok';
    } catch (e) {
      if (e instanceof ModelFormatError) return e.rule;
      throw e;
    }
  };
  it('accepts the known forms and refuses the rest with a typed error', () => {
    expect(rule(base)).toBe('ok');
    expect(rule({ ...base, architecture: { ...base.architecture, marginal_form: 'mean-linear' } })).toBe('ok');
    expect(rule({ ...base, architecture: { ...base.architecture, marginal_form: 'softmax' } })).toBe(
      'manifest-architecture',
    );
    expect(rule({ ...base, architecture: { ...base.architecture, marginal_head: false } })).toBe(
      'manifest-architecture',
    );
    expect(rule({ ...base, tokenizer: { ...base.tokenizer, mask_id: undefined } })).toBe('manifest-tokenizer');
  });

  it('a recorded calibration must be complete and in range', () => {
    const calibration = {
      snippets: 400,
      emptyAbsMax: 0,
      maxLogp: -3,
      padding: { meanAbsPerChar: 0.03, maxAbsPerChar: 0.2 },
      vsExact: { spearman: 0.9, meanAbsPerChar: 0.1, meanSignedPerChar: -0.02 },
      shuffledAuc: 0.97,
      evaluator: 'text-asarm',
    };
    expect(rule({ ...base, calibration })).toBe('ok');
    expect(rule({ ...base, calibration: [] })).toBe('manifest-calibration');
    expect(rule({ ...base, calibration: { ...calibration, vsExact: { ...calibration.vsExact, spearman: 1.5 } } })).toBe(
      'manifest-calibration',
    );
    expect(rule({ ...base, calibration: { ...calibration, padding: { meanAbsPerChar: -1, maxAbsPerChar: 0 } } })).toBe(
      'manifest-calibration',
    );
    expect(rule({ ...base, calibration: { ...calibration, shuffledAuc: null } })).toBe('manifest-calibration');
    expect(rule({ ...base, calibration: { ...calibration, evaluator: '' } })).toBe('manifest-calibration');
    const { evaluator: _e, ...figures } = calibration;
    expect(rule({ ...base, calibration: { ...calibration, check: figures } })).toBe('ok');
    expect(rule({ ...base, calibration: { ...calibration, check: { ...figures, snippets: 0 } } })).toBe(
      'manifest-calibration',
    );
  });
});
