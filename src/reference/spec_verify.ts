/**
 * CPU twin of shaders/spec_verify.wgsl: speculative decoding's accept/reject for every row, in f64
 * from the same Philox words (accept uniforms and Gumbels), so both backends decide the same except
 * where f32 and f64 rounding split a near-tie. Layout and semantics: see the kernel's header.
 */
import { categoricalProbs, INVALID_SAMPLE } from '../ops/categorical.js';
import { extUniform, gumbelPrecise, philox4x32 } from '../rng.js';

/** after the last decided token of a row */
export const SPEC_NONE = 0xfffffffe;
/** set on a token drawn from the residual after a rejection (token = value & ~SPEC_RESAMPLED) */
export const SPEC_RESAMPLED = 0x80000000;

export interface SpecVerifyParams {
  B: number;
  K: number;
  V: number;
  temperature: number;
  topK: number;
  topP: number;
  key: [number, number];
  counter: number;
  /** false: draw from p_j instead of the residual (the deliberately wrong sampler of the tests) */
  residual: boolean;
  /** (B, 2): row b's Philox words (row, counter) in place of (b, counter) */
  streams?: Uint32Array;
}

/** The kept, normalised distribution of one logits row (f64), or null for an invalid row. */
function dist(row: Float32Array, o: SpecVerifyParams): Float64Array | null {
  if (row.some((l) => Number.isNaN(l) || l === Infinity) || row.every((l) => l === -Infinity)) return null;
  return categoricalProbs(row, o);
}

export function specVerifyRef(
  logits: Float32Array,
  drafts: Uint32Array,
  counts: Uint32Array,
  o: SpecVerifyParams,
): Uint32Array {
  const { B, K, V } = o;
  const rows = 2 * K + 1;
  const out = new Uint32Array(B * (K + 1)).fill(SPEC_NONE);
  const w = new Uint32Array(4);
  const row = (b: number, r: number) => logits.subarray((b * rows + r) * V, (b * rows + r + 1) * V);
  // row b's Philox words (row, counter): its stream's when given
  const rowWord = (b: number) => (o.streams ? o.streams[2 * b] : b);
  const ctr = (b: number) => (o.streams ? o.streams[2 * b + 1] : o.counter);
  const gumbel = (b: number, tag: number, v: number) => {
    philox4x32(v >>> 1, rowWord(b), ctr(b), tag, o.key[0], o.key[1], w);
    return (v & 1) === 0 ? gumbelPrecise(w[0], w[1]) : gumbelPrecise(w[2], w[3]);
  };
  // Gumbel-max over the positive weights
  const draw = (b: number, tag: number, weight: (v: number) => number) => {
    let best = -Infinity,
      bestV = SPEC_NONE;
    for (let v = 0; v < V; v++) {
      const x = weight(v);
      if (!(x > 0)) continue;
      const s = Math.log(x) + gumbel(b, tag, v);
      if (bestV === SPEC_NONE || s > best) {
        best = s;
        bestV = v;
      }
    }
    return bestV;
  };
  rows: for (let b = 0; b < B; b++) {
    const o0 = b * (K + 1);
    const kb = Math.min(counts[2 * b], K);
    for (let j = 0; j < kb; j++) {
      const p = dist(row(b, j), o),
        q = dist(row(b, K + 1 + j), o);
      if (!p || !q) {
        out[o0] = INVALID_SAMPLE;
        continue rows;
      }
      const x = drafts[b * K + j];
      philox4x32(0xffffffff, rowWord(b), ctr(b), 4 * j + 1, o.key[0], o.key[1], w);
      const u = extUniform(w[0], w[1]);
      if (q[x] > 0 && u < p[x] / q[x]) {
        out[o0 + j] = x;
        continue;
      }
      const r = draw(b, 4 * j + 2, (v) => (o.residual ? Math.max(p[v] - q[v], 0) : p[v]));
      // an empty residual means p = q up to rounding: keep x̃_j
      out[o0 + j] = r === SPEC_NONE ? x : (r | SPEC_RESAMPLED) >>> 0;
      if (r !== SPEC_NONE) continue rows;
    }
    if (counts[2 * b + 1]) {
      const p = dist(row(b, kb), o);
      if (!p) {
        out[o0] = INVALID_SAMPLE;
        continue;
      }
      out[o0 + kb] = draw(b, 4 * kb + 3, (v) => p[v]);
    }
  }
  return out;
}
