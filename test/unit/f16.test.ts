// Host f16 conversions (src/backend/f16.ts) against an independent oracle: the f16 value set is
// enumerated from its definition (sign, 5-bit exponent, 10-bit fraction), and f32 → f16 must give the
// nearest one, ties to the even fraction, overflow reported (never clamped), tiny values to ±0.
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16, F16_MAX, fromF16, toF16 } from '../../src/backend/f16.js';

/** every finite non-negative f16 value in increasing order, from the definition */
function positiveHalves(): number[] {
  const v: number[] = [];
  for (let f = 0; f < 1024; f++) v.push(f * 2 ** -24);
  for (let e = 1; e < 31; e++) for (let f = 0; f < 1024; f++) v.push((1 + f / 1024) * 2 ** (e - 15));
  return v;
}

describe('f16 host conversions', () => {
  const halves = positiveHalves();

  it('f16 → f32 is exact for all 65536 bit patterns, and f32 → f16 gives the bits back', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16ToF32(h);
      const e = (h >> 10) & 0x1f;
      if (e === 31) {
        expect(Number.isNaN(v) || !Number.isFinite(v)).toBe(true);
        continue;
      }
      expect(Math.abs(v)).toBe(halves[h & 0x7fff]);
      if (v !== 0) expect(f32ToF16(v)).toBe(h);
    }
  });

  it('f32 → f16 rounds to nearest, ties to even, at midpoints and just off them', () => {
    for (let i = 0; i + 1 < halves.length; i += 37) {
      const lo = halves[i],
        hi = halves[i + 1];
      const mid = (lo + hi) / 2; // exact in f32 (one more bit than f16)
      const evenIsLo = (i & 1) === 0;
      expect(f16ToF32(f32ToF16(mid))).toBe(evenIsLo ? lo : hi);
      expect(f16ToF32(f32ToF16(Math.fround(mid + (hi - lo) / 8)))).toBe(hi);
      expect(f16ToF32(f32ToF16(-Math.fround(mid - (hi - lo) / 8)))).toBe(-lo);
    }
  });

  it('overflow is reported, not clamped; ±∞ and NaN keep their meaning; tiny values go to ±0', () => {
    expect(f32ToF16(F16_MAX)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff); // rounds down to 65504
    expect(f32ToF16(65520)).toBe(-1); // rounds to 65536: beyond f16
    expect(f32ToF16(-1e6)).toBe(-1);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
    expect(f32ToF16(2 ** -26)).toBe(0);
    expect(f32ToF16(-(2 ** -26))).toBe(0x8000);
    expect(f32ToF16(2 ** -25)).toBe(0); // a tie with 0: even
    expect(f32ToF16(Math.fround(2 ** -25 * 1.01))).toBe(1);
    expect(toF16(new Float32Array([1, 2, 70000, 3]))).toEqual({ index: 2, value: 70000 });
    expect([...fromF16(toF16(new Float32Array([1, -2, 0.5])) as Uint16Array)]).toEqual([1, -2, 0.5]);
  });
});
