// swiglu — the gated MLP activation of LLaMA-family models (Shazeer, arXiv 2002.05202):
//   y[r, j] = silu(x[r, j]) · x[r, F + j]
// for x (rows, 2F) = [gate | up], the output of one matmul against the gate and up projections stacked
// row-wise, and y (rows, F). silu is the shared ss_silu (stable in both tails).
// Dispatch: (ceil(rows·F / WG), 1, 1) (2-D split via params.groups_x); workgroup size WG.
// Twin: src/reference/swiglu.ts.
// requires: activations

override WG: u32 = 64u;

struct Params {
  rows: u32,
  F: u32,
  groups_x: u32,
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (rows, 2F): [gate | up]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;    // (rows, F)

@compute @workgroup_size(WG)
fn swiglu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  let F = params.F;
  if (i >= params.rows * F) { return; }
  let r = i / F;
  let j = i % F;
  let g = x[r * 2u * F + j];
  let u = x[r * 2u * F + F + j];
  y[i] = ss_silu(g) * u;
}
