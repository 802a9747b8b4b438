// conv2d — direct 2-D convolution, channels-last, zero padding, optional bias and fused activation:
//   y[b, oy, ox, co] = act(bias[co] + Σ_{ky, kx, ci} x[b, oy·s + ky − pad, ox·s + kx − pad, ci] · w[ky, kx, ci, co])
// One invocation per output element (b, oy, ox, co) — the images here are tiny (28×28, ≤ 64 channels).
// Dispatch: (ceil(B·Ho·Wo·Cout / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/conv2d.ts.
// requires: activations

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u; // ss_activate codes: 0 none, 1 gelu, 2 relu, 3 silu

struct Params {
  B: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (B, H, W, Cin)
@group(0) @binding(2) var<storage, read> w: array<f32>;          // (KH, KW, Cin, Cout)
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (Cout), unused without HAS_BIAS
@group(0) @binding(4) var<storage, read_write> y: array<f32>;    // (B, Ho, Wo, Cout)

@compute @workgroup_size(WG)
fn conv2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  let p = params;
  if (i >= p.B * p.Ho * p.Wo * p.Cout) { return; }
  let co = i % p.Cout;
  let ox = (i / p.Cout) % p.Wo;
  let oy = (i / (p.Cout * p.Wo)) % p.Ho;
  let b = i / (p.Cout * p.Wo * p.Ho);
  var acc = 0.0;
  if (HAS_BIAS) { acc = bias[co]; }
  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy * p.stride + ky) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    for (var kx = 0u; kx < p.KW; kx++) {
      let ix = i32(ox * p.stride + kx) - i32(p.pad);
      if (ix < 0 || ix >= i32(p.W)) { continue; }
      let xo = ((b * p.H + u32(iy)) * p.W + u32(ix)) * p.Cin;
      let wo = (ky * p.KW + kx) * p.Cin * p.Cout + co;
      for (var ci = 0u; ci < p.Cin; ci++) {
        acc += x[xo + ci] * w[wo + ci * p.Cout];
      }
    }
  }
  y[i] = ss_activate(acc, ACT);
}
