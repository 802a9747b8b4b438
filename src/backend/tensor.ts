/** Tensors: a shape, a dtype and storage on one backend. Ops never mix backends. */
import { OpInputError, TensorStateError } from '../errors.js';

/**
 * 'f16': IEEE half floats, two per 32-bit word on the GPU; on the host their raw bits as a Uint16Array.
 * Weights only: matmul's B operand and the embedding table read it (accumulating in f32); every other
 * op takes f32.
 */
export type DType = 'f32' | 'u32' | 'i32' | 'f16';
export type HostArray = Float32Array | Uint32Array | Int32Array | Uint16Array;
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
  if (a instanceof Uint16Array) return 'f16';
  throw new OpInputError('tensor', 'data must be a Float32Array, Uint32Array, Int32Array or Uint16Array (f16 bits)');
}

/** Bytes a tensor of `n` elements takes in a GPU buffer: 4 per element, f16 two per 4-byte word. */
export function storageBytes(dtype: DType, n: number): number {
  return dtype === 'f16' ? Math.ceil(n / 2) * 4 : n * 4;
}

/** A host array of `n` elements, or the first `count` elements of a buffer. */
export function hostArray(dtype: DType, n: number | ArrayBuffer, count?: number): HostArray {
  if (typeof n === 'number') {
    if (dtype === 'f16') return new Uint16Array(n);
    return dtype === 'f32' ? new Float32Array(n) : dtype === 'u32' ? new Uint32Array(n) : new Int32Array(n);
  }
  if (dtype === 'f16') return new Uint16Array(n, 0, count ?? n.byteLength / 2);
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'u32' ? new Uint32Array(n) : new Int32Array(n);
}

export function assertLive(t: Tensor, op: string): void {
  if (t.freed) throw new TensorStateError(`${op}: tensor [${t.shape.join(', ')}] was freed`);
}
