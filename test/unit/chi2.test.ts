import { describe, expect, it } from 'vitest';
import { chiSquare, gammaQ } from '../../src/metrics/chi2.js';

describe('chi-square helper', () => {
  it('gammaQ matches known χ² quantiles', () => {
    // χ²(df=1) 0.95 quantile 3.841459; χ²(df=10) 0.99 quantile 23.20925
    expect(gammaQ(0.5, 3.841459 / 2)).toBeCloseTo(0.05, 6);
    expect(gammaQ(5, 23.20925 / 2)).toBeCloseTo(0.01, 6);
  });
  it('flags counts where the probability is zero', () => {
    expect(chiSquare([10, 1], [1, 0]).pValue).toBe(0);
  });
  it('perfect counts give p = 1-ish, grossly wrong counts give p ≈ 0', () => {
    expect(chiSquare([500, 300, 200], [0.5, 0.3, 0.2]).pValue).toBeGreaterThan(0.99);
    expect(chiSquare([800, 100, 100], [0.5, 0.3, 0.2]).pValue).toBeLessThan(1e-10);
  });
});
