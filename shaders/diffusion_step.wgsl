// diffusion_step — one reverse-diffusion update of an ε-prediction model, guidance fused:
//   e   = ε_c + w·(ε_c − ε_u)         (CFG = true: eps holds (2, n), conditional half first;
//                                       CFG = false: eps is (n) and w is ignored)
//   x̂0  = (x − s1·e) / s0             (s0 = √ᾱ_t, s1 = √(1 − ᾱ_t))
//   CLIP: x̂0 = clamp(x̂0, −1, 1) and e = (x − s0·x̂0) / s1
//   x'  = c_x0·x̂0 + c_x·x + c_e·e + σ·z,   z ~ N(0, 1)
// DUP: also write x' to both halves of x_dup (the next guided pass's (2B) input).
// z for element i is component (i mod 2) of ss_normal_pair(Philox((i/2, step, 0x44494646, 0), key)).
// The sampler picks the coefficients: DDIM (c_x0 = √ᾱ_prev, c_e = √(1 − ᾱ_prev − σ²), c_x = 0) or
// the DDPM posterior (c_x0 = √ᾱ_prev·β/(1 − ᾱ_t), c_x = √(1 − β)(1 − ᾱ_prev)/(1 − ᾱ_t), c_e = 0).
// Dispatch: (ceil(n / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/diffusion_step.ts.
// requires: rng

override WG: u32 = 64u;
override CFG: bool = false;
override CLIP: bool = true;
override DUP: bool = false;

struct Params {
  n: u32,
  groups_x: u32,
  key: vec2<u32>,
  step: u32,
  w: f32,
  s0: f32,
  s1: f32,
  c_x0: f32,
  c_x: f32,
  c_e: f32,
  sigma: f32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (n) x_t
@group(0) @binding(2) var<storage, read> eps: array<f32>;        // (n) or (2, n) with CFG
@group(0) @binding(3) var<storage, read_write> x_out: array<f32>; // (n) x_{t'}
@group(0) @binding(4) var<storage, read_write> x0_out: array<f32>; // (n) x̂0
@group(0) @binding(5) var<storage, read_write> x_dup: array<f32>; // (2, n) with DUP, else unused

@compute @workgroup_size(WG)
fn diffusion_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.n) { return; }
  let xi = x[i];
  var e = eps[i];
  if (CFG) {
    e = e + params.w * (e - eps[params.n + i]);
  }
  var x0 = (xi - params.s1 * e) / params.s0;
  if (CLIP) {
    x0 = clamp(x0, -1.0, 1.0);
    e = (xi - params.s0 * x0) / params.s1;
  }
  var z = 0.0;
  if (params.sigma != 0.0) {
    let pair = ss_normal_pair(ss_philox(vec4<u32>(i >> 1u, params.step, 0x44494646u, 0u), params.key));
    z = select(pair.x, pair.y, (i & 1u) == 1u);
  }
  let xn = params.c_x0 * x0 + params.c_x * xi + params.c_e * e + params.sigma * z;
  x_out[i] = xn;
  x0_out[i] = x0;
  if (DUP) {
    x_dup[i] = xn;
    x_dup[params.n + i] = xn;
  }
}
