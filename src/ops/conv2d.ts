/**
 * The conv2d op's contract (shaders/conv2d.wgsl): direct NHWC convolution with zero padding, an
 * optional bias and a fused activation; its options, shape plan and uniform struct.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { ACTIVATION_CODES, type Activation } from './elementwise.js';
import { paramsStruct } from './params.js';

/** shaders/conv2d.wgsl's `struct Params` */
export const CONV2D_PARAMS = paramsStruct('conv2d', {
  B: 'u32',
  H: 'u32',
  W: 'u32',
  Cin: 'u32',
  Ho: 'u32',
  Wo: 'u32',
  Cout: 'u32',
  KH: 'u32',
  KW: 'u32',
  stride: 'u32',
  pad: 'u32',
  groups_x: 'u32',
});

export interface Conv2dOptions {
  /** (Cout) */
  bias?: Tensor;
  /** default 1 */
  stride?: number;
  /** zero padding on every side, default 0 */
  pad?: number;
  /** fused after the bias; default 'none' */
  activation?: Activation;
  out?: Tensor;
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
  const outShape = [B, Ho, Wo, Cout];
  expectOut(op, o.out, outShape, 'f32', backend);
  return { B, H, W, Cin, KH, KW, Cout, stride, pad, Ho, Wo, activation, outShape };
}
