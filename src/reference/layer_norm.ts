/** CPU twin of shaders/layer_norm.wgsl (Ba, Kiros, Hinton, arXiv 1607.06450): biased variance, f64. */
export function layerNormRef(
  x: Float32Array,
  rows: number,
  C: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let mean = 0;
    for (let i = 0; i < C; i++) mean += x[o + i];
    mean /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / C + eps);
    for (let i = 0; i < C; i++) y[o + i] = (x[o + i] - mean) * inv * gamma[i] + beta[i];
  }
  return y;
}
