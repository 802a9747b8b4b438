// The replication report's statistics (bench/replication/stats.ts) and its lines (report.ts):
// the bootstrap interval of a mean agrees with the normal approximation; Vendi of a resample equals
// src/metrics/vendi.ts on the same rows (repeats = weights); the bias-corrected Vendi interval holds its
// estimate; differences of identical settings include 0, of shifted ones exclude it; verdicts by rule;
// the same seed gives the same replicates; report lines parse and render, a foreign line is refused.
import { describe, expect, it } from 'vitest';
import {
  bootstrap,
  diffInterval,
  intervalOf,
  verdictOf,
  vendiOf,
  type SampleSet,
} from '../../bench/replication/stats.js';
import { claimsTable, parseReport, renderReport, type ReportLine } from '../../bench/replication/report.js';
import { vendiScore } from '../../src/metrics/vendi.js';
import { PositionRng } from '../../src/samplers/common.js';

/** n samples in `classes` groups: a Bernoulli(p) value, a normal value shifted by `shift`, d-dim features if d > 0. */
function sampleSet(n: number, classes: number, p: number, shift: number, seed: number, d = 0): SampleSet {
  const r = new PositionRng([seed, 0], 1);
  const groups = Uint32Array.from({ length: n }, (_, i) => i % classes);
  const bern = Float64Array.from({ length: n }, (_, i) => (r.uniform(i, 0) < p ? 1 : 0));
  const normal = Float64Array.from(
    { length: n },
    (_, i) => shift + Math.sqrt(-2 * Math.log(r.uniform(i, 1) || 1e-300)) * Math.cos(2 * Math.PI * r.uniform(i, 2)),
  );
  const data = Float32Array.from({ length: n * d }, (_, k) => r.uniform(k, 3) + 0.1);
  return { groups, values: { bern, normal }, ...(d ? { features: { data, d } } : {}) };
}

describe('replication statistics', () => {
  it('the bootstrap interval of a mean matches the normal approximation (n = 400, p = 0.3, within 20 %)', () => {
    const set = sampleSet(400, 4, 0.3, 0, 1);
    const iv = intervalOf(bootstrap(set, 2000, 1, 0), 'bern');
    const half = 1.96 * Math.sqrt((iv.est * (1 - iv.est)) / 400);
    expect(iv.lo).toBeLessThan(iv.est);
    expect(iv.hi).toBeGreaterThan(iv.est);
    expect((iv.hi - iv.lo) / 2 / half).toBeGreaterThan(0.8);
    expect((iv.hi - iv.lo) / 2 / half).toBeLessThan(1.2);
  });

  it('Vendi of a resample equals vendiScore of its rows; the corrected interval holds the estimate', () => {
    const d = 5,
      n = 12;
    const r = new PositionRng([3, 0], 2);
    const data = Float32Array.from({ length: n * d }, (_, k) => r.uniform(k, 0) - 0.3);
    const norm = Float64Array.from(data);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += norm[i * d + k] ** 2;
      for (let k = 0; k < d; k++) norm[i * d + k] /= Math.sqrt(s);
    }
    const idx = [0, 3, 3, 7, 11, 11, 11, 2];
    const rows = new Float32Array(idx.length * d);
    idx.forEach((i, j) => rows.set(data.subarray(i * d, (i + 1) * d), j * d));
    expect(vendiOf(norm, d, idx)).toBeCloseTo(vendiScore({ data: rows, n: idx.length, d }), 10);
    const set = sampleSet(60, 3, 0.5, 0, 2, 6);
    const iv = intervalOf(bootstrap(set, 300, 1, 1), 'vendi');
    expect(iv.lo).toBeLessThanOrEqual(iv.est);
    expect(iv.hi).toBeGreaterThanOrEqual(iv.est);
  });

  it('differences: identical settings include 0, shifted ones exclude it; verdicts follow the rule', () => {
    const a = bootstrap(sampleSet(200, 2, 0.5, 0, 5), 1000, 1, 2);
    const same = bootstrap(sampleSet(200, 2, 0.5, 0, 5), 1000, 1, 3);
    const shifted = bootstrap(sampleSet(200, 2, 0.5, 1, 6), 1000, 1, 4);
    const d0 = diffInterval(a, same, 'normal');
    expect(d0.est).toBe(0);
    expect(d0.lo).toBeLessThan(0);
    expect(d0.hi).toBeGreaterThan(0);
    expect(verdictOf(d0, '>')).toBe('not resolved');
    const d1 = diffInterval(shifted, a, 'normal');
    expect(d1.lo).toBeGreaterThan(0.6);
    expect(verdictOf(d1, '>')).toBe('effect');
    expect(verdictOf(d1, '<')).toBe('opposite');
    expect(verdictOf(d1, '≈', 0.05)).toBe('differs');
    expect(verdictOf({ est: 0.01, lo: -0.03, hi: 0.04 }, '≈', 0.05)).toBe('equal');
    expect(verdictOf({ est: 0.01, lo: -0.08, hi: 0.04 }, '≈', 0.05)).toBe('not resolved');
  });

  it('the same seed and stream give the same replicates, another stream others', () => {
    const set = sampleSet(50, 5, 0.4, 0, 9);
    const x = bootstrap(set, 200, 7, 1),
      y = bootstrap(set, 200, 7, 1),
      z = bootstrap(set, 200, 7, 2);
    expect([...x.reps.bern]).toEqual([...y.reps.bern]);
    expect([...x.reps.bern]).not.toEqual([...z.reps.bern]);
    expect(() => intervalOf(x, 'nope')).toThrow(/no statistic "nope"/);
  });
});

describe('replication report lines', () => {
  const lines: ReportLine[] = [
    {
      type: 'setting',
      section: 'mdm',
      id: 'fhs',
      label: 'FHS',
      model: 'text-mdm',
      knobs: {},
      n: 8,
      nfe: 32,
      ms: 1,
      stats: { nll: { est: 2.7, lo: 2.6, hi: 2.8 } },
    },
    {
      type: 'claim',
      section: 'mdm',
      id: 'c',
      paper: 'P',
      claim: 'few steps are worse',
      a: 'ancestral-4',
      b: 'fhs',
      stat: 'nll',
      direction: '>',
      diff: { est: 0.6, lo: 0.2, hi: 1 },
      verdict: 'effect',
    },
  ];
  it('parse, the claims table and the report', () => {
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n\n';
    expect(parseReport(text)).toEqual(lines);
    expect(claimsTable(lines)).toContain(
      '| P | few steps are worse | NLL/char: ancestral-4 − fhs (> 0) | 0.600 [0.200, 1.000] | shown |',
    );
    expect(renderReport(lines)).toContain('fhs: FHS');
    expect(() => parseReport('{"type":"record"}')).toThrow(/line 1: not a replication report line/);
  });
});
