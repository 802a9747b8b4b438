/** CPU twin of shaders/pool2d.wgsl: NHWC max or average pooling, no padding. */
export interface Pool2dShape {
  B: number;
  H: number;
  W: number;
  C: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
}

export function pool2dRef(x: Float32Array, s: Pool2dShape, kind: 'max' | 'avg'): Float32Array {
  const Ho = Math.floor((s.H - s.kh) / s.sh) + 1,
    Wo = Math.floor((s.W - s.kw) / s.sw) + 1;
  const y = new Float32Array(s.B * Ho * Wo * s.C);
  for (let b = 0; b < s.B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let c = 0; c < s.C; c++) {
          let acc = kind === 'max' ? -Infinity : 0;
          for (let ky = 0; ky < s.kh; ky++)
            for (let kx = 0; kx < s.kw; kx++) {
              const v = x[((b * s.H + oy * s.sh + ky) * s.W + ox * s.sw + kx) * s.C + c];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            }
          y[((b * Ho + oy) * Wo + ox) * s.C + c] = kind === 'max' ? acc : acc / (s.kh * s.kw);
        }
  return y;
}
