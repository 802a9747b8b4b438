/**
 * The attention op's contract (shaders/attention.wgsl): masked multi-head scaled dot-product
 * attention over q (B, Tq, H, D) and k, v (B, Tk, Hkv, D) with a (B|1, Tq, Tk) u32 mask; its options,
 * shape plan (the dims the twin takes too) and uniform struct. Hkv < H is grouped-query attention
 * (arXiv 2305.13245): Hkv must divide H, and query head h reads key/value head ⌊h / (H / Hkv)⌋.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** the kernel's largest head dimension (its per-thread accumulator) */
export const MAX_HEAD_DIM = 128;

/** shaders/attention.wgsl's `struct Params` */
export const ATTENTION_PARAMS = paramsStruct('attention', {
  B: 'u32',
  Tq: 'u32',
  Tk: 'u32',
  H: 'u32',
  D: 'u32',
  scale: 'f32',
  groups_x: 'u32',
  Hkv: 'u32',
});

export interface AttentionOptions {
  /** default 1/√D */
  scale?: number;
  out?: Tensor;
}

export interface AttentionDims {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  /** key/value heads (divides H; = H without grouping) */
  Hkv: number;
  D: number;
  scale: number;
  maskBatched: boolean;
}

export function planAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor,
  o: AttentionOptions,
  be: BackendName,
): AttentionDims {
  const op = 'attention';
  expect(op, 'q', q, be, ['f32'], [4]);
  expect(op, 'k', k, be, ['f32'], [4]);
  expect(op, 'v', v, be, ['f32'], [4]);
  expect(op, 'mask', mask, be, ['u32'], [2, 3]);
  const [B, Tq, H, D] = q.shape;
  const [kB, Tk, kH, kD] = k.shape;
  if (kB !== B || kD !== D)
    fail(op, `k [${k.shape.join(', ')}] does not match q [${q.shape.join(', ')}] in batch/head dim`);
  if (kH < 1 || H % kH !== 0)
    fail(
      op,
      `k's ${kH} heads must divide q's ${H} (grouped-query attention: each k/v head serves H / Hkv query heads)`,
    );
  if (v.shape.some((d, i) => d !== k.shape[i]))
    fail(op, `v [${v.shape.join(', ')}] must match k [${k.shape.join(', ')}]`);
  if (D > MAX_HEAD_DIM) fail(op, `head dim ${D} exceeds the kernel's maximum ${MAX_HEAD_DIM}`);
  const ms = mask.shape;
  const mTq = ms[ms.length - 2],
    mTk = ms[ms.length - 1];
  if (mTq !== Tq || mTk !== Tk) fail(op, `mask [${ms.join(', ')}] must end in (${Tq}, ${Tk})`);
  const maskBatched = ms.length === 3 && ms[0] !== 1;
  if (maskBatched && ms[0] !== B) fail(op, `mask batch ${ms[0]} must be 1 or ${B}`);
  const s = o.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(s)) fail(op, `scale must be finite, got ${o.scale}`);
  expectOut(op, o.out, q.shape, 'f32', be);
  return { B, Tq, Tk, H, Hkv: kH, D, scale: s, maskBatched };
}
