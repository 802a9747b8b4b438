/**
 * CPU twin of shaders/elementwise.wgsl (add, mul, scale, gelu, relu, silu, softplus, gelu_erf) and of
 * shaders/lib/activations.wgsl.
 * `b` broadcasts by repetition: b[i mod b.length].
 */
import type { Activation, ElementwiseOp } from '../ops/elementwise.js';

/** GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel, arXiv 1606.08415). */
export function geluTanh(x: number): number {
  const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1 + Math.tanh(u));
}

/**
 * erf in f64: its Maclaurin series below |x| = 2.5 (terms fall after n ≈ x², cancellation costs at most
 * e^{x²} ≈ 500 ulps), above it 1 − erfc with erfc's continued fraction (Abramowitz & Stegun 7.1.14),
 * evaluated bottom-up over 80 terms. Accurate to ~1e-13 — the oracle for the kernel's A&S 7.1.26.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x,
      sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let k = a;
  for (let n = 80; n >= 1; n--) k = a + n / 2 / k;
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * k);
  return Math.sign(x) * (1 - erfc);
}

/** GELU, exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (Hendrycks & Gimpel, arXiv 1606.08415; BERT's "gelu"). */
export const geluErf = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

export const relu = (x: number): number => Math.max(x, 0);

/** SiLU x·σ(x) (Elfwing et al., arXiv 1702.03118), stable in both tails. */
export function silu(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? x / (1 + e) : (x * e) / (1 + e);
}

/** softplus log(1 + eˣ), stable in both tails: max(x, 0) + log1p(e^(−|x|)). */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export function activate(x: number, act: Activation): number {
  return act === 'gelu' ? geluTanh(x) : act === 'relu' ? relu(x) : act === 'silu' ? silu(x) : x;
}

/** What each op makes of x = a[i], y = b[i mod |b|] (add, mul) and the scalar s (scale). */
const OPS: Record<ElementwiseOp, (x: number, y: number, s: number) => number> = {
  add: (x, y) => x + y,
  mul: (x, y) => x * y,
  scale: (x, _y, s) => x * s,
  gelu: geluTanh,
  relu,
  silu,
  softplus,
  gelu_erf: geluErf,
};

export function elementwiseRef(op: ElementwiseOp, a: Float32Array, b: Float32Array | null, s = 1): Float32Array {
  const y = new Float32Array(a.length);
  const nb = b ? b.length : 1;
  s = Math.fround(s); // the GPU receives the scalar as f32
  const f = OPS[op];
  for (let i = 0; i < a.length; i++) y[i] = f(a[i], b ? b[i % nb] : 0, s);
  return y;
}
