/**
 * CPU twin of shaders/patchify.wgsl: (B, H, W, C) ↔ (B, (H/p)(W/p), p·p·C); patch n = pr·(W/p) + pc,
 * patch vector order (py, px, c) — the same as training/image_models.py patchify.
 */
export interface PatchShape {
  B: number;
  H: number;
  W: number;
  C: number;
  p: number;
}

function forEach(s: PatchShape, f: (patchIndex: number, imageIndex: number) => void): void {
  const P = s.p * s.p * s.C,
    wp = s.W / s.p,
    N = (s.H / s.p) * wp;
  for (let b = 0; b < s.B; b++)
    for (let n = 0; n < N; n++)
      for (let j = 0; j < P; j++) {
        const c = j % s.C,
          px = Math.floor(j / s.C) % s.p,
          py = Math.floor(j / (s.C * s.p));
        const y = Math.floor(n / wp) * s.p + py,
          x = (n % wp) * s.p + px;
        f((b * N + n) * P + j, ((b * s.H + y) * s.W + x) * s.C + c);
      }
}

export function patchifyRef(x: Float32Array, s: PatchShape): Float32Array {
  const out = new Float32Array(x.length);
  forEach(s, (pi, ii) => {
    out[pi] = x[ii];
  });
  return out;
}

export function unpatchifyRef(t: Float32Array, s: PatchShape): Float32Array {
  const out = new Float32Array(t.length);
  forEach(s, (pi, ii) => {
    out[ii] = t[pi];
  });
  return out;
}
