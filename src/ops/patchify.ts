/**
 * The patchify op's contract (shaders/patchify.wgsl): an NHWC image to (B, N, p·p·C) patches and
 * back (unpatchify); their options, shape plan and uniform struct.
 */
import { expect, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** shaders/patchify.wgsl's `struct Params` */
export const PATCHIFY_PARAMS = paramsStruct('patchify', {
  B: 'u32',
  H: 'u32',
  W: 'u32',
  C: 'u32',
  p: 'u32',
  groups_x: 'u32',
});

export interface UnpatchifyOptions {
  p: number;
  H: number;
  W: number;
  C: number;
}

export function planPatch(
  t: Tensor,
  o: { p: number; H?: number; W?: number; C?: number },
  inverse: boolean,
  backend: BackendName,
) {
  const op = inverse ? 'unpatchify' : 'patchify';
  expect(op, 'x', t, backend, ['f32'], [inverse ? 3 : 4]);
  const p = o.p;
  if (!Number.isInteger(p) || p < 1) fail(op, `patch size must be an integer ≥ 1, got ${p}`);
  let B: number, H: number, W: number, C: number;
  if (inverse) {
    ({ H, W, C } = o as UnpatchifyOptions);
    for (const [k, v] of [
      ['H', H],
      ['W', W],
      ['C', C],
    ] as const)
      if (!Number.isInteger(v) || v < 1) fail(op, `${k} must be an integer ≥ 1, got ${v}`);
    B = t.shape[0];
  } else {
    [B, H, W, C] = t.shape;
  }
  if (H % p || W % p) fail(op, `image ${H}×${W} is not divisible by the patch size ${p}`);
  const N = (H / p) * (W / p),
    P = p * p * C;
  if (inverse && (t.shape[1] !== N || t.shape[2] !== P))
    fail(op, `patches must be (B, ${N}, ${P}) for a ${H}×${W}×${C} image, got [${t.shape.join(', ')}]`);
  return { B, H, W, C, p, outShape: inverse ? [B, H, W, C] : [B, N, P] };
}
