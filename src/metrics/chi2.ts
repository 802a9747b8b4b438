/**
 * χ² goodness-of-fit for categorical samples: statistic, degrees of freedom and p-value. The p-value
 * is the regularised upper incomplete gamma Q(df/2, χ²/2) (series / continued fraction as in
 * Numerical Recipes §6.2), accurate to ~1e-12 — enough for test thresholds like p > 0.001.
 */

function lgamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9). Four coefficients are written as the doubles they always parsed
  // to; published with more digits than a double holds: 0.99999999999980993, 771.32342877765313, -176.61582799218123,
  // 9.9843695780195716e-6.
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61582799218124,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x). */
export function gammaQ(a: number, x: number): number {
  if (x < 0 || a <= 0) throw new RangeError('gammaQ needs a > 0, x ≥ 0');
  if (x === 0) return 1;
  const gln = lgamma(a);
  if (x < a + 1) {
    let sum = 1 / a,
      del = sum,
      ap = a;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - gln);
  }
  let b = x + 1 - a,
    c = 1 / 1e-300,
    d = 1 / b,
    h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

export interface Chi2Result {
  statistic: number;
  df: number;
  pValue: number;
  /** categories with positive expected count that were pooled into one because expected < minExpected */
  pooled: number;
  /** samples that fell where the expected probability is 0 (a χ² test cannot pass then) */
  impossible: number;
}

/**
 * Pearson χ² of observed counts against probabilities `p` (summing to 1). Categories whose expected
 * count is below `minExpected` are pooled. Any count where p = 0 sets pValue = 0.
 */
export function chiSquare(counts: ArrayLike<number>, p: ArrayLike<number>, minExpected = 5): Chi2Result {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i];
  let stat = 0,
    df = -1,
    pooledE = 0,
    pooledO = 0,
    pooled = 0,
    impossible = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = n * p[i];
    if (p[i] === 0) {
      impossible += counts[i];
      continue;
    }
    if (e < minExpected) {
      pooledE += e;
      pooledO += counts[i];
      pooled++;
      continue;
    }
    stat += (counts[i] - e) ** 2 / e;
    df++;
  }
  if (pooled) {
    stat += (pooledO - pooledE) ** 2 / Math.max(pooledE, 1e-300);
    df++;
  }
  const pValue = impossible > 0 ? 0 : df <= 0 ? 1 : gammaQ(df / 2, stat / 2);
  return { statistic: stat, df, pValue, pooled, impossible };
}
