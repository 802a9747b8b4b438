// Marginalization-model operations on an enumerable toy model with a marginal head (3 tokens +
// [MASK], length 3): one-pass log-marginals equal the head's per-row values; marginal-ratio sampling
// in a fixed order draws from Π_s softmax_v(log p(x_σ(<s) ∪ {σ(s) = v})) — χ² over 27 sequences,
// 20,000 samples, seed 2026, p > 0.01; the self-consistency report equals its definition.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { randomModel } from '../../src/models/random.js';
import { logMarginals, sampleMam, selfConsistency } from '../../src/samplers/mam.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { sequenceIndex } from '../util/exact.js';

const cpu = new CpuBackend();
const L = 3,
  R = 3,
  M = 3,
  N = 20000;
const model = randomModel({ vocab: R, length: L, dModel: 8, heads: 2, marginalHead: true, scale: 2, seed: 5 }, cpu);

describe('MaM', () => {
  it('log-marginals of a batch of partial inputs in one pass', async () => {
    const x = Uint32Array.from([0, M, 2, M, M, M, 1, 1, 1]);
    const lm = await logMarginals(model, x, 3, L);
    const one = await logMarginals(model, x.subarray(3, 6), 1, L);
    expect(lm.length).toBe(3);
    expect(Math.abs(lm[1] - one[0])).toBeLessThan(1e-5);
  });

  it('marginal-ratio sampling matches its exact distribution (χ²)', async () => {
    const order = Uint32Array.from([1, 2, 0]);
    const res = await sampleMam(model, { batch: N, length: L, seed: 2026, order });
    expect(res.nfe).toBe(L);
    // exact: p(x) = Π_s softmax_v lm(prefix ∪ {σ(s)=v})
    const all: number[][] = [];
    for (let idx = 0; idx < R ** L; idx++)
      all.push([...Array(L)].map((_, i) => Math.floor(idx / R ** (L - 1 - i)) % R));
    const p = new Float64Array(R ** L);
    for (let idx = 0; idx < all.length; idx++) {
      const x = all[idx];
      let prob = 1;
      const cur = [M, M, M];
      for (const pos of order) {
        const cands = Uint32Array.from([...Array(R)].flatMap((_, v) => cur.map((c, i) => (i === pos ? v : c))));
        const lm = await logMarginals(model, cands, R, L);
        const mx = Math.max(...lm);
        const z = lm.reduce((s, v) => s + Math.exp(v - mx), 0);
        prob *= Math.exp(lm[x[pos]] - mx) / z;
        cur[pos] = x[pos];
      }
      p[idx] = prob;
    }
    const counts = new Array(R ** L).fill(0);
    for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
    expect(Math.max(...p) / Math.min(...p)).toBeGreaterThan(5);
    expect(chiSquare(counts, p).pValue).toBeGreaterThan(0.01);
  });

  it('self-consistency report follows its definition', async () => {
    const x = Uint32Array.from([2, 0, 1]);
    const rep = await selfConsistency(model, x, 1, L, { seed: 1 });
    expect(rep.steps).toBe(L);
    expect(rep.meanAbsError).toBeGreaterThan(0); // random weights are not self-consistent
    expect(rep.maxAbsError).toBeGreaterThanOrEqual(rep.meanAbsError);
    const empty = await logMarginals(model, Uint32Array.from([M, M, M]), 1, L);
    expect(rep.emptyAbsLogProb).toBeCloseTo(Math.abs(empty[0]), 5);
  });
});
