/**
 * The layer_norm op's contract (shaders/layer_norm.wgsl): normalise each row of (rows, C), then
 * scale by gamma and shift by beta; its options (eps, default 1e-5), plan and uniform struct.
 */
import { expectOut, planNorm } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

export interface NormOptions {
  /** added to the variance (layer_norm) or mean square (rms_norm) before the square root */
  eps?: number;
  out?: Tensor;
}

/** shaders/layer_norm.wgsl's `struct Params` */
export const LAYER_NORM_PARAMS = paramsStruct('layer_norm', { rows: 'u32', C: 'u32', eps: 'f32', groups_x: 'u32' });

export function planLayerNorm(x: Tensor, gamma: Tensor, beta: Tensor, o: NormOptions, be: BackendName) {
  const eps = o.eps ?? 1e-5;
  const { rows, C } = planNorm('layerNorm', x, gamma, beta, eps, be);
  expectOut('layerNorm', o.out, x.shape, 'f32', be);
  return { rows, C, eps };
}
