/**
 * The matmul op's contract (shaders/matmul.wgsl): (…, M, K)·(K, N) or batched (B, K, N), optional Bᵀ,
 * bias and fused GELU; its options, shape plan, activation codes and uniform struct. B (the weight
 * operand) may be f16: read widened, accumulated in f32.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import { sizeOf, type BackendName, type Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** the kernel's `override ACT` for each activation */
export const MATMUL_ACTIVATIONS = { none: 0, gelu: 1 } as const;

/** shaders/matmul.wgsl's `struct Params` */
export const MATMUL_PARAMS = paramsStruct('matmul', {
  M: 'u32',
  N: 'u32',
  K: 'u32',
  ldc: 'u32',
  col0: 'u32',
  _pad0: 'u32',
  _pad1: 'u32',
  _pad2: 'u32',
});

export interface MatmulOptions {
  transB?: boolean;
  bias?: Tensor | null;
  activation?: 'none' | 'gelu';
  out?: Tensor;
}

export interface MatmulPlan {
  batch: number;
  M: number;
  K: number;
  N: number;
  bBatched: boolean;
  outShape: number[];
}

export function planMatmul(a: Tensor, b: Tensor, o: MatmulOptions, be: BackendName): MatmulPlan {
  const op = 'matmul';
  expect(op, 'a', a, be, ['f32']);
  expect(op, 'b', b, be, ['f32', 'f16'], [2, 3]);
  if (a.shape.length < 2) fail(op, `a must have rank ≥ 2, got [${a.shape.join(', ')}]`);
  const M = a.shape[a.shape.length - 2];
  const K = a.shape[a.shape.length - 1];
  const lead = a.shape.slice(0, -2);
  const batch = sizeOf(lead);
  const bBatched = b.shape.length === 3;
  const bK = o.transB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  const N = o.transB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  if (bK !== K)
    fail(
      op,
      `inner dimensions differ: a [${a.shape.join(', ')}] vs b [${b.shape.join(', ')}]${o.transB ? ' (transB)' : ''}`,
    );
  if (bBatched && b.shape[0] !== batch) fail(op, `b has batch ${b.shape[0]} but a has batch ${batch}`);
  if (o.bias) {
    expect(op, 'bias', o.bias, be, ['f32'], [1]);
    if (o.bias.shape[0] !== N) fail(op, `bias has length ${o.bias.shape[0]}, expected N = ${N}`);
  }
  if (o.activation && o.activation !== 'none' && o.activation !== 'gelu')
    fail(op, `unknown activation "${o.activation}"`);
  const outShape = [...lead, M, N];
  expectOut(op, o.out, outShape, 'f32', be);
  return { batch, M, K, N, bBatched, outShape };
}
