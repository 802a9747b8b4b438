// Precise vs naive-f32 Gumbel-max, at the level of the distribution each draws from. For logits
// with one head token (z = 0) and M tail tokens at z = −Δ, a tail token wins with probability
//   ∫ dF(g) · F(g − Δ) · F(g)^(M−1),
// where F is the CDF of the noise actually used. We compute that integral (Stieltjes sum on a fine
// grid) for F = the naive-f32 transform's exact discrete law (24-bit uniforms) and F = the precise
// transform's law (obtained exactly by inverting its monotone map over 64-bit inputs), and compare
// with softmax. Deterministic: no sampling. (The GPU kernels use these same transforms: test/gpu/rng
// checks them bit-for-bit / to 1e-5 and by an importance-sliced tail test.)
import { describe, expect, it } from 'vitest';
import { gumbelPrecise } from '../../src/rng.js';

const split = (x: bigint): [number, number] => [Number(x >> 32n), Number(x & 0xffffffffn)];

/** P(G_precise > g), exact up to the transform's 2^-23 bucket resolution (see rng.test.ts). */
function preciseTail(g: number): number {
  if (g <= 0.37) {
    // the top-bit-set half gives G < −log(ln 2) ≈ 0.367: use the true law there (checked elsewhere)
    return -Math.expm1(-Math.exp(-g));
  }
  let lo = 0n,
    hi = 1n << 63n;
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (gumbelPrecise(...split(mid)) > g) lo = mid;
    else hi = mid;
  }
  return Number(hi) / 2 ** 64;
}

/** CDF of the naive-f32 Gumbel: u = k·2^-24 (k = 0 → 2^-25), G = −log(−log u), computed in f32. */
function naiveCdf(g: number): number {
  // G ≤ g ⇔ u ≤ exp(−e^(−g)); count of k with k·2^-24 ≤ that (k = 0 always counts)
  const u = Math.exp(-Math.exp(-g));
  const k = Math.min(2 ** 24 - 1, Math.floor(u * 2 ** 24));
  return (k + 1) / 2 ** 24;
}

function tailMass(cdf: (g: number) => number, M: number, delta: number): number {
  let p = 0;
  let prev = cdf(-6);
  const step = 0.0025;
  for (let g = -6 + step; g <= 45; g += step) {
    const cur = cdf(g);
    const mid = g - step / 2;
    const fm = cdf(mid);
    p += (cur - prev) * cdf(mid - delta) * Math.exp((M - 1) * Math.log(Math.max(fm, 1e-300)));
    prev = cur;
  }
  return M * p;
}

function entropy(tail: number, M: number): number {
  const head = 1 - tail,
    pt = tail / M;
  return -(head * Math.log(head)) - (tail > 0 ? tail * Math.log(pt) : 0);
}

describe('precision of Gumbel-max draws', () => {
  const M = 50000,
    delta = 17.5; // each tail token has p ≈ 2.5e-8; together ≈ 1.25e-3
  const exact = (M * Math.exp(-delta)) / (1 + M * Math.exp(-delta));
  const preciseCdf = (g: number) => 1 - preciseTail(g);

  it('the precise transform draws tail tokens at their softmax rate (within 1%) and keeps the entropy', () => {
    const t = tailMass(preciseCdf, M, delta);
    expect(Math.abs(t / exact - 1)).toBeLessThan(0.01);
    expect(Math.abs(entropy(t, M) - entropy(exact, M))).toBeLessThan(0.002);
  });

  it('naive-f32 loses most of that tail and measurably lowers the entropy', () => {
    const t = tailMass(naiveCdf, M, delta);
    // the cap G ≤ 16.64 leaves only draws where the head's own noise is very low
    expect(t / exact).toBeLessThan(0.3); // 0.244 here: three quarters of the tail mass is never drawn
    const deficit = entropy(exact, M) - entropy(t, M);
    console.log(
      `[precision] tail mass exact ${exact.toExponential(3)}, naive ${t.toExponential(3)}; entropy deficit ${deficit.toFixed(4)} nats/draw`,
    );
    expect(deficit).toBeGreaterThan(0.012); // 0.0171 nats per draw here; the precise mode is within 0.002
  });
});
