/**
 * Shape and option validation shared by both backends, so a bad call fails the same way (OpInputError
 * naming the op and the rule) whether it runs on the GPU or the CPU.
 */
import { OpInputError } from '../errors.js';
import { assertLive, type BackendName, type DType, type Tensor } from './tensor.js';
import { INVALID_SAMPLE, type Precision } from '../reference/categorical.js';
import { InvalidLogitsError } from '../errors.js';
import type { AttentionDims } from '../reference/attention.js';
import { dtypeOf, type HostArray } from './tensor.js';
import type { RngOutput } from '../reference/rng.js';
import { ACTIVATION_CODES, type Activation } from '../reference/elementwise.js';

export const MAX_HEAD_DIM = 128;

export function fail(op: string, msg: string): never {
  throw new OpInputError(op, msg);
}

export function expect(
  op: string,
  name: string,
  t: Tensor,
  backend: BackendName,
  dtypes: DType[],
  rank?: number[],
): void {
  if (!t || typeof t !== 'object' || !('shape' in t)) fail(op, `${name} must be a Tensor`);
  assertLive(t, op);
  if (t.backend !== backend) fail(op, `${name} lives on the ${t.backend} backend, not ${backend}`);
  if (!dtypes.includes(t.dtype)) fail(op, `${name} must be ${dtypes.join(' or ')}, got ${t.dtype}`);
  if (rank && !rank.includes(t.shape.length))
    fail(op, `${name} must have rank ${rank.join(' or ')}, got [${t.shape.join(', ')}]`);
}

export function expectOut(
  op: string,
  out: Tensor | undefined,
  shape: readonly number[],
  dtype: DType,
  backend: BackendName,
): void {
  if (!out) return;
  expect(op, 'out', out, backend, [dtype]);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    fail(op, `out has shape [${out.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

export function planRows(op: string, x: Tensor, be: BackendName, C?: number): { rows: number; C: number } {
  expect(op, 'x', x, be, ['f32']);
  if (x.shape.length < 1) fail(op, 'x must have rank ≥ 1');
  const c = x.shape[x.shape.length - 1];
  if (C !== undefined && c !== C) fail(op, `last dimension ${c} does not match parameter length ${C}`);
  return { rows: c === 0 ? 0 : x.size / c, C: c };
}

export function planNorm(
  op: string,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor | null,
  eps: number,
  be: BackendName,
): { rows: number; C: number } {
  expect(op, 'gamma', gamma, be, ['f32'], [1]);
  if (beta) expect(op, 'beta', beta, be, ['f32'], [1]);
  if (beta && beta.shape[0] !== gamma.shape[0]) fail(op, 'gamma and beta differ in length');
  if (!(eps >= 0) || !Number.isFinite(eps)) fail(op, `eps must be finite and ≥ 0, got ${eps}`);
  return planRows(op, x, be, gamma.shape[0]);
}

export function planRope(
  x: Tensor,
  pos: Tensor,
  table: Tensor,
  be: BackendName,
): { tokens: number; H: number; D: number; P: number } {
  const op = 'rope';
  expect(op, 'x', x, be, ['f32'], [3, 4]);
  expect(op, 'positions', pos, be, ['u32', 'i32']);
  expect(op, 'table', table, be, ['f32'], [3]);
  const D = x.shape[x.shape.length - 1];
  const H = x.shape[x.shape.length - 2];
  const tokens = x.size / Math.max(1, H * D);
  if (D % 2 !== 0) fail(op, `head dim ${D} must be even`);
  if (pos.size !== tokens) fail(op, `positions has ${pos.size} entries, x has ${tokens} tokens`);
  if (table.shape[1] !== D / 2 || table.shape[2] !== 2)
    fail(op, `table must be (P, ${D / 2}, 2), got [${table.shape.join(', ')}]`);
  return { tokens, H, D, P: table.shape[0] };
}

export function planAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor,
  scale: number | undefined,
  be: BackendName,
): AttentionDims {
  const op = 'attention';
  expect(op, 'q', q, be, ['f32'], [4]);
  expect(op, 'k', k, be, ['f32'], [4]);
  expect(op, 'v', v, be, ['f32'], [4]);
  expect(op, 'mask', mask, be, ['u32'], [2, 3]);
  const [B, Tq, H, D] = q.shape;
  const [kB, Tk, kH, kD] = k.shape;
  if (kB !== B || kH !== H || kD !== D)
    fail(op, `k [${k.shape.join(', ')}] does not match q [${q.shape.join(', ')}] in batch/heads/dim`);
  if (v.shape.some((d, i) => d !== k.shape[i]))
    fail(op, `v [${v.shape.join(', ')}] must match k [${k.shape.join(', ')}]`);
  if (D > MAX_HEAD_DIM) fail(op, `head dim ${D} exceeds the kernel's maximum ${MAX_HEAD_DIM}`);
  const ms = mask.shape;
  const mTq = ms[ms.length - 2],
    mTk = ms[ms.length - 1];
  if (mTq !== Tq || mTk !== Tk) fail(op, `mask [${ms.join(', ')}] must end in (${Tq}, ${Tk})`);
  const maskBatched = ms.length === 3 && ms[0] !== 1;
  if (maskBatched && ms[0] !== B) fail(op, `mask batch ${ms[0]} must be 1 or ${B}`);
  const s = scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(s)) fail(op, `scale must be finite, got ${scale}`);
  return { B, Tq, Tk, H, D, scale: s, maskBatched };
}

