// matmul — C[b] = act(A[b] · op(B[b]) + bias), op(B) = B or Bᵀ, batched; f32 A, f32 or f16 B (B_F16:
// two f16 per 32-bit word, low half first), f32 accumulate. B's words are read through the `f16` lib
// variant (src/gpu/kernels.ts): vec2<f16> where the device has `shader-f16` (f16_native.wgsl), else
// u32 + unpack2x16float (f16_packed.wgsl, SwiftShader) — the same bytes, widened exactly either way.
// A weight split over several bindings (row blocks of a (N, K) Bᵀ, src/backend/webgpu.ts) runs one
// dispatch per block: N is the block's columns, written at column col0 of rows ldc wide (bias too).
// Two entry points, picked by the backend (src/backend/webgpu.ts, `matmulPath`):
// - `matmul` tiled: each workgroup computes a 64×64 tile of C with 16×16 threads, 4×4 outputs per
//   thread, staging 64×16 of A and 16×64 of B in workgroup memory per K step. Ragged edges are
//   bounds-checked. For products with M, N, K ≥ 64, 32, 32 on hardware GPUs.
// - `matmul_blocked`: 4×4 outputs per invocation straight from storage (no workgroup memory, no
//   barriers), 8×8 threads. For few rows (M) on any adapter, and for every product on software
//   adapters (SwiftShader, lavapipe), which run workgroups on CPU threads: there the tiled kernel
//   measured 6–30× slower on SwiftShader and 1.5–4× slower on lavapipe, M from 16 to 1024.
// Dispatch: tiled (ceil(N / 64), ceil(M / 64), batch), workgroup size (16, 16, 1);
// blocked (ceil(N / 32), ceil(M / 32), batch), workgroup size (8, 8, 1).
// Twin: src/reference/matmul.ts.
// requires: activations, f16

override TRANS_B: bool = false;   // B stored as (N, K) (PyTorch nn.Linear weight layout)
override B_BATCHED: bool = false; // B has a batch dimension; otherwise one B is shared by all batches
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;           // 0 none, 1 GELU (tanh form, as torch approximate='tanh')
override B_F16: bool = false;     // B holds f16 pairs (element i in word i / 2, low half first)

const TILE: u32 = 64u;
const TK: u32 = 16u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  ldc: u32,  // C's row length (N unless this dispatch writes one column block of a wider C)
  col0: u32, // the block's first column in C and bias
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (batch, M, K)
@group(0) @binding(2) var<storage, read> b: array<ss_word>;      // (batch | 1, K, N) or (batch | 1, N, K) if TRANS_B; f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (ldc) (one dummy element when !HAS_BIAS)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;    // (batch, M, ldc)

var<workgroup> As: array<f32, 1024>; // [TILE rows][TK]
var<workgroup> Bs: array<f32, 1024>; // [TK][TILE cols]

// element i of B, widened to f32
fn load_b(i: u32) -> f32 {
  if (B_F16) { return ss_word_f16x2(b[i >> 1u])[i & 1u]; }
  return ss_word_f32(b[i]);
}

fn finish(v0: f32, col: u32) -> f32 {
  var v = v0;
  if (HAS_BIAS) { v = v + bias[params.col0 + col]; }
  if (ACT == 1u) { v = ss_gelu_tanh(v); }
  return v;
}

@compute @workgroup_size(16, 16, 1)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let batch = wid.z;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let a_off = batch * M * K;
  var b_off = 0u;
  if (B_BATCHED) { b_off = batch * K * N; }
  let tid = lid.y * 16u + lid.x;

  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = 0.0; }

  for (var k0 = 0u; k0 < K; k0 = k0 + TK) {
    // load A tile: 64×16 = 1024 values, 4 per thread
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = tid + e * 256u;
      let r = idx / TK;
      let kk = idx % TK;
      let gr = row0 + r;
      let gk = k0 + kk;
      var v = 0.0;
      if (gr < M && gk < K) { v = a[a_off + gr * K + gk]; }
      As[r * TK + kk] = v;
    }
    // load B tile: 16×64 values
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = tid + e * 256u;
      var kk: u32;
      var cc: u32;
      if (TRANS_B) { cc = idx / TK; kk = idx % TK; } else { kk = idx / TILE; cc = idx % TILE; }
      let gk = k0 + kk;
      let gc = col0 + cc;
      var v = 0.0;
      if (gk < K && gc < N) {
        if (TRANS_B) { v = load_b(b_off + gc * K + gk); } else { v = load_b(b_off + gk * N + gc); }
      }
      Bs[kk * TILE + cc] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        av[i] = As[(lid.y * 4u + i) * TK + kk];
        bv[i] = Bs[kk * TILE + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i = i + 1u) {
    let gr = row0 + lid.y * 4u + i;
    if (gr >= M) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let gc = col0 + lid.x * 4u + j;
      if (gc >= N) { continue; }
      c[batch * M * params.ldc + gr * params.ldc + params.col0 + gc] = finish(acc[i * 4u + j], gc);
    }
  }
}

