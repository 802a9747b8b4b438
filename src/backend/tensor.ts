/** Tensors: a shape, a dtype and storage on one backend. Ops never mix backends. */
import { OpInputError, TensorStateError } from '../errors.js';

export type DType = 'f32' | 'u32' | 'i32';
export type HostArray = Float32Array | Uint32Array | Int32Array;
export type BackendName = 'webgpu' | 'cpu';

export interface Tensor {
  readonly backend: BackendName;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** number of elements */
  readonly size: number;
  /** set by free(); a freed tensor cannot be used */
  readonly freed: boolean;
  /** 'samples' marks categorical output: reading it checks for invalid rows */
  readonly role?: 'samples';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], op = 'tensor'): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new OpInputError(op, `shape [${shape.join(', ')}] must hold non-negative integers`);
  }
}

export function dtypeOf(a: HostArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  throw new OpInputError('tensor', 'data must be a Float32Array, Uint32Array or Int32Array');
}

export function hostArray(dtype: DType, n: number | ArrayBuffer): HostArray {
  if (typeof n === 'number') {
    return dtype === 'f32' ? new Float32Array(n) : dtype === 'u32' ? new Uint32Array(n) : new Int32Array(n);
  }
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'u32' ? new Uint32Array(n) : new Int32Array(n);
}

export function assertLive(t: Tensor, op: string): void {
  if (t.freed) throw new TensorStateError(`${op}: tensor [${t.shape.join(', ')}] was freed`);
}
