/**
 * CPU twin of shaders/rope.wgsl — rotary position embedding (Su et al., RoFormer, arXiv 2104.09864),
 * half-split pairing (x[j], x[j + D/2]) with angle p·base^(−2j/D).
 */
import { OpInputError } from '../errors.js';

/** cos/sin table (P, D/2, 2) in f64 rounded to f32 — the GPU kernel reads the same table. */
export function ropeTable(P: number, D: number, base = 10000): Float32Array {
  if (D % 2 !== 0) throw new OpInputError('rope', `head dim ${D} must be even`);
  const half = D / 2;
  const t = new Float32Array(P * half * 2);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < half; j++) {
      const ang = p * Math.pow(base, (-2 * j) / D);
      t[(p * half + j) * 2] = Math.cos(ang);
      t[(p * half + j) * 2 + 1] = Math.sin(ang);
    }
  }
  return t;
}

/** x (tokens, H, D), positions (tokens). Positions outside the table throw. */
export function ropeRef(
  x: Float32Array,
  pos: Uint32Array | Int32Array,
  H: number,
  D: number,
  table: Float32Array,
): Float32Array {
  const half = D / 2;
  const P = table.length / (half * 2);
  const y = new Float32Array(x.length);
  const tokens = pos.length;
  for (let t = 0; t < tokens; t++) {
    const p = pos[t];
    if (!(p >= 0 && p < P))
      throw new OpInputError('rope', `position ${p} at token ${t} is outside the table [0, ${P})`);
    for (let h = 0; h < H; h++) {
      const base = (t * H + h) * D;
      for (let j = 0; j < half; j++) {
        const c = table[(p * half + j) * 2],
          s = table[(p * half + j) * 2 + 1];
        const x0 = x[base + j],
          x1 = x[base + j + half];
        y[base + j] = x0 * c - x1 * s;
        y[base + j + half] = x0 * s + x1 * c;
      }
    }
  }
  return y;
}
