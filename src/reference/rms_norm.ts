/** CPU twin of shaders/rms_norm.wgsl (Zhang & Sennrich, arXiv 1910.07467): y = x / √(mean x² + eps) · γ. */
export function rmsNormRef(x: Float32Array, rows: number, C: number, gamma: Float32Array, eps: number): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let q = 0;
    for (let i = 0; i < C; i++) q += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(q / C + eps);
    for (let i = 0; i < C; i++) y[o + i] = x[o + i] * inv * gamma[i];
  }
  return y;
}