// Blocked path: invocation (x, y) of the grid owns rows 4y..4y+3 and columns 4x..4x+3 of C; rows
// and columns past the edge are clamped for the loads and skipped for the stores. Written out
// without private arrays: software adapters keep named values in registers but not indexed arrays.
@compute @workgroup_size(8, 8, 1)
fn matmul_blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let r0 = gid.y * 4u;
  let c0 = gid.x * 4u;
  if (r0 >= M || c0 >= N) { return; }
  let batch = gid.z;
  let a_off = batch * M * K;
  var b_off = 0u;
  if (B_BATCHED) { b_off = batch * K * N; }
  // A rows (clamped) and B columns (clamped), as start offsets and strides along k
  let ra0 = a_off + min(r0, M - 1u) * K;
  let ra1 = a_off + min(r0 + 1u, M - 1u) * K;
  let ra2 = a_off + min(r0 + 2u, M - 1u) * K;
  let ra3 = a_off + min(r0 + 3u, M - 1u) * K;
  var bs = params.N; // step between consecutive k
  var cs = 1u;       // step between consecutive columns
  if (TRANS_B) { bs = 1u; cs = params.K; }
  let rb0 = b_off + min(c0, N - 1u) * cs;
  let rb1 = b_off + min(c0 + 1u, N - 1u) * cs;
  let rb2 = b_off + min(c0 + 2u, N - 1u) * cs;
  let rb3 = b_off + min(c0 + 3u, N - 1u) * cs;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  if (B_F16 && TRANS_B && (K & 1u) == 0u) {
    // f16 Bᵀ with even K: a column's k and k + 1 share one word (its offset col·K is even), so each word
    // is read and widened once for both (the general loop reads it twice). Same fma order: k, then k + 1.
    let w0 = rb0 >> 1u;
    let w1 = rb1 >> 1u;
    let w2 = rb2 >> 1u;
    let w3 = rb3 >> 1u;
    for (var k = 0u; k < K; k = k + 2u) {
      let h = k >> 1u;
      let p0 = ss_word_f16x2(b[w0 + h]);
      let p1 = ss_word_f16x2(b[w1 + h]);
      let p2 = ss_word_f16x2(b[w2 + h]);
      let p3 = ss_word_f16x2(b[w3 + h]);
      let lo = vec4<f32>(p0.x, p1.x, p2.x, p3.x);
      let hi = vec4<f32>(p0.y, p1.y, p2.y, p3.y);
      acc0 = fma(vec4<f32>(a[ra0 + k + 1u]), hi, fma(vec4<f32>(a[ra0 + k]), lo, acc0));
      acc1 = fma(vec4<f32>(a[ra1 + k + 1u]), hi, fma(vec4<f32>(a[ra1 + k]), lo, acc1));
      acc2 = fma(vec4<f32>(a[ra2 + k + 1u]), hi, fma(vec4<f32>(a[ra2 + k]), lo, acc2));
      acc3 = fma(vec4<f32>(a[ra3 + k + 1u]), hi, fma(vec4<f32>(a[ra3 + k]), lo, acc3));
    }
  } else {
    for (var k = 0u; k < K; k = k + 1u) {
      let kb = k * bs;
      let bv = vec4<f32>(load_b(rb0 + kb), load_b(rb1 + kb), load_b(rb2 + kb), load_b(rb3 + kb));
      acc0 = fma(vec4<f32>(a[ra0 + k]), bv, acc0);
      acc1 = fma(vec4<f32>(a[ra1 + k]), bv, acc1);
      acc2 = fma(vec4<f32>(a[ra2 + k]), bv, acc2);
      acc3 = fma(vec4<f32>(a[ra3 + k]), bv, acc3);
    }
  }
  store_row(batch, r0, c0, acc0);
  store_row(batch, r0 + 1u, c0, acc1);
  store_row(batch, r0 + 2u, c0, acc2);
  store_row(batch, r0 + 3u, c0, acc3);
}

fn store_row(batch: u32, r: u32, c0: u32, v: vec4<f32>) {
  let M = params.M;
  let N = params.N;
  if (r >= M) { return; }
  let o = batch * M * params.ldc + r * params.ldc + params.col0;
  c[o + c0] = finish(v.x, c0);
  if (c0 + 1u < N) { c[o + c0 + 1u] = finish(v.y, c0 + 1u); }
  if (c0 + 2u < N) { c[o + c0 + 2u] = finish(v.z, c0 + 2u); }
  if (c0 + 3u < N) { c[o + c0 + 3u] = finish(v.w, c0 + 3u); }
}
