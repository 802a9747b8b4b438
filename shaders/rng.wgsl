// rng — fill a buffer from the Philox4x32-10 stream, raw or transformed.
// Counter i = (i, stream.x, stream.y, stream.z) under key = (key.x, key.y).
// OUTPUT 0: 4 u32 words per counter. 1..4: 2 f32 values per counter, from words (0,1) and (2,3)
// read as (hi, lo): 1 extended-range uniform, 2 naive fp32 uniform, 3 precise Gumbel, 4 naive Gumbel;
// 5: the two Box-Muller standard normals of the whole block.
// TAIL_SLICE s > 0 conditions each 64-bit draw on the 2^-s fraction of bit patterns that give the
// largest Gumbels (importance sampling for rare-event tests).
// Dispatch: (ceil(count / WG), 1, 1) workgroups (2-D split above 65535, see params.groups_x);
// workgroup size WG. Twin: src/reference/rng.ts (rngRef).
// requires: rng

override WG: u32 = 64u;
override OUTPUT: u32 = 0u;
override TAIL_SLICE: u32 = 0u;

struct Params {
  count: u32,
  groups_x: u32,
  key: vec2<u32>,
  stream: vec4<u32>, // (.x, .y, .z) used
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
// OUTPUT == 0: (count, 4) u32 words; OUTPUT > 0: (count, 2) f32 values stored as their bits
@group(0) @binding(1) var<storage, read_write> out: array<u32>; // (count, 4) or (count, 2)

// `slice` is a runtime argument (not the override itself) so that shifts by it are not
// constant-evaluated for the branches a specialisation does not take.
fn slice_bits(hi: u32, lo: u32, naive: bool, slice: u32) -> vec2<u32> {
  if (slice == 0u) { return vec2<u32>(hi, lo); }
  if (slice >= 32u) {
    var m = 0u;
    if (slice > 32u) { m = 0xFFFFFFFFu >> (slice - 32u); }
    if (naive) { return vec2<u32>(0xFFFFFFFFu, lo | ~m); }
    return vec2<u32>(0u, lo & m);
  }
  let m = 0xFFFFFFFFu >> slice;
  if (naive) { return vec2<u32>(hi | ~m, lo); }
  return vec2<u32>(hi & m, lo);
}

fn transform(hi: u32, lo: u32) -> f32 {
  switch (OUTPUT) {
    case 1u: { let b = slice_bits(hi, lo, false, TAIL_SLICE); return ss_ext_uniform(b.x, b.y); }
    case 2u: { let b = slice_bits(hi, lo, true, TAIL_SLICE); return ss_naive_uniform(b.x); }
    case 3u: { let b = slice_bits(hi, lo, false, TAIL_SLICE); return ss_gumbel_precise(b.x, b.y); }
    default: { let b = slice_bits(hi, lo, true, TAIL_SLICE); return ss_gumbel_naive(b.x); }
  }
}

@compute @workgroup_size(WG)
fn rng(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (i >= params.count) { return; }
  let w = ss_philox(vec4<u32>(i, params.stream.x, params.stream.y, params.stream.z), params.key);
  if (OUTPUT == 0u) {
    out[4u * i] = w.x;
    out[4u * i + 1u] = w.y;
    out[4u * i + 2u] = w.z;
    out[4u * i + 3u] = w.w;
  } else if (OUTPUT == 5u) {
    let z = ss_normal_pair(w);
    out[2u * i] = bitcast<u32>(z.x);
    out[2u * i + 1u] = bitcast<u32>(z.y);
  } else {
    out[2u * i] = bitcast<u32>(transform(w.x, w.y));
    out[2u * i + 1u] = bitcast<u32>(transform(w.z, w.w));
  }
}
