// kv_write — cache[b, offsets[b] + m, :] = src[b, m, :]: the rows a decode pass appends to a KV
// cache, written at each row's own length (ragged batches). A bit copy of 32-bit words, so it serves
// f32 (keys, values, logits) and u32 (token ids) alike. Slots at or past S are not written (the
// host refuses such offsets before dispatch; the CPU twin throws).
// Dispatch: (ceil(B·M·W / WG), 1, 1) workgroups (2-D split above 65535 via params.groups_x);
// workgroup size WG. Twin: src/reference/kv_write.ts.

override WG: u32 = 64u;

struct Params {
  B: u32,
  M: u32,
  S: u32,
  W: u32,
  groups_x: u32,
};

@group(0) @binding(0) var<uniform> params: Params;               // (Params) uniform
@group(0) @binding(1) var<storage, read> src: array<u32>;          // (B, M, W) f32 or u32 bits
@group(0) @binding(2) var<storage, read> offsets: array<u32>;      // (B)
@group(0) @binding(3) var<storage, read_write> cache: array<u32>;  // (B, S, W) f32 or u32 bits

@compute @workgroup_size(WG)
fn kv_write(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  let W = params.W;
  let M = params.M;
  if (i >= params.B * M * W) { return; }
  let b = i / (M * W);
  let r = i % (M * W);
  let slot = offsets[b] + r / W;
  if (slot >= params.S) { return; }
  cache[(b * params.S + slot) * W + r % W] = src[i];
}
