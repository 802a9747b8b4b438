// The CPU twin of the categorical kernel (also the CPU backend's sampler): exact distribution by χ²
// (fixed seed, p > 0.001), top-k/top-p boundary ties kept, greedy, invalid rows.
import { describe, expect, it } from 'vitest';
import { INVALID_SAMPLE } from '../../src/ops/categorical.js';
import { categoricalRef, sortableKey } from '../../src/reference/categorical.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { countsOf, expectedProbs } from '../util/categorical.js';

const base = {
  temperature: 1,
  topK: 0,
  topP: 1,
  precision: 'precise' as const,
  key: [11, 0] as [number, number],
  counter: [0, 0] as [number, number],
};

describe('categorical twin', () => {
  const logits = Float32Array.from([1.2, 0.4, 0.4, -0.3, -2, 0.9, -1]);
  const V = logits.length,
    N = 20000;
  const x = new Float32Array(V * N);
  for (let i = 0; i < N; i++) x.set(logits, i * V);

  it.each([
    [{}],
    [{ temperature: 0.5 }],
    [{ topK: 3 }],
    [{ topP: 0.6 }],
    [{ topK: 4, topP: 0.9, temperature: 2 }],
    [{ precision: 'naive-f32' as const }],
  ])('matches the exact distribution %j', (o) => {
    const opts = { ...base, ...o };
    const s = categoricalRef(x, N, V, opts);
    const chi = chiSquare(countsOf(s, V), expectedProbs(logits, opts.temperature, opts.topK, opts.topP));
    expect(chi.impossible).toBe(0);
    expect(chi.pValue).toBeGreaterThan(0.001);
  });

  it('keeps ties at the top-k boundary', () => {
    // top-2 of [3, 1, 1, 0]: 1 is tied at the boundary, so 3 tokens are kept
    const p = expectedProbs([3, 1, 1, 0], 1, 2);
    expect(p.filter((v) => v > 0).length).toBe(3);
    const row = Float32Array.from([3, 1, 1, 0]);
    const xs = new Float32Array(4 * 3000);
    for (let i = 0; i < 3000; i++) xs.set(row, 4 * i);
    const s = categoricalRef(xs, 3000, 4, { ...base, topK: 2 });
    const c = countsOf(s, 4);
    expect(c[1] > 0 && c[2] > 0 && c[3] === 0).toBe(true);
  });

  it('greedy and invalid rows', () => {
    const s = categoricalRef(Float32Array.from([0, 2, 2, 1, NaN, 0, -Infinity, -Infinity]), 2, 4, {
      ...base,
      temperature: 0,
    });
    expect(s[0]).toBe(1);
    expect(s[1]).toBe(INVALID_SAMPLE);
  });

  it('sortable keys preserve order, including negatives and infinities', () => {
    const v = [-Infinity, -3e38, -1, -1e-30, 0, 1e-30, 1, 3e38, Infinity];
    for (let i = 1; i < v.length; i++) expect(sortableKey(v[i]) > sortableKey(v[i - 1])).toBe(true);
  });
});
