// elementwise — y = a ∘ b over flat arrays: OP 0 add (a + b), 1 mul (a · b), 2 scale (a · s),
// 3 gelu (tanh form), 4 relu, 5 silu, 6 softplus, 7 gelu_erf (exact GELU; b unused for 2..7). b broadcasts by repetition: b index = i mod nb (a row vector such
// as a bias or gain, or a full tensor when nb = n).
// Dispatch: (ceil(n / WG), 1, 1) (2-D split via params.groups_x); workgroup size WG.
// Twin: src/reference/elementwise.ts.
// requires: activations

override WG: u32 = 64u;
override OP: u32 = 0u;

struct Params {
  n: u32,
  nb: u32,
  s: f32,
  groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (n)
@group(0) @binding(2) var<storage, read> b: array<f32>;          // (nb), nb divides n
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (n)

@compute @workgroup_size(WG)
fn elementwise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.n) { return; }
  let x = a[i];
  switch (OP) {
    case 0u: { y[i] = x + b[i % params.nb]; }
    case 1u: { y[i] = x * b[i % params.nb]; }
    case 2u: { y[i] = x * params.s; }
    case 3u: { y[i] = ss_gelu_tanh(x); }
    case 4u: { y[i] = ss_relu(x); }
    case 5u: { y[i] = ss_silu(x); }
    case 6u: { y[i] = ss_softplus(x); }
    default: { y[i] = ss_gelu_erf(x); }
  }
}
