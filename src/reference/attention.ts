/**
 * CPU twin of shaders/attention.wgsl: masked multi-head scaled dot-product attention (Vaswani et al.,
 * arXiv 1706.03762) with separate query and key/value streams (XLNet two-stream, arXiv 1906.08237).
 * mask[b?, i, j] = 1 lets query i attend key j. A fully masked query row outputs zeros. f64.
 * Grouped-query attention (Ainslie et al., arXiv 2305.13245): k, v have Hkv heads; query head h uses
 * key/value head ⌊h / (H / Hkv)⌋.
 */
import type { AttentionDims } from '../ops/attention.js';

export function attentionRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Uint32Array,
  d: AttentionDims,
): Float32Array {
  const { B, Tq, Tk, H, Hkv, D, scale } = d;
  const group = H / Hkv;
  const out = new Float32Array(B * Tq * H * D);
  const s = new Float64Array(Tk);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const mo = d.maskBatched ? (b * Tq + i) * Tk : i * Tk;
      for (let h = 0; h < H; h++) {
        const qo = ((b * Tq + i) * H + h) * D;
        let m = -Infinity;
        for (let j = 0; j < Tk; j++) {
          if (!mask[mo + j]) continue;
          const ko = ((b * Tk + j) * Hkv + Math.floor(h / group)) * D;
          let dot = 0;
          for (let e = 0; e < D; e++) dot += q[qo + e] * k[ko + e];
          s[j] = dot * scale;
          if (s[j] > m) m = s[j];
        }
        acc.fill(0);
        let l = 0;
        for (let j = 0; j < Tk; j++) {
          if (!mask[mo + j]) continue;
          const p = Math.exp(s[j] - m);
          l += p;
          const vo = ((b * Tk + j) * Hkv + Math.floor(h / group)) * D;
          for (let e = 0; e < D; e++) acc[e] += p * v[vo + e];
        }
        for (let e = 0; e < D; e++) out[qo + e] = l > 0 ? acc[e] / l : 0;
      }
    }
  }
  return out;
}
