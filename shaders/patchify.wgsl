// patchify — patchify (B, H, W, C) → (B, (H/p)(W/p), p·p·C) or its inverse, as pure gathers.
// Patch n = pr·(W/p) + pc covers rows pr·p.., columns pc·p..; its vector is ordered (py, px, c).
// PATCHIFY = true: out is the patch tensor; false: out is the image.
// Dispatch: (ceil(B·H·W·C / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/patchify.ts.

override WG: u32 = 64u;
override PATCHIFY: bool = true;

struct Params {
  B: u32, H: u32, W: u32, C: u32,
  p: u32, groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> src: array<f32>;        // (B, H, W, C) or (B, N, p·p·C)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // (B, N, p·p·C) or (B, H, W, C)

// flat index in the image of element j of patch n of batch b
fn image_index(b: u32, n: u32, j: u32) -> u32 {
  let q = params;
  let c = j % q.C;
  let px = (j / q.C) % q.p;
  let py = j / (q.C * q.p);
  let wp = q.W / q.p;
  let y = (n / wp) * q.p + py;
  let x = (n % wp) * q.p + px;
  return ((b * q.H + y) * q.W + x) * q.C + c;
}

@compute @workgroup_size(WG)
fn patchify(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  let q = params;
  let per = q.H * q.W * q.C;
  if (i >= q.B * per) { return; }
  // i indexes the patch tensor: (b, n, j)
  let P = q.p * q.p * q.C;
  let b = i / per;
  let n = (i % per) / P;
  let j = i % P;
  let k = image_index(b, n, j);
  if (PATCHIFY) {
    out[i] = src[k];
  } else {
    out[k] = src[i];
  }
}
