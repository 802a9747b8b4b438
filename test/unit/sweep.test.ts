// Sweep bookkeeping (src/sweep/: spec.ts, records.ts): grid numbering, shards that partition the grid, JSON-lines
// round trip, merging shards (same spec only, contradictions and gaps are errors), spec hashing, and
// fronts over records on a hand-made point set; records from before the one guidance convention read
// with image guidance converted (w → s = w + 1), once.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OpInputError } from '../../src/errors.js';
import { expandGrid, parseShard, shardSettings, specHash, validateSpec, type SweepSpec } from '../../src/sweep/spec.js';
import {
  mergeSweeps,
  parseJsonLines,
  RECORD_FORMAT,
  sweepFronts,
  toJsonLine,
  type SweepRecord,
} from '../../src/sweep/records.js';

const spec: SweepSpec = {
  name: 't',
  kind: 'image',
  model: 'digits-diffusion',
  sampler: 'ddim',
  base: { steps: 10 },
  grid: { guidance: [0, 1, 3], steps: [5, 10] },
  classes: [0, 1],
  perClass: 4,
  seed: 1,
  classifier: 'digits-classifier',
};

function rec(index: number, axes: [number, number, number], s = 'abc'): SweepRecord {
  return {
    spec: s,
    index,
    knobs: { i: index },
    axes: { consistency: axes[0], diversity: axes[1], realism: axes[2] },
    metrics: {},
    nfe: 1,
    ms: 1,
    backend: 'cpu',
    format: RECORD_FORMAT,
  };
}

describe('sweep grid and shards', () => {
  it('numbers the Cartesian product, last knob fastest', () => {
    const g = expandGrid(spec.grid);
    expect(g.map((s) => s.knobs)).toEqual([
      { guidance: 0, steps: 5 },
      { guidance: 0, steps: 10 },
      { guidance: 1, steps: 5 },
      { guidance: 1, steps: 10 },
      { guidance: 3, steps: 5 },
      { guidance: 3, steps: 10 },
    ]);
    expect(g.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(expandGrid({})).toEqual([{ index: 0, knobs: {} }]);
  });

  it('shards partition the grid: every setting in exactly one shard', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 7 }),
        (a, b, n) => {
          const g = expandGrid({
            x: Array.from({ length: a }, (_, i) => i),
            y: Array.from({ length: b }, (_, i) => `v${i}`),
          });
          const seen = Array.from({ length: n }, (_, i) => shardSettings(g, { index: i, count: n }).map((s) => s.index))
            .flat()
            .sort((p, q) => p - q);
          expect(seen).toEqual(g.map((s) => s.index));
        },
      ),
      { seed: 6, numRuns: 100 },
    );
  });

  it('parses i/n and rejects the rest', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    for (const bad of ['3/3', '1', '-1/2', 'a/b', '0/0']) expect(() => parseShard(bad), bad).toThrow(OpInputError);
  });

  it('validates specs with typed errors', () => {
    expect(() => validateSpec(spec)).not.toThrow();
    const bad: [Partial<SweepSpec>, RegExp][] = [
      [{ kind: 'audio' as 'text' }, /kind/],
      [{ grid: { guidance: [] } }, /non-empty/],
      [{ grid: { guidance: [1, 1] } }, /twice/],
      [{ grid: { guidance: [NaN] } }, /finite/],
      [{ perClass: 1 }, /perClass/],
      [{ classes: [-1] }, /classes/],
      [{ grid: { hybridBaseSteps: [1] } }, /student/],
      [{ kind: 'text' }, /evaluator/],
      [{ perClass: 2, classes: [0] }, /PRDC needs more than k/],
    ];
    for (const [patch, re] of bad)
      expect(() => validateSpec({ ...spec, ...patch } as SweepSpec), re.source).toThrow(re);
  });

  it('hashes the spec independently of key order, except the grid order that numbers the settings', () => {
    const { grid, ...rest } = spec;
    const keysReversed = Object.fromEntries(Object.entries({ ...rest, grid }).reverse()) as unknown as SweepSpec;
    expect(Object.keys(keysReversed)[0]).toBe('grid');
    expect(specHash(keysReversed)).toBe(specHash(spec));
    expect(specHash(spec)).toMatch(/^[0-9a-f]{16}$/);
    expect(specHash({ ...spec, seed: 2 })).not.toBe(specHash(spec));
    // the same knobs in another order number the settings differently: another sweep
    const gridReordered = { ...spec, grid: { steps: grid.steps, guidance: grid.guidance } };
    expect(expandGrid(gridReordered.grid)[1].knobs).not.toEqual(expandGrid(spec.grid)[1].knobs);
    expect(specHash(gridReordered)).not.toBe(specHash(spec));
  });
});

