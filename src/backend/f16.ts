/**
 * IEEE 754 binary16 (f16) on the host: weights stored as f16 travel as their raw bits (a Uint16Array,
 * two per 32-bit word on the GPU, read there as native f16 with `shader-f16` or with `unpack2x16float`
 * without it: shaders/lib/f16_*.wgsl). Conversions, written once:
 * - f16 → f32 is exact;
 * - f32 → f16 rounds to nearest, ties to even (as `pack2x16float` and torch's `.half()`); a finite
 *   value beyond ±65504 (after rounding) has no f16 form and is reported to the caller, which names
 *   the tensor; f16 subnormals are kept (down to 2^-24) and magnitudes below 2^-25 round to ±0;
 * - bf16 → f16 goes through the exact f32 value (bf16 is the top half of an f32).
 */

/** the largest finite f16 */
export const F16_MAX = 65504;

/** f16 bits → number (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * number → f16 bits, round to nearest even. Returns -1 for a finite value that overflows f16 (the
 * caller decides: the loaders throw a typed error naming the tensor). NaN and ±∞ map to themselves.
 */
export function f32ToF16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0); // ∞ or NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 31) return -1;
  if (e <= 0) {
    // subnormal f16 (or zero): the value in units of 2^-24, rounded to nearest even
    if (e < -10) return sign; // below half of the smallest subnormal: ±0
    const m = man | 0x800000;
    const shift = 14 - e; // 24-bit mantissa to units of 2^-24
    const q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    const r = rem > half || (rem === half && q & 1) ? q + 1 : q;
    return sign | r; // r may carry into the smallest normal: still the right bits
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  if ((h & 0x7fff) >= 0x7c00) return -1; // rounded past 65504
  return sign | h;
}

/** Where a conversion meets a value with no f16 form: its index and value. */
export interface F16Overflow {
  index: number;
  value: number;
}

/** f32 values → f16 bits; the first value beyond f16's range is returned instead (nothing is clamped). */
export function toF16(src: ArrayLike<number>, out = new Uint16Array(src.length)): Uint16Array | F16Overflow {
  for (let i = 0; i < src.length; i++) {
    const h = f32ToF16(src[i]);
    if (h < 0) return { index: i, value: src[i] };
    out[i] = h;
  }
  return out;
}

/** f16 bits → f32 values (exact). */
export function fromF16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  for (let i = 0; i < bits.length; i++) out[i] = f16ToF32(bits[i]);
  return out;
}
