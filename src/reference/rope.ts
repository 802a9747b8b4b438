/**
 * CPU twin of shaders/rope.wgsl — rotary position embedding (Su et al., RoFormer, arXiv 2104.09864),
 * half-split pairing (x[j], x[j + D/2]) with angle p·base^(−2j/D).
 */
import { OpInputError } from '../errors.js';

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
