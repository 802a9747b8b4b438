// categorical — one draw per row from softmax(logits / T) restricted by top-k and top-p, by
// Gumbel-max: argmax_i (l_i / T + G_i) over the kept tokens, G_i from the Philox stream.
// PRECISION 0 ("precise"): G from 64 bits with an extended-range uniform (both tails exact);
// PRECISION 1 ("naive-f32"): G = −log(−log u), u a 24-bit fp32 uniform, reproducing the Gumbel
// cap (~16.64) of torch.rand-based samplers on purpose (arXiv 2409.02908).
// Semantics shared with the twin:
//   • T = 0 is greedy (argmax of the logits, lowest index on ties, no randomness).
//   • −inf logits are excluded tokens; a NaN or +inf logit, or a row with no finite logit, makes the
//     row invalid and writes 0xFFFFFFFF (the host turns it into InvalidLogitsError).
//   • top-k keeps every token whose z = l/T is ≥ the k-th largest z (ties at the boundary kept);
//     top_k = 0 disables it. top-p then keeps the smallest set of largest-z tokens whose softmax mass
//     (over the top-k set) is ≥ p, again keeping boundary ties; top_p = 1 disables it.
//   • thresholds are found exactly by a bitwise search over order-preserving u32 keys of z.
// Randomness: token i of row r uses Philox counter (i / 2, r, counter.x, counter.y), words (0,1) for
// even i and (2,3) for odd i, under key (key.x, key.y). With params.streams = 1, row r's words r and
// counter.x come from streams[r] instead (a sample's own index and round, whatever row it runs in:
// continuous batching).
// One workgroup per row. Dispatch: (min(rows, 65535), ceil(rows / 65535), 1); workgroup size WG
// (power of two). Twin: src/reference/categorical.ts.
// requires: rng, special

override WG: u32 = 256u;
override PRECISION: u32 = 0u;

