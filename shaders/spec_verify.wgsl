// spec_verify — the accept/reject step of speculative decoding, for every row at once, from the
// target's and the draft's logits; only the decided tokens leave the GPU.
// Row b holds kb = counts[b].x drafts x̃_j (drafts (B, K)) drawn from q_j, and bonus = counts[b].y.
// p_j, q_j: softmax(l / T) restricted by top-k, then top-p, exactly as the categorical kernel keeps
// tokens (ties at a threshold kept; thresholds by a bitwise search over order-preserving keys); T = 0
// is one-hot on the argmax (lowest index). For j = 0, 1, …, kb − 1: accept x̃_j when
// u_j < p_j(x̃_j) / q_j(x̃_j); at the first rejection draw from normalize(max(p_j − q_j, 0)) and
// stop; if all kb are accepted and bonus ≠ 0, draw from p_kb. Draws are Gumbel-max over log-weights
// with precise Gumbels (extended-range uniforms).
// out[b, j] for j ≤ K: the decided tokens in order (the accepted drafts, then the residual draw with
// RESAMPLED (bit 31) set, or the bonus draw), NONE (0xFFFFFFFE) after them; out[b, 0] = INVALID (0xFFFFFFFF) when a distribution it needed
// has a NaN/+inf logit or no finite one. RESIDUAL = false (tests only) draws from p_j instead of the
// residual — a deliberately wrong sampler the statistical tests must catch.
// Randomness: Philox counter (i, b, counter, 4j + purpose) under key: purpose 1 = the accept uniform
// of draft j (words 0-1 of i = 0xFFFFFFFF); 2 = the residual's Gumbels of row j, 3 = the bonus's,
// token v taking words (0,1) / (2,3) of i = v / 2 by parity. With params.streams = 1, row b's words b
// and counter come from streams[b] instead (a sample's own index and round, whatever row it runs in:
// continuous batching).
// One invocation per row (serial over V: O(V · (K + 1)) per row plus 64 · V per top-k/top-p
// threshold — meant for character vocabularies). Dispatch: (ceil(B / WG), 1, 1), 2-D split via
// params.groups_x; workgroup size WG. Twin: src/reference/spec_verify.ts.
// requires: rng, special

override WG: u32 = 64u;
override RESIDUAL: bool = true;

