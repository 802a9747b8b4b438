// embedding — out[n, :] = table[ids[n], :]. An id outside [0, V) writes NaN across its row, so a
// bad id can never pass for a real embedding (the CPU twin throws instead).
// Dispatch: (ceil(N·C / WG), 1, 1) workgroups (2-D split above 65535 via params.groups_x);
// workgroup size WG. Twin: src/reference/embedding.ts.
// requires: special

override WG: u32 = 64u;

struct Params {
  N: u32,
  C: u32,
  V: u32,
  groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> ids: array<u32>;        // (N)
@group(0) @binding(2) var<storage, read> table: array<f32>;      // (V, C)
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
  out[i] = table[id * params.C + c];
}