describe('sweep JSON lines and merging', () => {
  it('round-trips records through JSON lines', () => {
    const rs = [rec(0, [0.5, 2, -1.5]), rec(1, [1, 3.25, -2])];
    expect(parseJsonLines(rs.map(toJsonLine).join('\n') + '\n\n')).toEqual(rs);
  });

  it('rejects malformed lines by line number', () => {
    expect(() => parseJsonLines('{"index":0}\n')).toThrow(/line 1 is not a sweep record/);
    expect(() => parseJsonLines(toJsonLine(rec(0, [1, 1, 1])) + '\n{oops')).toThrow(/line 2 is not JSON/);
  });

  it('merges shards back into the whole sweep in index order', () => {
    const all = [0, 1, 2, 3, 4].map((i) => rec(i, [i, 5 - i, i % 2]));
    const parts = [
      [all[4], all[1]],
      [all[0], all[2]],
      [all[3], all[1]],
    ]; // a setting rerun in two shards is fine when identical
    expect(mergeSweeps(parts, 5)).toEqual(all);
  });

  it('refuses mixed specs, contradicting reruns and missing settings', () => {
    expect(() => mergeSweeps([[rec(0, [1, 1, 1], 'a')], [rec(1, [1, 1, 1], 'b')]])).toThrow(/different sweep specs/);
    expect(() => mergeSweeps([[rec(0, [1, 1, 1])], [rec(0, [1, 2, 1])]])).toThrow(/appears twice/);
    expect(() => mergeSweeps([[rec(0, [1, 1, 1]), rec(2, [1, 1, 1])]], 4)).toThrow(
      /missing from the merged sweep: 1, 3/,
    );
  });

  it('fronts over records: pairs and 3-D on a hand-made set', () => {
    //            consistency diversity realism
    const rs = [
      rec(0, [0.9, 1.0, -2.0]), // best consistency
      rec(1, [0.5, 3.0, -2.5]), // best diversity
      rec(2, [0.5, 2.0, -2.5]), // dominated by 1 everywhere
      rec(3, [0.7, 1.5, -1.0]), // best realism
      rec(4, [0.6, 1.2, -3.0]),
    ]; // dominated by 3 everywhere
    const f = sweepFronts(rs);
    expect(f['consistency×diversity']).toEqual([0, 1, 3]);
    expect(f['consistency×realism']).toEqual([0, 3]);
    expect(f['diversity×realism']).toEqual([1, 3]);
    expect(f['consistency×diversity×realism']).toEqual([0, 1, 3]);
  });
});

describe('kept samples (spec.keepSamples, for display)', () => {
  it('change no hash, are range-checked, and pick classes round-robin', async () => {
    const { keptSamples } = await import('../../src/sweep/run.js');
    expect(specHash({ ...spec, keepSamples: 4 })).toBe(specHash(spec));
    for (const k of [-1, 1.5, 65])
      expect(() => validateSpec({ ...spec, keepSamples: k }), String(k)).toThrow(/keepSamples/);
    // 2 classes × 3 samples: rows 0..2 are class 0, rows 3..5 class 1
    expect(keptSamples(5, 2, 3)).toEqual([
      { row: 0, cls: 0 },
      { row: 3, cls: 1 },
      { row: 1, cls: 0 },
      { row: 4, cls: 1 },
      { row: 2, cls: 0 },
    ]);
    expect(keptSamples(9, 2, 3)).toHaveLength(6);
    expect(keptSamples(0, 2, 3)).toEqual([]);
  });

  it('base64 round-trips bytes', async () => {
    const { fromBase64, toBase64 } = await import('../../src/sweep/records.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (b) => {
        const t = toBase64(b);
        expect(t).toBe(Buffer.from(b).toString('base64'));
        expect(fromBase64(t)).toEqual(b);
      }),
      { numRuns: 30 },
    );
  });
});

describe('records written before the one guidance convention', () => {
  const line = (o: object) =>
    JSON.stringify({
      spec: 'old',
      index: 0,
      axes: { consistency: 1, diversity: 1, realism: 1 },
      nfe: 1,
      ms: 1,
      backend: 'cpu',
      ...o,
    });
  it('read image guidance w as the scale s = w + 1, once; text records and current ones unchanged', () => {
    const [img, text, now] = parseJsonLines(
      [
        line({ knobs: { guidance: 0, steps: 5 }, metrics: { density: 1 } }),
        line({ knobs: { guidance: 0 }, metrics: { tokenEntropy: 2 } }),
        line({ knobs: { guidance: 3 }, metrics: {}, format: RECORD_FORMAT }),
      ].join('\n'),
    );
    expect(img.knobs).toEqual({ guidance: 1, steps: 5 });
    expect(text.knobs).toEqual({ guidance: 0 });
    expect(now.knobs).toEqual({ guidance: 3 });
    // written back and read again: converted once
    expect(parseJsonLines(toJsonLine(img))[0].knobs).toEqual({ guidance: 1, steps: 5 });
  });
  it('the committed digits sweep reads with s: 1 is the conditional model', () => {
    const rs = parseJsonLines(
      readFileSync(new URL('../../bench/results/sweep-digits-guidance-steps.jsonl', import.meta.url), 'utf8'),
    );
    expect([...new Set(rs.map((r) => r.knobs.guidance))].sort()).toEqual([1, 2, 4, 6]);
    expect(rs.every((r) => r.format === RECORD_FORMAT)).toBe(true);
  });
});