export function planBinary(op: string, a: Tensor, b: Tensor, be: BackendName): void {
  expect(op, 'a', a, be, ['f32']);
  expect(op, 'b', b, be, ['f32']);
  if (b.size === 0 || a.size % b.size !== 0)
    fail(op, `b has ${b.size} elements, which must divide a's ${a.size} (broadcast by repetition)`);
}

export interface RngOptions {
  /** Philox counters; 'u32' yields 4 words each, the other outputs 2 values each */
  count: number;
  seed: number | bigint;
  /** counter words 1..3 */
  stream?: [number, number, number];
  output?: RngOutput;
  tailSlice?: number;
}

export function planRng(o: RngOptions): {
  count: number;
  output: RngOutput;
  stream: [number, number, number];
  tailSlice: number;
  outShape: number[];
  dtype: DType;
} {
  const op = 'rng';
  const output = o.output ?? 'u32';
  if (!['u32', 'uniform', 'uniform-naive', 'gumbel', 'gumbel-naive', 'normal'].includes(output))
    fail(op, `unknown output "${output}"`);
  if (!Number.isInteger(o.count) || o.count < 0 || o.count > 2 ** 31)
    fail(op, `count must be an integer in [0, 2^31], got ${o.count}`);
  const stream = o.stream ?? [0, 0, 0];
  if (stream.length !== 3 || stream.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff))
    fail(op, 'stream must be 3 u32 words');
  const tailSlice = o.tailSlice ?? 0;
  if (!Number.isInteger(tailSlice) || tailSlice < 0 || tailSlice > 63)
    fail(op, `tailSlice must be an integer in [0, 63], got ${tailSlice}`);
  if (tailSlice && output === 'normal') fail(op, 'tailSlice applies to uniform and Gumbel outputs, not normal');
  const u = output === 'u32';
  return { count: o.count, output, stream, tailSlice, outShape: [o.count, u ? 4 : 2], dtype: u ? 'u32' : 'f32' };
}

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
  out?: Tensor;
}

export interface SamplePlan {
  rows: number;
  V: number;
  temperature: number;
  topK: number;
  topP: number;
  precision: Precision;
  counter: [number, number];
}

