// embedding — out[n, :] = table[ids[n], :]. An id outside [0, V) writes NaN across its row, so a
// bad id can never pass for a real embedding (the CPU twin throws instead). The table is f32 or, with
// TABLE_F16, f16 pairs in 32-bit words, read through the `f16` lib variant (native vec2<f16> with
// `shader-f16`, else u32 + unpack2x16float; src/gpu/kernels.ts). A table split over several bindings (row
// blocks, src/backend/webgpu.ts) runs one dispatch per block: it holds rows [row0, row0 + rows) and
// writes only the outputs whose id falls there.
// Dispatch: (ceil(N·C / WG), 1, 1) workgroups (2-D split above 65535 via params.groups_x);
// workgroup size WG. Twin: src/reference/embedding.ts.
// requires: special, f16

override WG: u32 = 64u;
override TABLE_F16: bool = false;

struct Params {
  N: u32,
  C: u32,
  V: u32,
  groups_x: u32,
  row0: u32, // the block's first row
  rows: u32, // rows in this block
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> ids: array<u32>;        // (N)
@group(0) @binding(2) var<storage, read> table: array<ss_word>;  // (rows, C) f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (N, C)

@compute @workgroup_size(WG)
fn embedding(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.N * params.C) { return; }
  let n = i / params.C;
  let c = i % params.C;
  let id = ids[n];
  if (id >= params.V) {
    out[i] = ss_nan(id);
    return;
  }
  if (id < params.row0 || id - params.row0 >= params.rows) { return; }
  let j = (id - params.row0) * params.C + c;
  if (TABLE_F16) {
    out[i] = ss_word_f16x2(table[j >> 1u])[j & 1u];
  } else {
    out[i] = ss_word_f32(table[j]);
  }
}
