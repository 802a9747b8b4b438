// pool2d — max or average pooling, channels-last, no padding:
//   y[b, oy, ox, c] = max / mean over x[b, oy·sh + ky, ox·sw + kx, c], ky < kh, kx < kw
// Dispatch: (ceil(B·Ho·Wo·C / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/pool2d.ts.

override WG: u32 = 64u;
override KIND: u32 = 0u; // 0 max, 1 average

struct Params {
  B: u32, H: u32, W: u32, C: u32,
  Ho: u32, Wo: u32, kh: u32, kw: u32,
  sh: u32, sw: u32, groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (B, H, W, C)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;    // (B, Ho, Wo, C)

@compute @workgroup_size(WG)
fn pool2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  let p = params;
  if (i >= p.B * p.Ho * p.Wo * p.C) { return; }
  let c = i % p.C;
  let ox = (i / p.C) % p.Wo;
  let oy = (i / (p.C * p.Wo)) % p.Ho;
  let b = i / (p.C * p.Wo * p.Ho);
  var acc = 0.0;
  var first = true;
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      let v = x[((b * p.H + oy * p.sh + ky) * p.W + ox * p.sw + kx) * p.C + c];
      if (KIND == 0u) {
        if (first || v > acc) { acc = v; }
        first = false;
      } else {
        acc += v;
      }
    }
  }
  if (KIND == 1u) { acc = acc / f32(p.kh * p.kw); }
  y[i] = acc;
}
