/**
 * The elementwise shorthands (add, mul, scale and the activations), written once over each backend's
 * own `elementwise`: both backends extend this instead of each repeating seven one-line methods.
 */
import type { ElementwiseOp, ElementwiseOptions } from '../ops/elementwise.js';
import type { OutOption } from './backend.js';
import type { Tensor } from './tensor.js';

export abstract class ElementwiseShorthands {
  abstract elementwise(op: ElementwiseOp, a: Tensor, b: Tensor | null, o?: ElementwiseOptions): Tensor;

  add(a: Tensor, b: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('add', a, b, o);
  }
  mul(a: Tensor, b: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('mul', a, b, o);
  }
  scale(a: Tensor, s: number, o: OutOption = {}): Tensor {
    return this.elementwise('scale', a, null, { ...o, scalar: s });
  }
  gelu(a: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('gelu', a, null, o);
  }
  relu(a: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('relu', a, null, o);
  }
  silu(a: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('silu', a, null, o);
  }
  softplus(a: Tensor, o: OutOption = {}): Tensor {
    return this.elementwise('softplus', a, null, o);
  }
}
