/**
 * Statistics of the replication report (bench/replication/run.ts): per-sample measurements of one
 * setting, bootstrap replicates of every statistic over the samples (stratified by requested class, so
 * each replicate keeps the design's class counts), 95 % percentile intervals, intervals of differences
 * between settings (independent replicates of each), and the verdict a claim's comparison gets.
 *
 * Set-level statistics (Vendi within class) are recomputed on each replicate: a resample with repeats is
 * the weighted empirical distribution, whose Vendi score is lower than the sample's (repeats are identical
 * items), so its replicates sit below the estimate. Its intervals (and those of its differences) are
 * therefore bias-corrected: the replicates' quantiles shifted by (estimate − mean of the replicates). Means of
 * per-sample values have no such bias and get the plain percentile interval. Nothing here imports Node
 * modules (the report page renders the same records).
 */
import { PositionRng } from '../../src/samplers/common.js';
import { symmetricEigenvalues, vendiFromEigenvalues } from '../../src/metrics/vendi.js';

/** A point estimate and its 95 % bootstrap interval. */
export interface Interval {
  est: number;
  lo: number;
  hi: number;
}

/** What a setting's samples measured: per-sample values, features for Vendi, the class each was asked for. */
export interface SampleSet {
  /** class asked for, per sample (one group per value) */
  groups: Uint32Array;
  /** per-sample measurements by name (consistency 0/1, nll, entropy, precision 0/1, …) */
  values: Record<string, Float64Array>;
  /** classifier features (n, d) for Vendi within class, when measured */
  features?: { data: Float32Array; d: number };
}

/** The replicates of one setting: per statistic, the estimate and B bootstrap values. */
export interface Replicates {
  est: Record<string, number>;
  reps: Record<string, Float64Array>;
}

/** Statistics recomputed on the whole resample (not means of per-sample values): their intervals are bias-corrected. */
export const SET_LEVEL: ReadonlySet<string> = new Set(['vendi']);

/** The 95 % interval [q2.5, q97.5] of the replicates; `biasCorrect`: shifted by the estimate minus their mean. */
export function percentile95(est: number, reps: Float64Array, biasCorrect = false): Interval {
  const s = Float64Array.from(reps).sort();
  const shift = biasCorrect ? est - s.reduce((a, b) => a + b, 0) / s.length : 0;
  const q = (p: number) => {
    const x = p * (s.length - 1),
      i = Math.floor(x);
    return i + 1 < s.length ? s[i] + (x - i) * (s[i + 1] - s[i]) : s[i];
  };
  return { est, lo: q(0.025) + shift, hi: q(0.975) + shift };
}

/** Indices of each group (classes in first-seen order). */
function groupIndices(groups: Uint32Array): number[][] {
  const by = new Map<number, number[]>();
  groups.forEach((g, i) => {
    if (!by.has(g)) by.set(g, []);
    by.get(g)!.push(i);
  });
  return [...by.values()];
}

/** Unit-normalised rows (cosine kernel), f64. */
function unitRows(data: Float32Array, d: number): Float64Array {
  const n = data.length / d,
    u = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += data[i * d + k] ** 2;
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`feature row ${i} has zero or non-finite norm`);
    const r = 1 / Math.sqrt(s);
    for (let k = 0; k < d; k++) u[i * d + k] = data[i * d + k] * r;
  }
  return u;
}

/** Vendi score (cosine kernel) of the rows `idx` (repeats allowed) of unit features `u`. */
export function vendiOf(u: Float64Array, d: number, idx: readonly number[]): number {
  const m = idx.length,
    g = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = a; b < m; b++) {
      let s = 0;
      const ia = idx[a] * d,
        ib = idx[b] * d;
      for (let k = 0; k < d; k++) s += u[ia + k] * u[ib + k];
      g[a * m + b] = g[b * m + a] = s / m;
    }
  return vendiFromEigenvalues(symmetricEigenvalues(g, m));
}

/**
 * Estimates and `B` bootstrap replicates of every statistic of a setting: the mean of each per-sample value
 * and, with features, `vendi` (Vendi within each class, averaged over classes with ≥ 2 samples). Each
 * replicate resamples every class's samples with replacement; `seed` and `stream` fix the replicates.
 */
export function bootstrap(set: SampleSet, B: number, seed: number, stream: number): Replicates {
  const groups = groupIndices(set.groups);
  const u = set.features ? unitRows(set.features.data, set.features.d) : undefined;
  const d = set.features?.d ?? 0;
  const stats: [string, (parts: number[][]) => number][] = Object.entries(set.values).map(([name, v]) => [
    name,
    (parts) => {
      let s = 0,
        n = 0;
      for (const p of parts)
        for (const i of p) {
          s += v[i];
          n++;
        }
      return s / n;
    },
  ]);
  if (u) {
    stats.push([
      'vendi',
      (parts) => {
        const vs = parts.filter((p) => p.length >= 2).map((p) => vendiOf(u, d, p));
        return vs.reduce((a, b) => a + b, 0) / vs.length;
      },
    ]);
  }
  const est: Record<string, number> = {},
    reps: Record<string, Float64Array> = {};
  for (const [name, f] of stats) {
    est[name] = f(groups);
    reps[name] = new Float64Array(B);
  }
  const rng = new PositionRng([seed >>> 0, stream >>> 0], 24);
  for (let b = 0; b < B; b++) {
    let c = 0;
    const parts = groups.map((g) => g.map(() => g[Math.floor(rng.uniform(b, c++) * g.length)]));
    for (const [name, f] of stats) reps[name][b] = f(parts);
  }
  return { est, reps };
}

/** Interval of a statistic of one setting. */
export function intervalOf(r: Replicates, stat: string): Interval {
  if (!(stat in r.est)) throw new RangeError(`no statistic "${stat}" (have: ${Object.keys(r.est).join(', ')})`);
  return percentile95(r.est[stat], r.reps[stat], SET_LEVEL.has(stat));
}

/** Interval of stat(a) − stat(b), from the two settings' independent replicates. */
export function diffInterval(a: Replicates, b: Replicates, stat: string): Interval {
  const ia = intervalOf(a, stat),
    ib = intervalOf(b, stat);
  const ra = a.reps[stat],
    rb = b.reps[stat];
  if (ra.length !== rb.length) throw new RangeError('replicate counts differ');
  return percentile95(
    ia.est - ib.est,
    ra.map((x, i) => x - rb[i]),
    SET_LEVEL.has(stat),
  );
}

/**
 * What a comparison shows. `'>'` / `'<'`: the claim is a difference of that sign — `effect` when the interval
 * excludes 0 on that side, `opposite` when it excludes 0 on the other, else `not resolved`. `'≈'` with a
 * margin m: `equal within ±m` when the interval lies inside [−m, m], `differs` when it excludes 0, else
 * `not resolved`.
 */
export type Direction = '>' | '<' | '≈';
export type Verdict = 'effect' | 'opposite' | 'not resolved' | 'equal' | 'differs';

export function verdictOf(iv: Interval, dir: Direction, margin = 0): Verdict {
  if (dir === '≈') {
    if (iv.lo >= -margin && iv.hi <= margin) return 'equal';
    return iv.lo > 0 || iv.hi < 0 ? 'differs' : 'not resolved';
  }
  const pos = iv.lo > 0,
    neg = iv.hi < 0;
  if (dir === '>') return pos ? 'effect' : neg ? 'opposite' : 'not resolved';
  return neg ? 'effect' : pos ? 'opposite' : 'not resolved';
}
