/**
 * CPU twin of shaders/softmax.wgsl: numerically stable (log-)softmax over the last dimension, f64.
 * −inf entries get probability 0; a row that is all −inf, or holds NaN/+inf, yields NaN.
 */
export function softmaxRef(x: Float32Array, rows: number, C: number, log = false): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let m = -Infinity;
    let bad = false;
    for (let i = 0; i < C; i++) {
      const v = x[o + i];
      if (Number.isNaN(v) || v === Infinity) bad = true;
      else if (v > m) m = v;
    }
    let s = 0;
    for (let i = 0; i < C; i++) if (x[o + i] !== -Infinity && !bad) s += Math.exp(x[o + i] - m);
    const ls = Math.log(s);
    for (let i = 0; i < C; i++) {
      const v = x[o + i];
      if (bad || s === 0) y[o + i] = NaN;
      else if (v === -Infinity) y[o + i] = log ? -Infinity : 0;
      else y[o + i] = log ? v - m - ls : Math.exp(v - m) / s;
    }
  }
  return y;
}
