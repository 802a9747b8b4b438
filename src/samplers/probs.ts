/**
 * Host-side probabilities for samplers that accept or reject on the CPU (ASSD's speculative step,
 * MaM): the law the categorical op (shaders/categorical.wgsl, twin src/reference/categorical.ts)
 * draws from, computed in f64.
 */
import { keepThreshold } from '../ops/categorical.js';

/**
 * The distribution the categorical op draws from, for one row, in f64: softmax(l / T) restricted by
 * top-k then top-p with the same tie rules as the kernel; −inf entries get 0; T = 0 is one-hot on
 * the argmax (lowest index on ties). Used where a sampler needs probabilities on the host
 * (speculative accept/reject).
 */
export function categoricalProbs(
  logits: ArrayLike<number>,
  o: { temperature: number; topK: number; topP: number },
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
