// layer_norm — y = (x − mean) / sqrt(var + eps) · gamma + beta over the last dimension (biased var).
// Default: one workgroup per row; two reductions (mean, then centred sum of squares) in workgroup
// memory. PER_THREAD: one invocation per row, serial loops, no barriers (short rows, many of them).
// Dispatch: (min(G, 65535), ceil(G / 65535), 1) with G = rows, or ceil(rows / WG) when PER_THREAD;
// workgroup size WG.
// Twin: src/reference/layer_norm.ts.

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
@group(0) @binding(3) var<storage, read> beta: array<f32>;       // (C)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;    // (rows, C)

var<workgroup> red: array<f32, WG>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn row_serial(row: u32) {
  let C = params.C;
  let off = row * C;
  var s = 0.0;
  for (var i = 0u; i < C; i = i + 1u) { s = s + x[off + i]; }
  let mean = s / f32(C);
  var q = 0.0;
  for (var i = 0u; i < C; i = i + 1u) { let d = x[off + i] - mean; q = q + d * d; }
  let inv = inverseSqrt(q / f32(C) + params.eps);
  for (var i = 0u; i < C; i = i + 1u) { y[off + i] = (x[off + i] - mean) * inv * gamma[i] + beta[i]; }
}

@compute @workgroup_size(WG)
fn layer_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (PER_THREAD) {
    let r = (wid.x + wid.y * params.groups_x) * WG + lid;
    if (r < params.rows) { row_serial(r); }
    return;
  }
  let row = wid.x + wid.y * params.groups_x;
  if (row >= params.rows) { return; } // uniform per workgroup
  let C = params.C;
  let off = row * C;
  var s = 0.0;
  for (var i = lid; i < C; i = i + WG) { s = s + x[off + i]; }
  let mean = wg_sum(s, lid) / f32(C);
  var q = 0.0;
  for (var i = lid; i < C; i = i + WG) { let d = x[off + i] - mean; q = q + d * d; }
  let inv = inverseSqrt(wg_sum(q, lid) / f32(C) + params.eps);
  for (var i = lid; i < C; i = i + WG) {
    y[off + i] = (x[off + i] - mean) * inv * gamma[i] + beta[i];
  }
}
