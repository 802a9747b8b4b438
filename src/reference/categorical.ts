/**
 * CPU twin of shaders/categorical.wgsl: batched categorical draws from softmax(logits / T) with
 * top-k and top-p, by Gumbel-max (argmax_i z_i + G_i is a draw from softmax(z); Gumbel 1954,
 * Maddison et al. arXiv 1411.0030). Same Philox counters as the GPU, so both backends draw the same
 * tokens except where f32 and f64 rounding split a near-tie.
 *
 * precision 'precise' (default) builds each Gumbel from 64 bits with extended-range uniforms (exact
 * in both tails); 'naive-f32' uses a 24-bit fp32 uniform, capping G at ≈16.64 — the truncation
 * studied in arXiv 2409.02908, kept as a knob so its lower entropy can be shown.
 */
import { INVALID_SAMPLE, keepThreshold, type SamplePlan } from '../ops/categorical.js';
import { gumbelNaive, gumbelPrecise, philox4x32 } from '../rng.js';

/** the plan's sampling fields (src/ops/categorical.ts) */
export type CategoricalOptions = Pick<SamplePlan, 'temperature' | 'topK' | 'topP' | 'precision' | 'key' | 'counter'> & {
  /** (rows, 2): row r's Philox words (row, counter.lo) in place of (r, counter[0]) */
  streams?: Uint32Array;
};

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Order-preserving u32 key of an f32 (same as ss_sortable). */
export function sortableKey(x: number): number {
  F32[0] = x;
  const b = U32[0];
  return (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

export function categoricalRef(logits: Float32Array, rows: number, V: number, o: CategoricalOptions): Uint32Array {
  const out = new Uint32Array(rows);
  const greedy = o.temperature === 0;
  const w = new Uint32Array(4);
  const z = new Float32Array(V);
  const idx: number[] = [];
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    let bad = false;
    idx.length = 0;
    for (let i = 0; i < V; i++) {
      const l = logits[off + i];
      if (Number.isNaN(l) || l === Infinity) bad = true;
      else if (l !== -Infinity) {
        z[i] = greedy ? l : Math.fround(l / o.temperature);
        idx.push(i);
      }
    }
    if (bad || idx.length === 0) {
      out[r] = INVALID_SAMPLE;
      continue;
    }
    const thr = keepThreshold(
      idx.map((i) => z[i]),
      o.topK,
      greedy ? 1 : o.topP,
    );
    let best = -Infinity;
    let bestI = INVALID_SAMPLE;
    const rowWord = o.streams ? o.streams[2 * r] : r,
      ctr = o.streams ? o.streams[2 * r + 1] : o.counter[0];
    for (const i of idx) {
      if (z[i] < thr) continue;
      let score = z[i];
      if (!greedy) {
        philox4x32(i >>> 1, rowWord, ctr, o.counter[1], o.key[0], o.key[1], w);
        const hi = w[(i & 1) * 2],
          lo = w[(i & 1) * 2 + 1];
        score += o.precision === 'naive-f32' ? gumbelNaive(hi) : gumbelPrecise(hi, lo);
      }
      if (bestI === INVALID_SAMPLE || score > best) {
        best = score;
        bestI = i;
      }
    }
    out[r] = bestI;
  }
  return out;
}
