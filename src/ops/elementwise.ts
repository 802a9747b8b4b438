/**
 * The elementwise op's contract (shaders/elementwise.wgsl): add and mul (b broadcast by repetition),
 * scale by a scalar, and the activations; its options, validation, op codes, the fused-activation
 * codes other kernels share (shaders/lib/activations.wgsl) and its uniform struct.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** Fused-activation codes (shaders/lib/activations.wgsl ss_activate). */
export type Activation = 'none' | 'gelu' | 'relu' | 'silu';
/** the kernels' `override ACT` for each fused activation */
export const ACTIVATION_CODES: Record<Activation, number> = { none: 0, gelu: 1, relu: 2, silu: 3 };

/** 'gelu' is the tanh form (GPT-2's gelu_new, our models'); 'gelu_erf' the exact x·Φ(x) (BERT's gelu) */
export type ElementwiseOp = 'add' | 'mul' | 'scale' | 'gelu' | 'relu' | 'silu' | 'softplus' | 'gelu_erf';
/** the kernel's `override OP` for each op */
export const ELEMENTWISE_CODES: Record<ElementwiseOp, number> = {
  add: 0,
  mul: 1,
  scale: 2,
  gelu: 3,
  relu: 4,
  silu: 5,
  softplus: 6,
  gelu_erf: 7,
};

/** shaders/elementwise.wgsl's `struct Params` */
export const ELEMENTWISE_PARAMS = paramsStruct('elementwise', { n: 'u32', nb: 'u32', s: 'f32', groups_x: 'u32' });

export interface ElementwiseOptions {
  /** the factor of 'scale' (finite) */
  scalar?: number;
  out?: Tensor;
}

/** Check an elementwise call: add and mul take a b whose size divides a's; scale a finite scalar. */
export function planElementwise(
  op: ElementwiseOp,
  a: Tensor,
  b: Tensor | null,
  o: ElementwiseOptions,
  be: BackendName,
): void {
  if (op === 'add' || op === 'mul') {
    expect(op, 'a', a, be, ['f32']);
    expect(op, 'b', b!, be, ['f32']);
    if (b!.size === 0 || a.size % b!.size !== 0)
      fail(op, `b has ${b!.size} elements, which must divide a's ${a.size} (broadcast by repetition)`);
  } else expect(op, 'a', a, be, ['f32']);
  if (op === 'scale' && !Number.isFinite(o.scalar ?? NaN)) fail(op, `scalar must be finite, got ${o.scalar}`);
  expectOut(op, o.out, a.shape, 'f32', be);
}
