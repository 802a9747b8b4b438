/**
 * Vendi score (Friedman & Dieng, arXiv 2210.02410): exp of the Shannon entropy of the eigenvalues of
 * K/n, K the n×n similarity matrix — the "effective number of distinct samples" (1 when all are the
 * same, n when all are orthogonal). With the cosine kernel K = X̂X̂ᵀ (rows unit-normalised), K/n and
 * X̂ᵀX̂/n share their non-zero eigenvalues, so the smaller of the two is diagonalised (cyclic Jacobi, f64).
 */
import type { FeatureSet } from './prdc.js';

/** Eigenvalues of a symmetric matrix (n, n), row-major, by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: Float64Array, n: number, tol = 1e-12, maxSweeps = 100): Float64Array {
  const m = Float64Array.from(a);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < tol * tol) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p, q
          const kp = m[k * n + p],
            kq = m[k * n + q];
          m[k * n + p] = c * kp - s * kq;
          m[k * n + q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          // rows p, q
          const pk = m[p * n + k],
            qk = m[q * n + k];
          m[p * n + k] = c * pk - s * qk;
          m[q * n + k] = s * pk + c * qk;
        }
      }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i * n + i]);
}

/** exp(−Σ λ log λ) over the eigenvalues λ of a PSD matrix with trace 1 (tiny negatives from rounding ignored). */
export function vendiFromEigenvalues(eig: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < eig.length; i++) if (eig[i] > 1e-15) h -= eig[i] * Math.log(eig[i]);
  return Math.exp(h);
}

/** Vendi score with the cosine-similarity kernel. */
export function vendiScore(x: FeatureSet): number {
  const { n, d } = x;
  if (n < 1 || x.data.length !== n * d) throw new RangeError(`need n·d = ${n}·${d} values, got ${x.data.length}`);
  const u = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x.data[i * d + k] ** 2;
    if (!(s > 0) || !Number.isFinite(s))
      throw new RangeError(`row ${i} has zero or non-finite norm (the cosine kernel needs a direction)`);
    const r = 1 / Math.sqrt(s);
    for (let k = 0; k < d; k++) u[i * d + k] = x.data[i * d + k] * r;
  }
  const small = Math.min(n, d);
  const g = new Float64Array(small * small);
  if (n <= d) {
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += u[i * d + k] * u[j * d + k];
        g[i * n + j] = s / n;
      }
  } else {
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += u[i * d + a] * u[i * d + b];
        g[a * d + b] = s / n;
      }
  }
  return vendiFromEigenvalues(symmetricEigenvalues(g, small));
}
