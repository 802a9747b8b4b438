// rope — rotary position embedding, half-split ("NeoX") pairing: for j < D/2 the pair
// (x[j], x[j + D/2]) at position p is rotated by angle p·base^(−2j/D):
//   y[j] = x[j]·cos − x[j+D/2]·sin,   y[j+D/2] = x[j]·sin + x[j+D/2]·cos.
// cos/sin come from a table computed on the host in f64 (ropeTable), so no shader trigonometry
// (WGSL only bounds sin/cos to 2^-11 absolute). Positions are per token, so any order works
// (needed by two-stream / any-order models). A position ≥ P writes NaN.
// Dispatch: (ceil(B·T·H·D/2 / WG), 1, 1) (2-D split via params.groups_x); workgroup size WG.
// Twin: src/reference/rope.ts.
// requires: special

override WG: u32 = 64u;

struct Params {
  BT: u32,     // B·T tokens
  H: u32,
  D: u32,
  P: u32,      // table length (max position + 1)
  groups_x: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (B, T, H, D)
@group(0) @binding(2) var<storage, read> pos: array<u32>;        // (B, T)
@group(0) @binding(3) var<storage, read> table: array<f32>;      // (P, D/2, 2): (cos, sin)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;    // (B, T, H, D)

@compute @workgroup_size(WG)
fn rope(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let half = params.D / 2u;
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.BT * params.H * half) { return; }
  let j = i % half;
  let th = i / half;          // token·H + head
  let t = th / params.H;      // token index in (B, T)
  let base = th * params.D;
  let p = pos[t];
  if (p >= params.P) {
    let nan = ss_nan(p);
    y[base + j] = nan;
    y[base + j + half] = nan;
    return;
  }
  let c = table[(p * half + j) * 2u];
  let s = table[(p * half + j) * 2u + 1u];
  let x0 = x[base + j];
  let x1 = x[base + j + half];
  y[base + j] = x0 * c - x1 * s;
  y[base + j + half] = x0 * s + x1 * c;
}
