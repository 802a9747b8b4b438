// rms_norm — y = x / sqrt(mean(x²) + eps) · gamma over the last dimension.
// Default: one workgroup per row, one reduction in workgroup memory. PER_THREAD: one invocation
// per row, serial loops, no barriers.
// Dispatch: (min(G, 65535), ceil(G / 65535), 1) with G = rows, or ceil(rows / WG) when PER_THREAD;
// workgroup size WG.
// Twin: src/reference/rms_norm.ts.

override WG: u32 = 64u;
override PER_THREAD: bool = false;

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

fn row_serial(row: u32) {
  let C = params.C;
  let off = row * C;
  var q = 0.0;
  for (var i = 0u; i < C; i = i + 1u) { let v = x[off + i]; q = q + v * v; }
  let inv = inverseSqrt(q / f32(C) + params.eps);
  for (var i = 0u; i < C; i = i + 1u) { y[off + i] = x[off + i] * inv * gamma[i]; }
}

@compute @workgroup_size(WG)
fn rms_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (PER_THREAD) {
    let r = (wid.x + wid.y * params.groups_x) * WG + lid;
    if (r < params.rows) { row_serial(r); }
    return;
  }
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
