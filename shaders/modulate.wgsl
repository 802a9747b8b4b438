// modulate — DiT adaLN-Zero ops with a per-(batch, channel) vector broadcast over tokens:
//   MODE 0 (modulate):  y[b, t, c] = a[b, t, c] · (1 + v[b, c]) + u[b, c]        (u shift, v scale)
//   MODE 1 (gated add): y[b, t, c] = a[b, t, c] + u[b, c] · r[b, t, c]           (a residual, u gate)
// Dispatch: (ceil(B·T·C / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/modulate.ts.

override WG: u32 = 64u;
override MODE: u32 = 0u;

struct Params {
  n: u32,
  TC: u32,
  C: u32,
  groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (B, T, C)
@group(0) @binding(2) var<storage, read> r: array<f32>;          // (B, T, C) in MODE 1, unused in MODE 0
@group(0) @binding(3) var<storage, read> u: array<f32>;          // (B, C)
@group(0) @binding(4) var<storage, read> v: array<f32>;          // (B, C) in MODE 0, unused in MODE 1
@group(0) @binding(5) var<storage, read_write> y: array<f32>;    // (B, T, C)

@compute @workgroup_size(WG)
fn modulate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.n) { return; }
  let bc = (i / params.TC) * params.C + i % params.C;
  if (MODE == 0u) {
    y[i] = a[i] * (1.0 + v[bc]) + u[bc];
  } else {
    y[i] = a[i] + u[bc] * r[i];
  }
}
