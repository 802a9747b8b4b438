/**
 * CPU twin of shaders/elementwise.wgsl (add, mul, scale, gelu) and of shaders/lib/activations.wgsl.
 * `b` broadcasts by repetition: b[i mod b.length].
 */

/** GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel, arXiv 1606.08415). */
export function geluTanh(x: number): number {
  const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1 + Math.tanh(u));
}

export type ElementwiseOp = 'add' | 'mul' | 'scale' | 'gelu';
export const ELEMENTWISE_CODES: Record<ElementwiseOp, number> = { add: 0, mul: 1, scale: 2, gelu: 3 };

export function elementwiseRef(op: ElementwiseOp, a: Float32Array, b: Float32Array | null, s = 1): Float32Array {
  const y = new Float32Array(a.length);
  const nb = b ? b.length : 1;
  s = Math.fround(s); // the GPU receives the scalar as f32
  for (let i = 0; i < a.length; i++) {
    switch (op) {
      case 'add': y[i] = a[i] + b![i % nb]; break;
      case 'mul': y[i] = a[i] * b![i % nb]; break;
      case 'scale': y[i] = a[i] * s; break;
      case 'gelu': y[i] = geluTanh(a[i]); break;
    }
  }
  return y;
}
