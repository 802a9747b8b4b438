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
import { gumbelNaive, gumbelPrecise, philox4x32 } from './rng.js';

export type Precision = 'precise' | 'naive-f32';
export const PRECISION_CODES: Record<Precision, number> = { precise: 0, 'naive-f32': 1 };
/** Written for a row whose logits define no distribution. */
export const INVALID_SAMPLE = 0xffffffff;

export interface CategoricalOptions {
  /** ≥ 0; 0 = greedy */
  temperature: number;
  /** 0 = off */
  topK: number;
  /** (0, 1]; 1 = off */
  topP: number;
  precision: Precision;
  /** Philox key (lo, hi) */
  key: [number, number];
  /** per-call counter (lo, hi): the sampler's step */
  counter: [number, number];
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Order-preserving u32 key of an f32 (same as ss_sortable). */
export function sortableKey(x: number): number {
  F32[0] = x;
  const b = U32[0];
  return (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/**
 * The keep threshold on z = l / T over the finite tokens' z values: top-k keeps every z ≥ the k-th
 * largest, then top-p the smallest set of largest z whose softmax mass (over the top-k set) is ≥ p;
 * ties at a boundary are kept (the kernels' bitwise search finds the same threshold). −∞ = keep all.
 */
export function keepThreshold(zs: number[], topK: number, topP: number): number {
  const sorted = zs.sort((a, b) => b - a);
  let thr = -Infinity;
  if (topK > 0 && topK < sorted.length) thr = sorted[topK - 1];
  if (topP < 1) {
    const zmax = sorted[0];
    const kept = sorted.filter((v) => v >= thr);
    let total = 0;
    for (const v of kept) total += Math.exp(v - zmax);
    let cum = 0;
    for (let j = 0; j < kept.length; j++) {
      cum += Math.exp(kept[j] - zmax);
      // include all ties of kept[j] before testing the mass
      if (j + 1 < kept.length && kept[j + 1] === kept[j]) continue;
      if (cum >= topP * total) return Math.max(thr, kept[j]);
    }
  }
  return thr;
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
    for (const i of idx) {
      if (z[i] < thr) continue;
      let score = z[i];
      if (!greedy) {
        philox4x32(i >>> 1, r, o.counter[0], o.counter[1], o.key[0], o.key[1], w);
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

/**
 * The distribution the categorical op draws from, for one row, in f64: softmax(l / T) restricted by
 * top-k then top-p with the same tie rules as the kernel; −inf entries get 0; T = 0 is one-hot on
 * the argmax (lowest index on ties). Used where a sampler needs probabilities on the host
 * (speculative accept/reject).
 */
export function categoricalProbs(
  logits: ArrayLike<number>,
  o: Pick<CategoricalOptions, 'temperature' | 'topK' | 'topP'>,
): Float64Array {
  const V = logits.length;
  const p = new Float64Array(V);
  const idx: number[] = [];
  for (let i = 0; i < V; i++) if (logits[i] !== -Infinity) idx.push(i);
  if (idx.length === 0) throw new RangeError('no finite logit');
  if (o.temperature === 0) {
    let best = idx[0];
    for (const i of idx) if (logits[i] > logits[best]) best = i;
    p[best] = 1;
    return p;
  }
  const z = new Float64Array(V);
  for (const i of idx) z[i] = Math.fround(logits[i] / o.temperature);
  let zmax = -Infinity;
  for (const i of idx) zmax = Math.max(zmax, z[i]);
  const thr = keepThreshold(
    idx.map((i) => z[i]),
    o.topK,
    o.topP,
  );
  let s = 0;
  for (const i of idx) if (z[i] >= thr) s += p[i] = Math.exp(z[i] - zmax);
  for (let i = 0; i < V; i++) p[i] /= s;
  return p;
}