struct Params {
  rows: u32,
  V: u32,
  top_k: u32,
  groups_x: u32,
  temperature: f32,
  top_p: f32,
  key: vec2<u32>,
  counter: vec2<u32>,
  streams: u32,
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;             // (Params) uniform
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // (rows, V)
@group(0) @binding(2) var<storage, read_write> out: array<u32>;  // (rows)
@group(0) @binding(3) var<storage, read> streams: array<u32>;    // (rows, 2) when params.streams = 1, else unread

const INVALID: u32 = 0xFFFFFFFFu;

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> bcast_u: u32;
var<workgroup> bcast_f: f32;
var<workgroup> bad: atomic<u32>; // zero-initialised per workgroup by WGSL

fn sum_u(v: u32, lid: u32) -> u32 {
  red_u[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red_u[lid] = red_u[lid] + red_u[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_u = red_u[0]; }
  return workgroupUniformLoad(&bcast_u);
}

fn max_u(v: u32, lid: u32) -> u32 {
  red_u[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red_u[lid] = max(red_u[lid], red_u[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_u = red_u[0]; }
  return workgroupUniformLoad(&bcast_u);
}

fn sum_f(v: f32, lid: u32) -> f32 {
  red_f[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red_f[lid] = red_f[lid] + red_f[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_f = red_f[0]; }
  return workgroupUniformLoad(&bcast_f);
}

fn z_of(l: f32) -> f32 {
  if (params.temperature == 0.0) { return l; }
  return l / params.temperature;
}

// Mass Σ exp(z − zmax) of finite tokens with key ≥ tau.
fn mass_above(off: u32, tau: u32, zmax: f32, lid: u32) -> f32 {
  var s = 0.0;
  for (var i = lid; i < params.V; i = i + WG) {
    let l = logits[off + i];
    if (ss_logit_class(l) == 0u) {
      let z = z_of(l);
      if (ss_sortable(z) >= tau) { s = s + exp(z - zmax); }
    }
  }
  return sum_f(s, lid);
}

fn count_above(off: u32, tau: u32, lid: u32) -> u32 {
  var c = 0u;
  for (var i = lid; i < params.V; i = i + WG) {
    let l = logits[off + i];
    if (ss_logit_class(l) == 0u && ss_sortable(z_of(l)) >= tau) { c = c + 1u; }
  }
  return sum_u(c, lid);
}

fn gumbel(w: vec2<u32>) -> f32 {
  if (PRECISION == 1u) { return ss_gumbel_naive(w.x); }
  return ss_gumbel_precise(w.x, w.y);
}

@compute @workgroup_size(WG)
fn categorical(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.groups_x;
  if (row >= params.rows) { return; } // uniform per workgroup
  let V = params.V;
  let off = row * V;

  // Pass 1: validity, number of finite logits, largest key.
  var kmax = 0u;
  var nfin = 0u;
  for (var i = lid; i < V; i = i + WG) {
    let l = logits[off + i];
    let cls = ss_logit_class(l);
    if (cls == 2u) { atomicStore(&bad, 1u); }
    if (cls == 0u) { kmax = max(kmax, ss_sortable(z_of(l))); nfin = nfin + 1u; }
  }
  let n_finite = sum_u(nfin, lid);
  let key_max = max_u(kmax, lid);
  if (lid == 0u) { bcast_u = atomicLoad(&bad); }
  let is_bad = workgroupUniformLoad(&bcast_u);
  if (is_bad != 0u || n_finite == 0u) {
    if (lid == 0u) { out[row] = INVALID; }
    return;
  }

  // top-k threshold: largest tau with count(key ≥ tau) ≥ k.
  var tau = 0u;
  let k = params.top_k;
  if (k > 0u && k < n_finite) {
    for (var bit = 31i; bit >= 0i; bit = bit - 1i) {
      let cand = tau | (1u << u32(bit));
      if (count_above(off, cand, lid) >= k) { tau = cand; }
    }
  }

  // top-p threshold over the top-k set: largest tau' with mass(key ≥ tau') ≥ p · mass(top-k set).
  let greedy = params.temperature == 0.0;
  if (!greedy && params.top_p < 1.0) {
    let zmax = ss_from_sortable(key_max);
    let total = mass_above(off, tau, zmax, lid);
    let goal = params.top_p * total;
    var tp = 0u;
    for (var bit = 31i; bit >= 0i; bit = bit - 1i) {
      let cand = tp | (1u << u32(bit));
      if (mass_above(off, max(cand, tau), zmax, lid) >= goal) { tp = cand; }
    }
    tau = max(tau, tp);
  }

  // Draw: argmax over kept tokens of z + G (greedy: of z), lowest index on ties.
  var best = 0.0;
  var best_i = INVALID;
  let npairs = (V + 1u) / 2u;
  var stream = vec2<u32>(row, params.counter.x);
  if (params.streams != 0u) { stream = vec2<u32>(streams[2u * row], streams[2u * row + 1u]); }
  for (var j = lid; j < npairs; j = j + WG) {
    var w = vec4<u32>(0u);
    if (!greedy) { w = ss_philox(vec4<u32>(j, stream.x, stream.y, params.counter.y), params.key); }
    for (var h = 0u; h < 2u; h = h + 1u) {
      let i = 2u * j + h;
      if (i >= V) { break; }
      let l = logits[off + i];
      if (ss_logit_class(l) != 0u) { continue; }
      let z = z_of(l);
      if (ss_sortable(z) < tau) { continue; }
      var score = z;
      if (!greedy) {
        if (h == 0u) { score = z + gumbel(w.xy); } else { score = z + gumbel(w.zw); }
      }
      if (best_i == INVALID || score > best) { best = score; best_i = i; }
    }
  }
  // argmax reduction of (best, best_i); invalid entries lose; ties go to the lower index
  red_f[lid] = best;
  red_u[lid] = best_i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      let oi = red_u[lid + s];
      let ov = red_f[lid + s];
      let mi = red_u[lid];
      let mf = red_f[lid];
      if (oi != INVALID && (mi == INVALID || ov > mf || (ov == mf && oi < mi))) {
        red_f[lid] = ov;
        red_u[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { out[row] = red_u[0]; }
}
