/**
 * CPU twin of `shaders/rng.wgsl`: the rng op's output stage (u32 words, uniforms, Gumbels, normals,
 * the tail slice) over the Philox stream of `src/rng.ts`, which is bit-identical to
 * `shaders/lib/rng.wgsl`.
 */
import type { RngOutput } from '../ops/rng.js';
import { extUniform, gumbelNaive, gumbelPrecise, naiveUniform, normalPair, philox4x32 } from '../rng.js';

export interface RngParams {
  /** number of Philox counters; the op writes 4 words (u32) or 2 values (others) per counter */
  count: number;
  key: [number, number];
  /** counter words 1..3 (word 0 is the index) */
  stream: [number, number, number];
  output: RngOutput;
  /**
   * Importance slice for rare-event tests: condition every 64-bit draw on the 2^-tailSlice fraction
   * of bit patterns that give the largest Gumbels (precise: top bits cleared; naive: top bits set).
   * 0 = off.
   */
  tailSlice?: number;
}

/** Apply the tail slice to (hi, lo) for the given mode; returns [hi, lo]. */
export function applyTailSlice(hi: number, lo: number, slice: number, naive: boolean): [number, number] {
  if (slice <= 0) return [hi >>> 0, lo >>> 0];
  if (slice > 63) throw new RangeError(`tailSlice must be in [0, 63], got ${slice}`);
  if (slice >= 32) {
    const m = slice === 32 ? 0 : 0xffffffff >>> (slice - 32);
    return naive ? [0xffffffff, (lo | ~m) >>> 0] : [0, (lo & m) >>> 0];
  }
  const m = 0xffffffff >>> slice;
  return naive ? [(hi | ~m) >>> 0, lo >>> 0] : [(hi & m) >>> 0, lo >>> 0];
}

/**
 * The `rng` op. Counter i is (i, stream0, stream1, stream2). 'u32' writes the 4 words of each
 * counter; the other outputs write 2 values per counter, from words (0,1) and (2,3) as (hi, lo);
 * 'normal' writes the Box–Muller pair of the whole block.
 */
export function rngRef(p: RngParams): Uint32Array | Float32Array {
  const { count, key, stream, output } = p;
  const slice = p.tailSlice ?? 0;
  const w = new Uint32Array(4);
  if (output === 'u32') {
    const out = new Uint32Array(count * 4);
    for (let i = 0; i < count; i++) {
      philox4x32(i, stream[0], stream[1], stream[2], key[0], key[1], w);
      out.set(w, 4 * i);
    }
    return out;
  }
  const out = new Float32Array(count * 2);
  const naive = output === 'uniform-naive' || output === 'gumbel-naive';
  for (let i = 0; i < count; i++) {
    philox4x32(i, stream[0], stream[1], stream[2], key[0], key[1], w);
    if (output === 'normal') {
      if (slice) throw new RangeError('tailSlice applies to uniform and Gumbel outputs, not normal');
      const [a, b] = normalPair(w[0], w[1], w[2], w[3]);
      out[2 * i] = a;
      out[2 * i + 1] = b;
      continue;
    }
    for (let h = 0; h < 2; h++) {
      const [hi, lo] = applyTailSlice(w[2 * h], w[2 * h + 1], slice, naive);
      let v: number;
      switch (output) {
        case 'uniform':
          v = extUniform(hi, lo);
          break;
        case 'uniform-naive':
          v = naiveUniform(hi);
          break;
        case 'gumbel':
          v = gumbelPrecise(hi, lo);
          break;
        default:
          v = gumbelNaive(hi);
          break;
      }
      out[2 * i + h] = v;
    }
  }
  return out;
}
