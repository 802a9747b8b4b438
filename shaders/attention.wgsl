// attention — multi-head scaled dot-product attention with an explicit mask and separate query
// and key/value streams: out[b,i,h,:] = Σ_j softmax_j(scale · q[b,i,h,:]·k[b,j,h,:] | mask[b,i,j]) v[b,j,h,:].
// The (B|1, Tq, Tk) mask (1 = may attend) makes one kernel serve bidirectional, causal, any-order
// (σ-causal) and XLNet two-stream attention (queries from one stream, keys/values from another).
// A query row whose mask is all zero attends to nothing and outputs zeros (defined, documented).
// Grouped-query attention (GQA, arXiv 2305.13245): k and v may have Hkv heads, Hkv dividing H; query
// head h reads key/value head h / (H / Hkv) (Hkv = H: ordinary multi-head attention).
// One invocation per (b, i, h) with an online softmax (running max and sum), D ≤ 128.
// Dispatch: (ceil(B·Tq·H / WG), 1, 1) (2-D split via params.groups_x); workgroup size WG.
// Twin: src/reference/attention.ts.

override WG: u32 = 64u;
override MASK_BATCHED: bool = true; // mask has a batch dimension; otherwise (1, Tq, Tk) is shared

const MAX_D: u32 = 128u;
const NEG_MAX: f32 = -3.4028234663852886e38;

struct Params {
  B: u32,
  Tq: u32,
  Tk: u32,
  H: u32,
  D: u32,
  scale: f32,
  groups_x: u32,
  Hkv: u32,     // key/value heads, divides H
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> q: array<f32>;          // (B, Tq, H, D)
@group(0) @binding(2) var<storage, read> k: array<f32>;          // (B, Tk, Hkv, D)
@group(0) @binding(3) var<storage, read> v: array<f32>;          // (B, Tk, Hkv, D)
@group(0) @binding(4) var<storage, read> mask: array<u32>;       // (B | 1, Tq, Tk), 1 = attend
@group(0) @binding(5) var<storage, read_write> out: array<f32>;  // (B, Tq, H, D)

@compute @workgroup_size(WG)
fn attention(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * params.groups_x) * WG + lid;
  let H = params.H;
  let D = params.D;
  let Tq = params.Tq;
  let Tk = params.Tk;
  if (idx >= params.B * Tq * H) { return; }
  let h = idx % H;
  let bi = idx / H;       // b·Tq + i
  let b = bi / Tq;
  let i = bi % Tq;
  let q_off = idx * D;
  let Hkv = params.Hkv;
  let hk = h / (H / Hkv);  // this query head's key/value head
  var mask_off = i * Tk;
  if (MASK_BATCHED) { mask_off = (b * Tq + i) * Tk; }

  var qv: array<f32, MAX_D>;
  var acc: array<f32, MAX_D>;
  for (var d = 0u; d < D; d = d + 1u) {
    qv[d] = q[q_off + d] * params.scale;
    acc[d] = 0.0;
  }
  var m = NEG_MAX;
  var l = 0.0;
  for (var j = 0u; j < Tk; j = j + 1u) {
    if (mask[mask_off + j] == 0u) { continue; }
    let kv_off = ((b * Tk + j) * Hkv + hk) * D;
    var s = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { s = fma(qv[d], k[kv_off + d], s); }
    let m_new = max(m, s);
    let corr = exp(m - m_new);
    let p = exp(s - m_new);
    l = l * corr + p;
    for (var d = 0u; d < D; d = d + 1u) { acc[d] = fma(p, v[kv_off + d], acc[d] * corr); }
    m = m_new;
  }
  var inv = 0.0;
  if (l > 0.0) { inv = 1.0 / l; }
  for (var d = 0u; d < D; d = d + 1u) { out[q_off + d] = acc[d] * inv; }
}
