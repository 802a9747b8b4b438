/**
 * Is a marginalization model's one-pass log p(x_S) a log-probability one can trust? Measured on real
 * held-out text (e.g. the text classifier's reference windows), against an exact likelihood:
 * - `emptyAbsMax`: max over classes of |log p(∅)| (nothing observed: must be 0);
 * - `maxLogp`: the largest log p over every partial input scored here (must be ≤ 0);
 * - `padding`: a text of k characters at the start of the window vs the same text at a random offset
 *   (unknown characters before and after): |Δ log p| per observed character — by stationarity of
 *   random windows the two marginals are equal, so this is the model's own error;
 * - `vsExact`: the text's first k characters observed (k uniform in [minObserved, maxObserved]), the
 *   one-pass log p vs the exact left-to-right log p of the same characters under a two-stream (AS-ARM)
 *   evaluator: Spearman rank correlation of the per-character values, mean |Δ| and mean Δ per char;
 * - `shuffledAuc`: the same prefixes vs their characters shuffled within the prefix, separated by the
 *   per-character log p (ROC AUC; 1 = every English prefix above every shuffled one).
 * Randomness (k, offsets, shuffles) is counter-based from `seed`, so a report is reproducible.
 */
import { OpInputError } from '../errors.js';
import type { MamCalibrationFigures } from '../models/manifest.js';
import type { Model } from '../models/model.js';
import { logMarginals } from '../samplers/mam.js';
import { PositionRng } from '../samplers/common.js';
import { logProbsLeftToRight } from './nll.js';

export interface MamCalibrationOptions {
  /** fewest / most observed characters of a prefix (default 16 / 64) */
  minObserved?: number;
  maxObserved?: number;
  seed?: number;
  /** rows per model pass (default 100) */
  chunk?: number;
}

export interface MamCalibration extends MamCalibrationFigures {
  inputsScored: number;
}

