/**
 * The host's counter-based generator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11) and its
 * transforms to uniforms, exponentials, Gumbels and normals — what samplers and random models draw
 * from on the CPU, and what the rng kernel's twin (src/reference/rng.ts) and the categorical and
 * diffusion twins build on. Any draw is a pure function of (key, counter), so GPU threads need no
 * shared state; the Philox stream here is bit-identical to `shaders/lib/rng.wgsl` (tested). The
 * transforms are computed in f64 here and in f32 on the GPU; they agree to float tolerance.
 *
 * Precision: an fp32 uniform made from 24 bits (torch.rand) is never closer than 2^-24 to 1, so
 * -log(-log u) never exceeds ~16.64. Gumbel-max then never picks a token whose log-probability gap
 * to the leader exceeds that, which lowers the effective temperature (Zheng et al., arXiv
 * 2409.02908). The precise transforms below keep 23 significant bits at every scale.
 */
import { OpInputError } from './errors.js';

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a*b (same 16-bit split as the WGSL). */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff,
    aHi = a >>> 16,
    bLo = b & 0xffff,
    bHi = b >>> 16;
  const ll = aLo * bLo,
    lh = aLo * bHi,
    hl = aHi * bLo,
    hh = aHi * bHi;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of a 128-bit counter (c0..c3) under a 64-bit key (k0, k1); writes 4 words to `out`.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let x0 = c0 >>> 0,
    x1 = c1 >>> 0,
    x2 = c2 >>> 0,
    x3 = c3 >>> 0;
  let key0 = k0 >>> 0,
    key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(PHILOX_M0, x0),
      lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, x2),
      lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + PHILOX_W0) >>> 0;
    key1 = (key1 + PHILOX_W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
}

/** A 64-bit seed as the Philox key (lo, hi). Accepts a non-negative safe integer or a bigint. */
export function seedToKey(seed: number | bigint): [number, number] {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed))
    throw new OpInputError('seed', `seed must be an integer in [0, 2^53) or a bigint, got ${seed}`);
  if (typeof seed !== 'number' && typeof seed !== 'bigint')
    throw new OpInputError('seed', `seed must be a number or bigint, got ${typeof seed}`);
  const s = BigInt(seed);
  if (s < 0n || s >= 1n << 64n) throw new OpInputError('seed', `seed must be in [0, 2^64), got ${seed}`);
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}

/**
 * Extended-range uniform in (0, 1) from x = hi·2^32 + lo: with z leading zeros, keep the 23 bits from
 * the leading one (m) and return (2m+1)·2^-(24+z), the midpoint of x's bucket; (2x+1)·2^-65 when
 * fewer than 23 significant bits exist. Exactly representable in f32.
 */
export function extUniform(hi: number, lo: number): number {
  hi >>>= 0;
  lo >>>= 0;
  let z: number, top: number;
  if (hi !== 0) {
    z = Math.clz32(hi);
    top = z === 0 ? hi : ((hi << z) | (lo >>> (32 - z))) >>> 0;
  } else {
    z = 32 + Math.clz32(lo);
    if (z > 41) return (2 * lo + 1) * 2 ** -65;
    top = (lo << (z - 32)) >>> 0;
  }
  const m = top >>> 9;
  return (2 * m + 1) * 2 ** (-24 - z);
}

/** torch.rand-style fp32 uniform: k·2^-24 from the top 24 bits; k = 0 maps to 2^-25. */
export function naiveUniform(hi: number): number {
  const k = (hi >>> 0) >>> 8;
  return k === 0 ? 2 ** -25 : k * 2 ** -24;
}

/** log(1 - w) for w in (0, 1/2] (f64; the WGSL uses the equivalent atanh series). */
export function log1m(w: number): number {
  return Math.log1p(-w);
}

/** Standard exponential, precise in both tails (see rng.wgsl). */
export function exponential(hi: number, lo: number): number {
  const w = extUniform((hi & 0x7fffffff) >>> 0, lo);
  return hi >>> 31 === 0 ? -log1m(w) : -Math.log(w);
}

export function gumbelPrecise(hi: number, lo: number): number {
  return -Math.log(exponential(hi, lo));
}

/** The naive fp32 Gumbel, computed in f32 steps as a GPU would (so its cap, ~16.64, is reproduced). */
export function gumbelNaive(hi: number): number {
  const u = Math.fround(naiveUniform(hi));
  const l = Math.fround(Math.log(u));
  return Math.fround(-Math.log(Math.fround(-l)));
}

/**
 * Two standard normals from one Philox block (Box–Muller): r = √(2E) with E the tail-precise
 * exponential of words (0, 1), θ = 2π·U with U the extended uniform of words (2, 3);
 * returns [r cos θ, r sin θ]. |z| reaches ≈ 9.1 (E up to 45) instead of the ≈ 5.9 of a 24-bit uniform.
 */
export function normalPair(w0: number, w1: number, w2: number, w3: number): [number, number] {
  const r = Math.sqrt(2 * exponential(w0, w1));
  const th = 2 * Math.PI * extUniform(w2, w3);
  return [r * Math.cos(th), r * Math.sin(th)];
}

/**
 * `count` Philox counters (i, stream…) under `key` as 2·count extended-range uniforms in (0, 1), f32:
 * the rng op's 'uniform' output, drawn on the host (random model weights).
 */
export function uniforms(count: number, key: [number, number], stream: [number, number, number]): Float32Array {
  const out = new Float32Array(count * 2);
  const w = new Uint32Array(4);
  for (let i = 0; i < count; i++) {
    philox4x32(i, stream[0], stream[1], stream[2], key[0], key[1], w);
    out[2 * i] = extUniform(w[0], w[1]);
    out[2 * i + 1] = extUniform(w[2], w[3]);
  }
  return out;
}
