/**
 * The categorical op's contract (shaders/categorical.wgsl): one draw per row of (rows, V) logits from
 * softmax(logits / T) under top-k and top-p, by Gumbel-max; its options, plan, precision codes, the
 * invalid-row marker and its uniform struct.
 */
import { InvalidLogitsError } from '../errors.js';
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, HostArray, Tensor } from '../backend/tensor.js';
import { seedToKey } from '../rng.js';
import { paramsStruct } from './params.js';

/**
 * 'precise' builds each Gumbel from 64 bits (extended-range uniforms); 'naive-f32' from a 24-bit fp32
 * uniform, capping G at ≈16.64 (arXiv 2409.02908), kept as a knob for study.
 */
export type Precision = 'precise' | 'naive-f32';
/** the kernel's `override PRECISION` for each precision */
export const PRECISION_CODES: Record<Precision, number> = { precise: 0, 'naive-f32': 1 };
/** Written for a row whose logits define no distribution. */
export const INVALID_SAMPLE = 0xffffffff;

/** shaders/categorical.wgsl's `struct Params` */
export const CATEGORICAL_PARAMS = paramsStruct('categorical', {
  rows: 'u32',
  V: 'u32',
  top_k: 'u32',
  groups_x: 'u32',
  temperature: 'f32',
  top_p: 'f32',
  key: 'vec2<u32>',
  counter: 'vec2<u32>',
  streams: 'u32',
  _pad: 'u32',
});

export interface SampleOptions {
  /** ≥ 0, finite; 0 = greedy. Default 1. */
  temperature?: number;
  /** integer ≥ 0; 0 = off. Default 0. */
  topK?: number;
  /** in (0, 1]; 1 = off. Default 1. */
  topP?: number;
  /** Default 'precise'. */
  precision?: Precision;
  /** 64-bit seed (Philox key). */
  seed: number | bigint;
  /** per-call counter, e.g. the sampling step; 0 ≤ counter < 2^53. Default 0. */
  counter?: number;
  /**
   * (rows, 2) u32: row r's random stream — Philox words (row, counter's low word) in place of (r, counter's
   * low word), so a sample draws the same bits whatever row of whatever batch it runs in (continuous
   * batching: its own index and round). The counter's high word stays the call's.
   */
  streams?: Tensor;
  out?: Tensor;
}

/** A checked call: the options with their defaults, and what the kernel and its twin take. */
export interface SamplePlan {
  rows: number;
  V: number;
  /** ≥ 0; 0 = greedy */
  temperature: number;
  /** 0 = off */
  topK: number;
  /** (0, 1]; 1 = off */
  topP: number;
  precision: Precision;
  /** per-call counter (lo, hi): the sampler's step */
  counter: [number, number];
  /** Philox key (lo, hi) of `seed` */
  key: [number, number];
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

/**
 * The distribution the categorical op draws from, for one row, in f64: softmax(l / T) restricted by
 * top-k then top-p with the same tie rules as the kernel; −inf entries get 0; T = 0 is one-hot on
 * the argmax (lowest index on ties). Used where a sampler needs probabilities on the host
 * (ASSD's accept/reject, MaM) and the spec_verify twin.
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

/** The draw knobs of the categorical and spec_verify ops, defaulted and checked (OpInputError naming `op`). */
export function planDrawKnobs(
  op: string,
  o: { temperature?: number; topK?: number; topP?: number },
): { temperature: number; topK: number; topP: number } {
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    fail(op, `temperature must be finite and ≥ 0, got ${o.temperature}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) fail(op, `topK must be an integer ≥ 0 (0 = off), got ${o.topK}`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) fail(op, `topP must be in (0, 1], got ${o.topP}`);
  return { temperature, topK, topP };
}

export function planCategorical(logits: Tensor, o: SampleOptions, be: BackendName): SamplePlan {
  const op = 'categorical';
  expect(op, 'logits', logits, be, ['f32'], [1, 2]);
  const V = logits.shape[logits.shape.length - 1];
  const rows = logits.shape.length === 2 ? logits.shape[0] : 1;
  if (V < 1) fail(op, 'vocabulary must have at least one entry');
  const { temperature, topK, topP } = planDrawKnobs(op, o);
  const precision = o.precision ?? 'precise';
  if (precision !== 'precise' && precision !== 'naive-f32')
    fail(op, `precision must be 'precise' or 'naive-f32', got ${String(precision)}`);
  const c = o.counter ?? 0;
  if (!Number.isInteger(c) || c < 0 || c > Number.MAX_SAFE_INTEGER)
    fail(op, `counter must be an integer in [0, 2^53), got ${o.counter}`);
  const key = seedToKey(o.seed);
  expectOut(op, o.out, [rows], 'u32', be);
  if (o.streams) expectStreams(op, o.streams, rows, be);
  return { rows, V, temperature, topK, topP, precision, counter: [c % 2 ** 32, Math.floor(c / 2 ** 32)], key };
}

/** A per-row random-stream tensor (rows, 2) u32 of the categorical and spec_verify ops. */
export function expectStreams(op: string, streams: Tensor, rows: number, be: BackendName): void {
  expect(op, 'streams', streams, be, ['u32'], [2]);
  if (streams.shape[0] !== rows || streams.shape[1] !== 2)
    fail(op, `streams must be (${rows}, 2) (row, counter per row), got [${streams.shape}]`);
}

/** A categorical result read back: rows the kernel marked invalid become InvalidLogitsError. */
export function checkSamples(t: Tensor, d: HostArray): HostArray {
  if (t.role !== 'samples') return d;
  const bad: number[] = [];
  d.forEach((v, i) => v === INVALID_SAMPLE && bad.push(i));
  if (bad.length) throw new InvalidLogitsError(bad);
  return d;
}

/** log p(token) from one position's logits, normalised over the data vocabulary (`mask` excluded), in f64. */
export function dataLogProb(row: ArrayLike<number>, token: number, mask: number | undefined): number {
  let m = -Infinity;
  for (let v = 0; v < row.length; v++) if (v !== mask) m = Math.max(m, row[v]);
  let z = 0;
  for (let v = 0; v < row.length; v++) if (v !== mask) z += Math.exp(row[v] - m);
  return row[token] - m - Math.log(z);
}