/** Spearman rank correlation (Pearson on ranks; ties get their average rank). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length < 2)
    throw new RangeError(`spearman needs two series of one length ≥ 2, got ${a.length} and ${b.length}`);
  const ra = ranks(a),
    rb = ranks(b),
    n = a.length;
  const mean = (n + 1) / 2;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - mean,
      y = rb[i] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i] - v[j]);
  const r = new Float64Array(v.length);
  for (let s = 0; s < idx.length;) {
    let e = s;
    while (e + 1 < idx.length && v[idx[e + 1]] === v[idx[s]]) e++;
    for (let k = s; k <= e; k++) r[idx[k]] = (s + e) / 2 + 1;
    s = e + 1;
  }
  return r;
}

/** ROC AUC of scores `pos` (should be higher) against `neg`: P(pos > neg) + ½ P(pos = neg), exactly. */
export function rocAuc(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  if (pos.length === 0 || neg.length === 0) throw new RangeError('rocAuc needs at least one score on each side');
  const all = [...Array.from(pos, (s) => ({ s, p: 1 })), ...Array.from(neg, (s) => ({ s, p: 0 }))];
  const r = ranks(all.map((x) => x.s));
  let sum = 0;
  for (let i = 0; i < all.length; i++) if (all[i].p) sum += r[i];
  return (sum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/**
 * Calibration of `mam` (a model with a marginal head) on `snippets` (n rows of `mam.maxLength` data
 * tokens), against `exact` (a two-stream model with the same vocabulary). Unconditional (no class).
 */
export async function mamCalibration(
  mam: Model,
  exact: Model,
  snippets: Uint32Array,
  o: MamCalibrationOptions = {},
): Promise<MamCalibration> {
  const W = mam.maxLength,
    mask = mam.maskId;
  if (!mam.hasMarginalHead || mask === undefined)
    throw new OpInputError('mamCalibration', `${mam.name} has no marginal head`);
  if (exact.attention !== 'two-stream')
    throw new OpInputError('mamCalibration', `${exact.name} is not a two-stream (AS-ARM) model`);
  if (snippets.length === 0 || snippets.length % W !== 0)
    throw new OpInputError('mamCalibration', `snippets must be n rows of ${W} tokens, got ${snippets.length} tokens`);
  const kMin = o.minObserved ?? 16,
    kMax = o.maxObserved ?? 64,
    chunk = o.chunk ?? 100;
  if (!(
    Number.isInteger(kMin) &&
    Number.isInteger(kMax) &&
    kMin >= 1 &&
    kMin <= kMax &&
    kMax <= Math.min(W, exact.maxLength)
  )) {
    throw new OpInputError(
      'mamCalibration',
      `need 1 ≤ minObserved ≤ maxObserved ≤ ${Math.min(W, exact.maxLength)}, got ${kMin}, ${kMax}`,
    );
  }
  const n = snippets.length / W;
  const rng = new PositionRng([o.seed ?? 1, 0], 21);
  const ks = Array.from({ length: n }, (_, i) => kMin + Math.floor(rng.uniform(i, 0) * (kMax - kMin + 1)));

  const prefix = new Uint32Array(n * W).fill(mask),
    shifted = new Uint32Array(n * W).fill(mask),
    shuffled = new Uint32Array(n * W).fill(mask);
  for (let i = 0; i < n; i++) {
    const k = ks[i],
      row = snippets.subarray(i * W, i * W + k);
    prefix.set(row, i * W);
    const off = 1 + Math.floor(rng.uniform(i, 1) * (W - k));
    shifted.set(row, i * W + off);
    const s = Array.from(row);
    for (let j = k - 1; j > 0; j--) {
      const r = Math.floor(rng.uniform(i, 2 + j) * (j + 1));
      [s[j], s[r]] = [s[r], s[j]];
    }
    shuffled.set(s, i * W);
  }
  const score = async (tokens: Uint32Array): Promise<Float32Array> => {
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += chunk) {
      const b = Math.min(chunk, n - s);
      out.set(await logMarginals(mam, tokens.subarray(s * W, (s + b) * W), b, W), s);
    }
    return out;
  };
  const lpPrefix = await score(prefix),
    lpShifted = await score(shifted),
    lpShuffled = await score(shuffled);

  // exact left-to-right log p of each prefix: one pass over the first kMax characters
  const head = new Uint32Array(n * kMax);
  for (let i = 0; i < n; i++) head.set(snippets.subarray(i * W, i * W + kMax), i * kMax);
  const exactLp = new Float64Array(n);
  for (let s = 0; s < n; s += chunk) {
    const b = Math.min(chunk, n - s);
    const lp = await logProbsLeftToRight(exact, head.subarray(s * kMax, (s + b) * kMax), b, kMax);
    for (let i = 0; i < b; i++) {
      let t = 0;
      for (let j = 0; j < ks[s + i]; j++) t += lp[i * kMax + j];
      exactLp[s + i] = t;
    }
  }

  const empty = new Uint32Array(W).fill(mask);
  let emptyAbsMax = 0;
  for (let c = 0; c <= mam.numClasses; c++) {
    const [lp] = await logMarginals(mam, empty, 1, W, c < mam.numClasses ? c : undefined);
    emptyAbsMax = Math.max(emptyAbsMax, Math.abs(lp));
  }

  const perChar = (v: ArrayLike<number>) => Float64Array.from({ length: n }, (_, i) => v[i] / ks[i]);
  const mPre = perChar(lpPrefix),
    mEx = perChar(exactLp);
  let padSum = 0,
    padMax = 0,
    dAbs = 0,
    dSigned = 0,
    maxLogp = -Infinity;
  for (let i = 0; i < n; i++) {
    const pad = Math.abs(lpPrefix[i] - lpShifted[i]) / ks[i];
    padSum += pad;
    padMax = Math.max(padMax, pad);
    dAbs += Math.abs(mPre[i] - mEx[i]);
    dSigned += mPre[i] - mEx[i];
    maxLogp = Math.max(maxLogp, lpPrefix[i], lpShifted[i], lpShuffled[i]);
  }
  return {
    snippets: n,
    emptyAbsMax,
    maxLogp,
    inputsScored: 3 * n + mam.numClasses + 1,
    padding: { meanAbsPerChar: padSum / n, maxAbsPerChar: padMax },
    vsExact: { spearman: spearman(mPre, mEx), meanAbsPerChar: dAbs / n, meanSignedPerChar: dSigned / n },
    shuffledAuc: rocAuc(mPre, perChar(lpShuffled)),
  };
}
