/**
 * CPU twin of shaders/swiglu.wgsl: the SwiGLU activation (Shazeer, "GLU Variants Improve Transformer",
 * arXiv 2002.05202) of LLaMA-family MLPs, y[r, j] = silu(gate[r, j]) · up[r, j], for x (rows, 2F) whose
 * row is [gate | up]. f64 per element, rounded once to f32.
 */
import { silu } from './elementwise.js';

export function swigluRef(x: Float32Array, rows: number, F: number): Float32Array {
  const y = new Float32Array(rows * F);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < F; j++) y[r * F + j] = silu(x[r * 2 * F + j]) * x[r * 2 * F + F + j];
  return y;
}