struct Params {
  B: u32,
  K: u32,
  V: u32,
  top_k: u32,
  temperature: f32,
  top_p: f32,
  groups_x: u32,
  counter: u32,
  key: vec2<u32>,
  streams: u32,
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // (B, 2K + 1, V): p_0..p_K, then q_0..q_{K−1}
@group(0) @binding(2) var<storage, read> drafts: array<u32>;     // (B, K)
@group(0) @binding(3) var<storage, read> counts: array<u32>;     // (B, 2): drafts kb ≤ K, bonus 0/1
@group(0) @binding(4) var<storage, read_write> out: array<u32>;  // (B, K + 1)
@group(0) @binding(5) var<storage, read> streams: array<u32>;    // (B, 2) when params.streams = 1, else unread

const INVALID: u32 = 0xFFFFFFFFu;
const NONE: u32 = 0xFFFFFFFEu;
const RESAMPLED: u32 = 0x80000000u;

// A distribution over one logits row: its offset, the keep threshold (a sortable key), the largest z
// and the kept mass Σ exp(z − zmax); argmax for T = 0; ok = false for an invalid row.
struct Dist {
  off: u32,
  tau: u32,
  zmax: f32,
  mass: f32,
  argmax: u32,
  ok: bool,
};

fn z_of(l: f32) -> f32 {
  if (params.temperature == 0.0) { return l; }
  return l / params.temperature;
}

fn kept(d: Dist, v: u32) -> bool {
  let l = logits[d.off + v];
  return ss_logit_class(l) == 0u && ss_sortable(z_of(l)) >= d.tau;
}

fn count_above(off: u32, tau: u32) -> u32 {
  var c = 0u;
  for (var v = 0u; v < params.V; v = v + 1u) {
    let l = logits[off + v];
    if (ss_logit_class(l) == 0u && ss_sortable(z_of(l)) >= tau) { c = c + 1u; }
  }
  return c;
}

fn mass_above(off: u32, tau: u32, zmax: f32) -> f32 {
  var s = 0.0;
  for (var v = 0u; v < params.V; v = v + 1u) {
    let l = logits[off + v];
    if (ss_logit_class(l) == 0u) {
      let z = z_of(l);
      if (ss_sortable(z) >= tau) { s = s + exp(z - zmax); }
    }
  }
  return s;
}

fn dist(off: u32) -> Dist {
  var d = Dist(off, 0u, 0.0, 0.0, 0u, false);
  var kmax = 0u;
  var n = 0u;
  var best = 0.0;
  for (var v = 0u; v < params.V; v = v + 1u) {
    let l = logits[off + v];
    let c = ss_logit_class(l);
    if (c == 2u) { return d; }
    if (c == 0u) {
      let key = ss_sortable(z_of(l));
      if (n == 0u || l > best) { best = l; d.argmax = v; }
      kmax = max(kmax, key);
      n = n + 1u;
    }
  }
  if (n == 0u) { return d; }
  d.ok = true;
  if (params.temperature == 0.0) { return d; }
  let k = params.top_k;
  if (k > 0u && k < n) {
    for (var bit = 31i; bit >= 0i; bit = bit - 1i) {
      let cand = d.tau | (1u << u32(bit));
      if (count_above(off, cand) >= k) { d.tau = cand; }
    }
  }
  d.zmax = ss_from_sortable(kmax);
  if (params.top_p < 1.0) {
    let goal = params.top_p * mass_above(off, d.tau, d.zmax);
    var tp = 0u;
    for (var bit = 31i; bit >= 0i; bit = bit - 1i) {
      let cand = tp | (1u << u32(bit));
      if (mass_above(off, max(cand, d.tau), d.zmax) >= goal) { tp = cand; }
    }
    d.tau = max(d.tau, tp);
  }
  d.mass = mass_above(off, d.tau, d.zmax);
  return d;
}

fn prob(d: Dist, v: u32) -> f32 {
  if (params.temperature == 0.0) { return select(0.0, 1.0, v == d.argmax); }
  if (!kept(d, v)) { return 0.0; }
  return exp(z_of(logits[d.off + v]) - d.zmax) / d.mass;
}

// Philox words (row, counter) of row b: its stream's when given
fn stream_of(b: u32) -> vec2<u32> {
  if (params.streams != 0u) { return vec2<u32>(streams[2u * b], streams[2u * b + 1u]); }
  return vec2<u32>(b, params.counter);
}

fn gumbel(s: vec2<u32>, tag: u32, v: u32) -> f32 {
  let w = ss_philox(vec4<u32>(v / 2u, s.x, s.y, tag), params.key);
  if ((v & 1u) == 0u) { return ss_gumbel_precise(w.x, w.y); }
  return ss_gumbel_precise(w.z, w.w);
}

// Gumbel-max over v with weight w_v > 0: residual max(p − q, 0) (q given) or p itself.
fn draw(st: vec2<u32>, tag: u32, p: Dist, q: Dist, residual: bool) -> u32 {
  var best = 0.0;
  var best_v = NONE;
  for (var v = 0u; v < params.V; v = v + 1u) {
    var w = prob(p, v);
    if (residual) { w = max(w - prob(q, v), 0.0); }
    if (w <= 0.0) { continue; }
    let s = log(w) + gumbel(st, tag, v);
    if (best_v == NONE || s > best) { best = s; best_v = v; }
  }
  return best_v;
}

@compute @workgroup_size(WG)
fn spec_verify(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = (wid.x + wid.y * params.groups_x) * WG + lid;
  if (b >= params.B) { return; }
  let K = params.K;
  let V = params.V;
  let rows = 2u * K + 1u;
  let o = b * (K + 1u);
  for (var j = 0u; j <= K; j = j + 1u) { out[o + j] = NONE; }
  let kb = min(counts[2u * b], K);
  let bonus = counts[2u * b + 1u];
  let st = stream_of(b);
  for (var j = 0u; j < kb; j = j + 1u) {
    let p = dist((b * rows + j) * V);
    let q = dist((b * rows + K + 1u + j) * V);
    if (!p.ok || !q.ok) { out[o] = INVALID; return; }
    let x = drafts[b * K + j];
    let px = prob(p, x);
    let qx = prob(q, x);
    let w = ss_philox(vec4<u32>(0xFFFFFFFFu, st.x, st.y, 4u * j + 1u), params.key);
    let u = ss_ext_uniform(w.x, w.y);
    if (qx > 0.0 && u < px / qx) {
      out[o + j] = x;
      continue;
    }
    let r = draw(st, 4u * j + 2u, p, q, RESIDUAL);
    // an empty residual means p = q up to rounding, where a rejection has probability 0: keep x̃_j
    if (r == NONE) {
      out[o + j] = x;
      continue;
    }
    out[o + j] = r | RESAMPLED;
    return;
  }
  if (bonus != 0u) {
    let p = dist((b * rows + kb) * V);
    if (!p.ok) { out[o] = INVALID; return; }
    out[o + kb] = draw(st, 4u * kb + 3u, p, p, false);
  }
}
