// rms_norm — y = x / sqrt(mean(x²) + eps) · gamma over the last dimension.
// One workgroup per row; one reduction in workgroup memory.
// Dispatch: (min(rows, 65535), ceil(rows / 65535), 1); workgroup size WG.
// Twin: src/reference/rms_norm.ts.

override WG: u32 = 64u;

struct Params {
  rows: u32,
  C: u32,
  eps: f32,
  groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (rows, C)
@group(0) @binding(2) var<storage, read> gamma: array<f32>;      // (C)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (rows, C)

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn rms_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.groups_x;
  if (row >= params.rows) { return; }
  let C = params.C;
  let off = row * C;
  var q = 0.0;
  for (var i = lid; i < C; i = i + WG) { let v = x[off + i]; q = q + v * v; }
  red[lid] = q;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(C) + params.eps);
  for (var i = lid; i < C; i = i + WG) { y[off + i] = x[off + i] * inv * gamma[i]; }
}
