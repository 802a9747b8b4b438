/** CPU twin of shaders/conv2d.wgsl: direct NHWC convolution with zero padding, f64 accumulation. */
import type { Activation } from '../ops/elementwise.js';
import { activate } from './elementwise.js';

export interface Conv2dShape {
  B: number;
  H: number;
  W: number;
  Cin: number;
  KH: number;
  KW: number;
  Cout: number;
  stride: number;
  pad: number;
}

export const convOut = (n: number, k: number, stride: number, pad: number): number =>
  Math.floor((n + 2 * pad - k) / stride) + 1;

export function conv2dRef(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  s: Conv2dShape,
  act: Activation = 'none',
): Float32Array {
  const Ho = convOut(s.H, s.KH, s.stride, s.pad),
    Wo = convOut(s.W, s.KW, s.stride, s.pad);
  const y = new Float32Array(s.B * Ho * Wo * s.Cout);
  for (let b = 0; b < s.B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let co = 0; co < s.Cout; co++) {
          let acc = bias ? bias[co] : 0;
          for (let ky = 0; ky < s.KH; ky++) {
            const iy = oy * s.stride + ky - s.pad;
            if (iy < 0 || iy >= s.H) continue;
            for (let kx = 0; kx < s.KW; kx++) {
              const ix = ox * s.stride + kx - s.pad;
              if (ix < 0 || ix >= s.W) continue;
              for (let ci = 0; ci < s.Cin; ci++)
                acc += x[((b * s.H + iy) * s.W + ix) * s.Cin + ci] * w[((ky * s.KW + kx) * s.Cin + ci) * s.Cout + co];
            }
          }
          y[((b * Ho + oy) * Wo + ox) * s.Cout + co] = activate(acc, act);
        }
  return y;
}
