// Metrics against hand-computed examples: PRDC on 1-D points (k = 1, every ball worked out in the
// comment), Vendi on identical / orthogonal / two-cluster sets and a 2×2 eigenproblem, token
// entropy and distinct-n on tiny strings, class consistency, and Pareto non-domination on a
// hand-made point set (also checked against brute force on random points).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classConsistency,
  distinctN,
  dominates,
  paretoFront,
  paretoFronts,
  prdc,
  symmetricEigenvalues,
  tokenEntropy,
  vendiScore,
} from '../../src/metrics/index.js';

const set = (xs: number[][]) => ({ data: xs.flat(), n: xs.length, d: xs[0].length });

describe('precision / recall / density / coverage', () => {
  it('matches the hand computation (1-D, k = 1)', () => {
    // real {0,1,2,3}: every 1-NN radius is 1. fake {0.5, 10}: radii 9.5 each.
    // precision: 0.5 lies in the balls of 0 and 1, 10 in none → 1/2; density = 2 / (1·2) = 1
    // coverage: balls of 0 and 1 contain a fake, those of 2 (1.5 away) and 3 do not → 1/2
    // recall: the ball of fake 0.5 (radius 9.5) holds every real → 1
    const r = prdc(set([[0], [1], [2], [3]]), set([[0.5], [10]]), 1);
    expect(r).toEqual({ precision: 0.5, recall: 1, density: 1, coverage: 0.5 });
  });

  it('identical sets: precision = recall = coverage = 1, density ≈ 1; far fakes: all 0', () => {
    const pts = Array.from({ length: 20 }, (_, i) => [Math.cos(i), Math.sin(2 * i)]);
    const same = prdc(set(pts), set(pts), 3);
    expect([same.precision, same.recall, same.coverage]).toEqual([1, 1, 1]);
    expect(same.density).toBeGreaterThanOrEqual(1);
    const far = prdc(set(pts), set(pts.map(([a, b]) => [a + 100, b])), 3);
    expect(far).toEqual({ precision: 0, recall: 0, density: 0, coverage: 0 });
    expect(() => prdc(set(pts), set([[1, 2, 3]]), 3)).toThrow(RangeError);
    expect(() => prdc(set(pts), set([[1, NaN]]), 1)).toThrow(RangeError);
  });
});

describe('Vendi score', () => {
  it('eigenvalues of [[2,1],[1,2]] are 1 and 3', () => {
    const e = Array.from(symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2)).sort();
    expect(e[0]).toBeCloseTo(1, 12);
    expect(e[1]).toBeCloseTo(3, 12);
  });

  it('is 1 for identical samples, n for orthogonal ones, 2 for two equal orthogonal clusters', () => {
    expect(
      vendiScore(
        set([
          [1, 2],
          [2, 4],
          [3, 6],
        ]),
      ),
    ).toBeCloseTo(1, 10); // same direction
    expect(
      vendiScore(
        set([
          [1, 0, 0],
          [0, 2, 0],
          [0, 0, 3],
        ]),
      ),
    ).toBeCloseTo(3, 10);
    expect(
      vendiScore(
        set([
          [1, 0],
          [1, 0],
          [0, 1],
          [0, 1],
        ]),
      ),
    ).toBeCloseTo(2, 10);
    // n > d path: 6 points in 2-D, three along each axis → eigenvalues ½, ½ → 2
    expect(
      vendiScore(
        set([
          [1, 0],
          [2, 0],
          [3, 0],
          [0, 1],
          [0, 2],
          [0, 5],
        ]),
      ),
    ).toBeCloseTo(2, 10);
    expect(() =>
      vendiScore(
        set([
          [0, 0],
          [1, 0],
        ]),
      ),
    ).toThrow(RangeError);
  });
});

describe('text metrics', () => {
  it('token entropy and distinct-n', () => {
    const t = [0, 0, 1, 1, /* */ 2, 2, 2, 2]; // "aabb" → ln 2; "cccc" → 0
    const h = tokenEntropy(t, 2, 4);
    expect(h[0]).toBeCloseTo(Math.log(2), 12);
    expect(h[1]).toBe(0);
    expect(distinctN(t, 2, 4, 1)).toBe(3 / 8); // unigrams a, b, c over 8
    expect(distinctN(t, 2, 4, 2)).toBe(4 / 6); // aa ab bb | cc cc cc → 4 distinct of 6
    expect(() => distinctN(t, 2, 4, 5)).toThrow(RangeError);
  });

  it('class consistency is the argmax agreement', () => {
    expect(classConsistency([0.1, 0.9, 2, 1, 0, 0], 2, [1, 0, 1])).toBeCloseTo(2 / 3, 12); // the tie picks class 0
  });
});

describe('Pareto fronts (all axes maximised)', () => {
  it('hand-made set', () => {
    const pts = [
      [1, 5],
      [2, 4],
      [2, 2],
      [3, 1],
      [0, 0],
      [3, 1],
      [1, 4],
    ];
    // [2,2] is dominated by [2,4]; [0,0] by everything; [1,4] by [1,5]; the duplicate [3,1]s both stay
    expect(paretoFront(pts)).toEqual([0, 1, 3, 5]);
    expect(dominates([1, 1], [1, 1])).toBe(false);
  });

  it('pairs and 3-D from named axes; NaN points are ineligible', () => {
    const pts = [
      { c: 1, d: 0, r: 0 },
      { c: 0, d: 1, r: 0 },
      { c: 0, d: 0, r: 1 },
      { c: 0.5, d: 0.5, r: 0.5 },
      { c: NaN, d: 9, r: 9 },
    ];
    const f = paretoFronts(pts, ['c', 'd', 'r']);
    expect(f['c×d']).toEqual([0, 1, 3]);
    expect(f['c×d×r']).toEqual([0, 1, 2, 3]);
  });

  it('no front point is dominated and every other point is (random sets)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 40,
        }),
        (pts) => {
          const f = new Set(paretoFront(pts));
          for (let i = 0; i < pts.length; i++) {
            const dominated = pts.some((q) => dominates(q, pts[i]));
            expect(f.has(i)).toBe(!dominated);
          }
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });
});
