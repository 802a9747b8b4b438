// matmul — C[b] = act(A[b] · op(B[b]) + bias), op(B) = B or Bᵀ, batched; f32 in, f32 accumulate.
// Tiled: each workgroup computes a 64×64 tile of C with 16×16 threads, 4×4 outputs per thread,
// staging 64×16 of A and 16×64 of B in workgroup memory per K step. Ragged edges are bounds-checked.
// SIMPLE: one output per invocation, no workgroup memory or barriers — for narrow products
// (small N or K), where a 64×64 tile would sit mostly idle.
// Dispatch: (ceil(N / 64), ceil(M / 64), batch), or (ceil(N / 16), ceil(M / 16), batch) when SIMPLE;
// workgroup size (16, 16, 1).
// Twin: src/reference/matmul.ts.
// requires: activations

override TRANS_B: bool = false;   // B stored as (N, K) (PyTorch nn.Linear weight layout)
override B_BATCHED: bool = false; // B has a batch dimension; otherwise one B is shared by all batches
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;           // 0 none, 1 GELU (tanh form, as torch approximate='tanh')
override SIMPLE: bool = false;

const TILE: u32 = 64u;
const TK: u32 = 16u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (batch, M, K)
@group(0) @binding(2) var<storage, read> b: array<f32>;          // (batch | 1, K, N) or (batch | 1, N, K) if TRANS_B
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // (N) (one dummy element when !HAS_BIAS)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;    // (batch, M, N)

var<workgroup> As: array<f32, 1024>; // [TILE rows][TK]
var<workgroup> Bs: array<f32, 1024>; // [TK][TILE cols]

fn b_at(b_off: u32, k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[b_off + n * params.K + k]; }
  return b[b_off + k * params.N + n];
}

fn finish(v0: f32, col: u32) -> f32 {
  var v = v0;
  if (HAS_BIAS) { v = v + bias[col]; }
  if (ACT == 1u) { v = ss_gelu_tanh(v); }
  return v;
}

// SIMPLE path: one output per invocation (no barriers, so its early exit may be non-uniform).
fn matmul_simple(wid: vec3<u32>, lid: vec3<u32>) {
  let row = wid.y * 16u + lid.y;
  let col = wid.x * 16u + lid.x;
  if (row >= params.M || col >= params.N) { return; }
  let batch = wid.z;
  let a_off = batch * params.M * params.K + row * params.K;
  var b_off = 0u;
  if (B_BATCHED) { b_off = batch * params.K * params.N; }
  var acc = 0.0;
  for (var k = 0u; k < params.K; k = k + 1u) { acc = fma(a[a_off + k], b_at(b_off, k, col), acc); }
  c[batch * params.M * params.N + row * params.N + col] = finish(acc, col);
}

@compute @workgroup_size(16, 16, 1)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  if (SIMPLE) {
    matmul_simple(wid, lid);
    return;
  }
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
        if (TRANS_B) { v = b[b_off + gc * K + gk]; } else { v = b[b_off + gk * N + gc]; }
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
      c[batch * M * N + gr * N + gc] = finish(acc[i * 4u + j], gc);
    }
  }
}
