/**
 * Precision, recall, density and coverage of generated samples against real ones in a feature
 * space (Kynkäänniemi et al., arXiv 1904.06991; Naeem et al., arXiv 2002.09797), with k-nearest-
 * neighbour balls:
 *   r_k(x) = distance from x to its k-th nearest neighbour among the other points of its own set;
 *   precision = fraction of fakes inside some real ball;  recall = fraction of reals inside some fake ball;
 *   density   = (1 / kM) Σ_fakes #{real balls containing the fake};
 *   coverage  = fraction of reals whose ball contains at least one fake.
 * Distances are Euclidean, computed in f64 (O(N·M·D); the feature sets here are ≤ a few thousand:
 * ~1 s for N = 1,000 reals × 500 fakes × 128 dims on one core, and the reals' radii can be reused).
 */
export interface Prdc {
  precision: number;
  recall: number;
  density: number;
  coverage: number;
}

/** Points as rows of a flat array: (n, d). */
export interface FeatureSet {
  data: ArrayLike<number>;
  n: number;
  d: number;
}

function check(s: FeatureSet, name: string): void {
  if (!Number.isInteger(s.n) || !Number.isInteger(s.d) || s.n < 1 || s.d < 1 || s.data.length !== s.n * s.d) {
    throw new RangeError(`${name}: need n·d = ${s.n}·${s.d} values, got ${s.data.length}`);
  }
  for (let i = 0; i < s.data.length; i++)
    if (!Number.isFinite(s.data[i])) throw new RangeError(`${name}: value ${i} is not finite`);
}

/** Rows as f64 with their squared norms (for ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b). */
function rows64(s: FeatureSet): { x: Float64Array; norms: Float64Array } {
  const x = Float64Array.from(s.data as ArrayLike<number>);
  const norms = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    let t = 0;
    for (let k = 0; k < s.d; k++) t += x[i * s.d + k] ** 2;
    norms[i] = t;
  }
  return { x, norms };
}

/**
 * (a.n, b.n) squared Euclidean distances, f64. Computed as ‖a‖² + ‖b‖² − 2a·b (clamped at 0; a
 * point's distance to an identical point is exactly 0), which is one dot product per pair.
 */
export function pairwiseSq(a: FeatureSet, b: FeatureSet): Float64Array {
  if (a.d !== b.d) throw new RangeError(`feature dimensions differ: ${a.d} vs ${b.d}`);
  const d = a.d,
    A = rows64(a),
    B = a === b ? A : rows64(b);
  const out = new Float64Array(a.n * b.n);
  for (let i = 0; i < a.n; i++) {
    const ai = i * d;
    for (let j = 0; j < b.n; j++) {
      const bj = j * d;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += A.x[ai + k] * B.x[bj + k];
      const v = A.norms[i] + B.norms[j] - 2 * dot;
      out[i * b.n + j] = v > 0 ? v : 0;
    }
  }
  if (a === b) for (let i = 0; i < a.n; i++) out[i * a.n + i] = 0;
  return out;
}

/** k-th nearest-neighbour squared radius of each point within its own set (itself excluded). */
export function knnRadiiSq(s: FeatureSet, k: number): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k >= s.n)
    throw new RangeError(`k must be an integer in [1, ${s.n - 1}], got ${k}`);
  const d = pairwiseSq(s, s);
  const r = new Float64Array(s.n);
  const best = new Float64Array(k); // the k smallest so far, ascending
  for (let i = 0; i < s.n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < s.n; j++) {
      if (j === i) continue;
      const v = d[i * s.n + j];
      if (v >= best[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    r[i] = best[k - 1];
  }
  return r;
}

/**
 * PRDC of `fake` against `real`. `realRadiiSq` (the reals' k-NN radii, `knnRadiiSq(real, k)`) can be
 * passed in when the same real set is used again (a sweep's reference set).
 */
export function prdc(real: FeatureSet, fake: FeatureSet, k = 5, realRadiiSq?: Float64Array): Prdc {
  check(real, 'real');
  check(fake, 'fake');
  if (realRadiiSq && realRadiiSq.length !== real.n)
    throw new RangeError(`realRadiiSq needs ${real.n} values, got ${realRadiiSq.length}`);
  const rr = realRadiiSq ?? knnRadiiSq(real, k),
    rf = knnRadiiSq(fake, k);
  const d = pairwiseSq(real, fake); // (N, M)
  const N = real.n,
    M = fake.n;
  let prec = 0,
    dens = 0,
    rec = 0,
    cov = 0;
  for (let j = 0; j < M; j++) {
    let inAny = false;
    for (let i = 0; i < N; i++)
      if (d[i * M + j] <= rr[i]) {
        inAny = true;
        dens++;
      }
    if (inAny) prec++;
  }
  for (let i = 0; i < N; i++) {
    let covered = false,
      recalled = false;
    for (let j = 0; j < M; j++) {
      if (d[i * M + j] <= rr[i]) covered = true;
      if (d[i * M + j] <= rf[j]) recalled = true;
    }
    if (covered) cov++;
    if (recalled) rec++;
  }
  return { precision: prec / M, recall: rec / N, density: dens / (k * M), coverage: cov / N };
}
