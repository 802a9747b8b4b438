/**
 * Precision, recall, density and coverage of generated samples against real ones in a feature
 * space (Kynkäänniemi et al., arXiv 1904.06991; Naeem et al., arXiv 2002.09797), with k-nearest-
 * neighbour balls:
 *   r_k(x) = distance from x to its k-th nearest neighbour among the other points of its own set;
 *   precision = fraction of fakes inside some real ball;  recall = fraction of reals inside some fake ball;
 *   density   = (1 / kM) Σ_fakes #{real balls containing the fake};
 *   coverage  = fraction of reals whose ball contains at least one fake.
 * Distances are Euclidean, computed in f64 (exact O(N·M·D); the feature sets here are ≤ a few thousand).
 */
export interface Prdc { precision: number; recall: number; density: number; coverage: number }

/** Points as rows of a flat array: (n, d). */
export interface FeatureSet { data: ArrayLike<number>; n: number; d: number }

function check(s: FeatureSet, name: string): void {
  if (!Number.isInteger(s.n) || !Number.isInteger(s.d) || s.n < 1 || s.d < 1 || s.data.length !== s.n * s.d) {
    throw new RangeError(`${name}: need n·d = ${s.n}·${s.d} values, got ${s.data.length}`);
  }
  for (let i = 0; i < s.data.length; i++) if (!Number.isFinite(s.data[i])) throw new RangeError(`${name}: value ${i} is not finite`);
}

/** (a.n, b.n) squared Euclidean distances. */
export function pairwiseSq(a: FeatureSet, b: FeatureSet): Float64Array {
  if (a.d !== b.d) throw new RangeError(`feature dimensions differ: ${a.d} vs ${b.d}`);
  const out = new Float64Array(a.n * b.n);
  for (let i = 0; i < a.n; i++) for (let j = 0; j < b.n; j++) {
    let s = 0;
    for (let k = 0; k < a.d; k++) { const t = a.data[i * a.d + k] - b.data[j * b.d + k]; s += t * t; }
    out[i * b.n + j] = s;
  }
  return out;
}

/** k-th nearest-neighbour squared radius of each point within its own set (itself excluded). */
export function knnRadiiSq(s: FeatureSet, k: number): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k >= s.n) throw new RangeError(`k must be an integer in [1, ${s.n - 1}], got ${k}`);
  const d = pairwiseSq(s, s);
  const r = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const row = Array.from(d.subarray(i * s.n, (i + 1) * s.n)).filter((_, j) => j !== i).sort((x, y) => x - y);
    r[i] = row[k - 1];
  }
  return r;
}

export function prdc(real: FeatureSet, fake: FeatureSet, k = 5): Prdc {
  check(real, 'real');
  check(fake, 'fake');
  const rr = knnRadiiSq(real, k), rf = knnRadiiSq(fake, k);
  const d = pairwiseSq(real, fake); // (N, M)
  const N = real.n, M = fake.n;
  let prec = 0, dens = 0, rec = 0, cov = 0;
  for (let j = 0; j < M; j++) {
    let inAny = false;
    for (let i = 0; i < N; i++) if (d[i * M + j] <= rr[i]) { inAny = true; dens++; }
    if (inAny) prec++;
  }
  for (let i = 0; i < N; i++) {
    let covered = false, recalled = false;
    for (let j = 0; j < M; j++) {
      if (d[i * M + j] <= rr[i]) covered = true;
      if (d[i * M + j] <= rf[j]) recalled = true;
    }
    if (covered) cov++;
    if (recalled) rec++;
  }
  return { precision: prec / M, recall: rec / N, density: dens / (k * M), coverage: cov / N };
}
