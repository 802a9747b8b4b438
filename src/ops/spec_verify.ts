/**
 * The spec_verify op's contract (shaders/spec_verify.wgsl): speculative decoding's accept/reject for
 * every row from one logits tensor (B, 2K + 1, V) — the target's p_0..p_K, then the draft's q_0..q_{K−1} —
 * the drafts (B, K) and per-row counts (B, 2) = (drafts to verify ≤ K, bonus allowed 0/1); returns the
 * decided tokens (B, K + 1) u32 — accepted drafts, then the residual draw flagged SPEC_RESAMPLED or the
 * bonus draw — SPEC_NONE after the last. Only these K + 1 ints per row are read back.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { expectStreams, planDrawKnobs } from './categorical.js';
import { paramsStruct } from './params.js';

export { SPEC_NONE, SPEC_RESAMPLED } from '../reference/spec_verify.js';

export interface SpecVerifyOptions {
  /** ≥ 0; 0 = greedy (one-hot distributions). Default 1. */
  temperature?: number;
  /** integer ≥ 0; 0 = off. */
  topK?: number;
  /** (0, 1]; 1 = off. */
  topP?: number;
  /** 64-bit seed (Philox key) */
  seed: number | bigint;
  /** the round, 0 ≤ counter < 2^32 (the random words are keyed by it) */
  counter: number;
  /** (B, 2) u32: row b's Philox words (row, counter) in place of (b, counter) — a sample's own (continuous batching) */
  streams?: Tensor;
  /** @internal false: draw from p_j instead of the residual — a wrong sampler for the statistical tests */
  residual?: boolean;
  /** write into this preallocated (B, K + 1) u32 tensor */
  out?: Tensor;
}

/** shaders/spec_verify.wgsl's `struct Params` */
export const SPEC_VERIFY_PARAMS = paramsStruct('spec_verify', {
  B: 'u32',
  K: 'u32',
  V: 'u32',
  top_k: 'u32',
  temperature: 'f32',
  top_p: 'f32',
  groups_x: 'u32',
  counter: 'u32',
  key: 'vec2<u32>',
  streams: 'u32',
  _pad: 'u32',
});

export function planSpecVerify(
  logits: Tensor,
  drafts: Tensor,
  counts: Tensor,
  o: SpecVerifyOptions,
  be: BackendName,
): { B: number; K: number; V: number; temperature: number; topK: number; topP: number; outShape: number[] } {
  const op = 'spec_verify';
  expect(op, 'logits', logits, be, ['f32'], [3]);
  expect(op, 'drafts', drafts, be, ['u32'], [2]);
  expect(op, 'counts', counts, be, ['u32'], [2]);
  const [B, rows, V] = logits.shape;
  const K = drafts.shape[1];
  if (rows !== 2 * K + 1)
    fail(op, `logits has ${rows} rows per batch entry; ${K} drafts need 2K + 1 = ${2 * K + 1} (p_0..p_K, q_0..q_K−1)`);
  if (drafts.shape[0] !== B || counts.shape[0] !== B || counts.shape[1] !== 2)
    fail(op, `drafts must be (${B}, K) and counts (${B}, 2), got [${drafts.shape}] and [${counts.shape}]`);
  if (V < 1) fail(op, 'vocabulary must have at least one entry');
  const { temperature, topK, topP } = planDrawKnobs(op, o);
  if (!Number.isInteger(o.counter) || o.counter < 0 || o.counter >= 2 ** 32)
    fail(op, `counter must be an integer in [0, 2^32), got ${o.counter}`);
  const outShape = [B, K + 1];
  expectOut(op, o.out, outShape, 'u32', be);
  if (o.streams) expectStreams(op, o.streams, B, be);
  return { B, K, V, temperature, topK, topP, outShape };
}
