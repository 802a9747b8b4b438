/**
 * The pool2d op's contract (shaders/pool2d.wgsl): max or average pooling over NHWC windows; its
 * options, shape plan, kind codes and uniform struct.
 */
import { expect, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** the kernel's `override KIND` for each kind */
export const POOL2D_KINDS = { max: 0, avg: 1 } as const;

/** shaders/pool2d.wgsl's `struct Params` */
export const POOL2D_PARAMS = paramsStruct('pool2d', {
  B: 'u32',
  H: 'u32',
  W: 'u32',
  C: 'u32',
  Ho: 'u32',
  Wo: 'u32',
  kh: 'u32',
  kw: 'u32',
  sh: 'u32',
  sw: 'u32',
  groups_x: 'u32',
});

export interface Pool2dOptions {
  kind: 'max' | 'avg';
  /** window: n×n, or [height, width] */
  size: number | [number, number];
  /** default: the window size */
  stride?: number | [number, number];
}

export function planPool2d(x: Tensor, o: Pool2dOptions, backend: BackendName) {
  const op = 'pool2d';
  expect(op, 'x', x, backend, ['f32'], [4]);
  if (o.kind !== 'max' && o.kind !== 'avg') fail(op, `kind must be "max" or "avg", got ${JSON.stringify(o.kind)}`);
  const pair = (v: number | [number, number], name: string): [number, number] => {
    const p: [number, number] = Array.isArray(v) ? [v[0], v[1]] : [v, v];
    if (!p.every((q) => Number.isInteger(q) && q >= 1))
      fail(op, `${name} must be an integer ≥ 1 or a pair of them, got ${JSON.stringify(v)}`);
    return p;
  };
  const [kh, kw] = pair(o.size, 'size'),
    [sh, sw] = pair(o.stride ?? o.size, 'stride');
  const [B, H, W, C] = x.shape;
  const Ho = Math.floor((H - kh) / sh) + 1,
    Wo = Math.floor((W - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) fail(op, `window ${kh}×${kw} does not fit ${H}×${W}`);
  return { B, H, W, C, kh, kw, sh, sw, Ho, Wo, kind: o.kind, outShape: [B, Ho, Wo, C] };
}
