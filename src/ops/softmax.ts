/**
 * The softmax op's contract (shaders/softmax.wgsl): softmax or log-softmax over the last axis of
 * (rows, C); its options and its uniform struct. Its shape plan is the row plan shared with the
 * norms (`planRows`, src/backend/shapes.ts).
 */
import { paramsStruct } from './params.js';

export interface SoftmaxOptions {
  /** log-softmax instead of softmax */
  log?: boolean;
}

/** shaders/softmax.wgsl's `struct Params` */
export const SOFTMAX_PARAMS = paramsStruct('softmax', { rows: 'u32', C: 'u32', groups_x: 'u32', _pad: 'u32' });
