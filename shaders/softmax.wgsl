// softmax — y = exp(x − max) / Σ exp(x − max) over the last dimension, or its log when LOG
// (log y = x − max − log Σ exp(x − max)). −inf entries give probability 0; a row whose entries are
// all −inf has no distribution and yields NaN (as PyTorch does); so does a row holding NaN or +inf.
// One workgroup per row: max reduction, then sum reduction.
// Dispatch: (min(rows, 65535), ceil(rows / 65535), 1); workgroup size WG.
// Twin: src/reference/softmax.ts.
// requires: special

override WG: u32 = 64u;
override LOG: bool = false;

struct Params {
  rows: u32,
  C: u32,
  groups_x: u32,
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (rows, C)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;    // (rows, C)

var<workgroup> red: array<f32, WG>;
var<workgroup> bad: atomic<u32>; // zero-initialised per workgroup by WGSL

const NEG_MAX: f32 = -3.4028234663852886e38;

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.groups_x;
  if (row >= params.rows) { return; }
  let C = params.C;
  let off = row * C;
  var m = NEG_MAX;
  var any_finite = false;
  for (var i = lid; i < C; i = i + WG) {
    let v = x[off + i];
    let bits = bitcast<u32>(v);
    if ((bits & 0x7F800000u) == 0x7F800000u && bits != 0xFF800000u) {
      atomicStore(&bad, 1u); // NaN or +inf
    } else if (v >= NEG_MAX) {
      m = max(m, v);
      any_finite = true;
    }
  }
  red[lid] = select(NEG_MAX, m, any_finite);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let row_max = red[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var i = lid; i < C; i = i + WG) {
    let v = x[off + i];
    if (v >= NEG_MAX) { acc = acc + exp(v - row_max); }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  let is_bad = atomicLoad(&bad) != 0u;
  // total == 0 only when every entry is -inf: no distribution, write NaN
  let nan = ss_nan(C);
  let log_total = log(total);
  for (var i = lid; i < C; i = i + WG) {
    let v = x[off + i];
    var r: f32;
    if (total == 0.0 || is_bad) {
      r = nan;
    } else if (v >= NEG_MAX) {
      if (LOG) { r = v - row_max - log_total; } else { r = exp(v - row_max) / total; }
    } else {
      if (LOG) { r = ss_neg_inf(C); } else { r = 0.0; }
    }
    y[off + i] = r;
  }
}
