/**
 * CPU twin of shaders/modulate.wgsl (DiT adaLN-Zero): per-(batch, channel) vectors broadcast over
 * the T tokens of (B, T, C) tensors.
 */

/** a · (1 + scale[b]) + shift[b] */
export function modulateRef(
  a: Float32Array,
  shift: Float32Array,
  scale: Float32Array,
  T: number,
  C: number,
): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const bc = Math.floor(i / (T * C)) * C + (i % C);
    y[i] = a[i] * (1 + scale[bc]) + shift[bc];
  }
  return y;
}

/** res + gate[b] · r */
export function gatedAddRef(
  res: Float32Array,
  r: Float32Array,
  gate: Float32Array,
  T: number,
  C: number,
): Float32Array {
  const y = new Float32Array(res.length);
  for (let i = 0; i < res.length; i++) y[i] = res[i] + gate[Math.floor(i / (T * C)) * C + (i % C)] * r[i];
  return y;
}
