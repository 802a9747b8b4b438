// Philox known-answer vectors (Random123 kat_vectors, philox4x32_10) and the precision of the
// uniform/Gumbel transforms, checked exactly by inverting their monotone maps (no sampling).
import { describe, expect, it } from 'vitest';
import {
  extUniform,
  gumbelNaive,
  gumbelPrecise,
  naiveUniform,
  philox4x32,
  seedToKey,
  uniforms,
} from '../../src/rng.js';
import { applyTailSlice, rngRef } from '../../src/reference/rng.js';
import { OpInputError } from '../../src/errors.js';

const hex = (a: Uint32Array) => [...a].map((x) => x.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32-10 (CPU twin)', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff))).toBe(
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('rngRef u32 output is the stream of counters (i, stream…)', () => {
    const r = rngRef({ count: 2, key: [5, 6], stream: [7, 8, 9], output: 'u32' }) as Uint32Array;
    expect([...r.subarray(4, 8)]).toEqual([...philox4x32(1, 7, 8, 9, 5, 6)]);
  });

  it('the host uniforms (random model weights) are the rng op’s uniform output, bit for bit', () => {
    const twin = rngRef({ count: 1000, key: [7, 0], stream: [3, 0, 0], output: 'uniform' }) as Float32Array;
    expect(uniforms(1000, [7, 0], [3, 0, 0])).toEqual(twin);
  });

  it('seeds map to keys and bad seeds are typed errors', () => {
    expect(seedToKey(2n ** 32n + 3n)).toEqual([3, 1]);
    expect(() => seedToKey(-1)).toThrow(OpInputError);
    expect(() => seedToKey(1.5)).toThrow(OpInputError);
    expect(() => seedToKey(2n ** 64n)).toThrow(OpInputError);
  });
});

/** value of (hi, lo) as a bigint and back */
const split = (x: bigint): [number, number] => [Number(x >> 32n), Number(x & 0xffffffffn)];

describe('extended-range uniform', () => {
  it('is in (0, 1), f32-exact, and resolves values far below 2^-24', () => {
    expect(extUniform(0xffffffff, 0xffffffff)).toBeLessThan(1);
    expect(extUniform(0, 0)).toBe(2 ** -65);
    expect(extUniform(0, 1)).toBe(3 * 2 ** -65);
    for (const x of [1n, 12345n, 1n << 40n, (1n << 40n) + 777n, 0x8000000000000000n, 0xfedcba9876543210n]) {
      const [hi, lo] = split(x);
      const u = extUniform(hi, lo);
      expect(Math.fround(u)).toBe(u);
      // within one bucket of x / 2^64 (relative 2^-22)
      const exact = Number(x) / 2 ** 64;
      expect(Math.abs(u - exact)).toBeLessThanOrEqual(Math.max(exact * 2 ** -22, 2 ** -64));
    }
    expect(extUniform(...split(1n << 20n))).toBeLessThan(1e-13);
  });

  it('the naive uniform stops at 1 - 2^-24 and starts at 2^-25', () => {
    expect(naiveUniform(0xffffffff)).toBe(1 - 2 ** -24);
    expect(naiveUniform(0)).toBe(2 ** -25);
  });
});

/**
 * P(G > g) for the precise transform, exactly: among 64-bit inputs whose top bit is 0, G decreases
 * as x grows, so the set {G > g} is a prefix [0, x_star) found by bisection; its probability is x_star / 2^64.
 * (Inputs with the top bit set give G < -log(ln 2) ≈ 0.37, below every g tested here.)
 */
function exactTail(g: number): number {
  let lo = 0n,
    hi = 1n << 63n; // G(lo) > g ≥ G(hi)
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (gumbelPrecise(...split(mid)) > g) lo = mid;
    else hi = mid;
  }
  return Number(hi) / 2 ** 64;
}

describe('Gumbel tails (exact, by inversion)', () => {
  const trueTail = (g: number) => -Math.expm1(-Math.exp(-g));
  it.each([
    // the uniform keeps 23 significant bits, so bucket midpoints are off by ≤ 2^-23 relative
    [2, 1e-6],
    [18.420680743952367, 1e-5], // P = 1e-8
    [30, 1e-5], // P ≈ 9.4e-14
    [40, 2e-2], // P ≈ 4.2e-18: only ~77 of the 2^64 inputs, so 64 bits resolve it to ~1%
  ])('precise P(G > %f) matches 1 − exp(−e^−g) to relative %f', (g, rtol) => {
    const p = exactTail(g);
    expect(Math.abs(p - trueTail(g)) / trueTail(g)).toBeLessThan(rtol);
  });

  it('naive-f32 Gumbels never exceed ≈16.64, so P(G > 18.42) = 0 instead of 1e-8', () => {
    const cap = gumbelNaive(0xffffffff);
    expect(cap).toBeGreaterThan(16.6);
    expect(cap).toBeLessThan(16.7);
    // naive G increases with hi; its largest value is the cap
    for (const hi of [0, 1 << 8, 0x80000000, 0xfffffe00]) expect(gumbelNaive(hi)).toBeLessThanOrEqual(cap);
    expect(trueTail(cap)).toBeGreaterThan(5e-8); // the truncated mass per token
  });

  it('the tail slice selects the 2^-s fraction with the largest Gumbels', () => {
    expect(applyTailSlice(0xffffffff, 5, 24, false)).toEqual([0xff, 5]);
    expect(applyTailSlice(0, 5, 24, true)).toEqual([0xffffff00, 5]);
    expect(applyTailSlice(0xffffffff, 0xffffffff, 40, false)).toEqual([0, 0xffffff]);
  });
});

describe('normal output (Box–Muller over the precise exponential)', () => {
  it('has the moments and tail frequencies of N(0, 1) over 200,000 draws (5-sigma bounds)', () => {
    const z = rngRef({ count: 100000, key: [3, 1], stream: [9, 0, 0], output: 'normal' }) as Float32Array;
    const n = z.length;
    let m1 = 0,
      m2 = 0,
      m4 = 0,
      tail3 = 0;
    for (const v of z) {
      m1 += v;
      m2 += v * v;
      m4 += v ** 4;
      if (Math.abs(v) > 3) tail3++;
    }
    m1 /= n;
    m2 /= n;
    m4 /= n;
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(n)); // sd of the mean 1/√n
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n)); // var of z² is 2
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n)); // var of z⁴ is 105 − 9 = 96
    const p3 = 0.0026997960632601866; // P(|Z| > 3)
    expect(Math.abs(tail3 - n * p3)).toBeLessThan(5 * Math.sqrt(n * p3));
  });

  it('reaches far tails: max |z| over 2^20 draws is beyond 4.5', () => {
    const z = rngRef({ count: 1 << 19, key: [5, 0], stream: [1, 0, 0], output: 'normal' }) as Float32Array;
    let mx = 0;
    for (const v of z) mx = Math.max(mx, Math.abs(v));
    expect(mx).toBeGreaterThan(4.5); // P(max < 4.5) = (1 − 6.8e-6)^(2^20) ≈ 8e-4
    expect(Number.isFinite(mx)).toBe(true);
  });
});