export function planCategorical(logits: Tensor, o: SampleOptions, be: BackendName): SamplePlan {
  const op = 'categorical';
  expect(op, 'logits', logits, be, ['f32'], [1, 2]);
  const V = logits.shape[logits.shape.length - 1];
  const rows = logits.shape.length === 2 ? logits.shape[0] : 1;
  if (V < 1) fail(op, 'vocabulary must have at least one entry');
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    fail(op, `temperature must be finite and ≥ 0, got ${o.temperature}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) fail(op, `topK must be an integer ≥ 0 (0 = off), got ${o.topK}`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) fail(op, `topP must be in (0, 1], got ${o.topP}`);
  const precision = o.precision ?? 'precise';
  if (precision !== 'precise' && precision !== 'naive-f32')
    fail(op, `precision must be 'precise' or 'naive-f32', got ${String(precision)}`);
  const c = o.counter ?? 0;
  if (!Number.isInteger(c) || c < 0 || c > Number.MAX_SAFE_INTEGER)
    fail(op, `counter must be an integer in [0, 2^53), got ${o.counter}`);
  expectOut(op, o.out, [rows], 'u32', be);
  return { rows, V, temperature, topK, topP, precision, counter: [c % 2 ** 32, Math.floor(c / 2 ** 32)] };
}

/** Validate a host write into `t`. */
export function planWrite(t: Tensor, data: HostArray, be: BackendName): void {
  expect('write', 't', t, be, [t.dtype]);
  if (data.length !== t.size || dtypeOf(data) !== t.dtype) fail('write', `expected ${t.size} ${t.dtype} values`);
}

/** A categorical result read back: rows the kernel marked invalid become InvalidLogitsError. */
export function checkSamples(t: Tensor, d: HostArray): HostArray {
  if (t.role !== 'samples') return d;
  const bad: number[] = [];
  d.forEach((v, i) => v === INVALID_SAMPLE && bad.push(i));
  if (bad.length) throw new InvalidLogitsError(bad);
  return d;
}

export function planReshape(t: Tensor, shape: readonly number[], be: BackendName): void {
  expect('reshape', 't', t, be, ['f32', 'u32', 'i32']);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || shape.reduce((a, b) => a * b, 1) !== t.size) {
    fail('reshape', `cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}]`);
  }
}

export interface Conv2dOptions {
  /** (Cout) */
  bias?: Tensor;
  /** default 1 */
  stride?: number;
  /** zero padding on every side, default 0 */
  pad?: number;
  /** fused after the bias; default 'none' */
  activation?: Activation;
}

export function planConv2d(x: Tensor, w: Tensor, o: Conv2dOptions, backend: BackendName) {
  const op = 'conv2d';
  expect(op, 'x', x, backend, ['f32'], [4]);
  expect(op, 'w', w, backend, ['f32'], [4]);
  const [B, H, W, Cin] = x.shape;
  const [KH, KW, wCin, Cout] = w.shape;
  if (wCin !== Cin) fail(op, `w has ${wCin} input channels, x has ${Cin}`);
  if (KH < 1 || KW < 1 || Cin < 1 || Cout < 1) fail(op, `kernel [${w.shape.join(', ')}] must have every dimension ≥ 1`);
  const stride = o.stride ?? 1,
    pad = o.pad ?? 0;
  if (!Number.isInteger(stride) || stride < 1) fail(op, `stride must be an integer ≥ 1, got ${stride}`);
  if (!Number.isInteger(pad) || pad < 0) fail(op, `pad must be an integer ≥ 0, got ${pad}`);
  const Ho = Math.floor((H + 2 * pad - KH) / stride) + 1,
    Wo = Math.floor((W + 2 * pad - KW) / stride) + 1;
  if (Ho < 1 || Wo < 1)
    fail(op, `output would be ${Ho}×${Wo}: kernel ${KH}×${KW} does not fit ${H}×${W} with pad ${pad}`);
  if (o.bias) {
    expect(op, 'bias', o.bias, backend, ['f32'], [1]);
    if (o.bias.shape[0] !== Cout) fail(op, `bias has ${o.bias.shape[0]} entries, expected ${Cout}`);
  }
  const activation: Activation = o.activation ?? 'none';
  if (!Object.hasOwn(ACTIVATION_CODES, activation)) fail(op, `unknown activation "${activation}"`);
  return { B, H, W, Cin, KH, KW, Cout, stride, pad, Ho, Wo, activation, outShape: [B, Ho, Wo, Cout] };
}
