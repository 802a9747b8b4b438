/**
 * The rms_norm op's contract (shaders/rms_norm.wgsl): divide each row of (rows, C) by its root mean
 * square, then scale by gamma; its options (eps, default 1e-6), plan and uniform struct.
 */
import { expectOut, planNorm } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import type { NormOptions } from './layer_norm.js';
import { paramsStruct } from './params.js';

/** shaders/rms_norm.wgsl's `struct Params` */
export const RMS_NORM_PARAMS = paramsStruct('rms_norm', { rows: 'u32', C: 'u32', eps: 'f32', groups_x: 'u32' });

export function planRmsNorm(x: Tensor, gamma: Tensor, o: NormOptions, be: BackendName) {
  const eps = o.eps ?? 1e-6;
  const { rows, C } = planNorm('rmsNorm', x, gamma, null, eps, be);
  expectOut('rmsNorm', o.out, x.shape, 'f32', be);
  return { rows, C, eps };
}
