// shaders/lib/rng.wgsl — counter-based randomness shared by every sampling kernel.
// Twin: src/rng.ts (the host generator: bit-identical Philox stream; transforms agree to float tolerance).
//
// Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers: as easy as 1, 2, 3"):
// a bijection of a 128-bit counter under a 64-bit key. WGSL has no 64-bit integers, so the
// 32x32->64 multiply is done in 16-bit halves.
//
// Uniform/Gumbel transforms (arXiv 2409.02908 shows why): an fp32 uniform built from 24 bits
// never falls below 2^-24 from 1, which caps a Gumbel at ~16.6 and lowers the effective
// temperature of Gumbel-max draws. `ss_ext_uniform` keeps 23 significant bits at every scale
// (values down to 2^-65) and `ss_gumbel_precise` uses it on both tails.

const SS_PHILOX_M0: u32 = 0xD2511F53u;
const SS_PHILOX_M1: u32 = 0xCD9E8D57u;
const SS_PHILOX_W0: u32 = 0x9E3779B9u;
const SS_PHILOX_W1: u32 = 0xBB67AE85u;

// (hi, lo) of the 64-bit product a*b.
fn ss_mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xFFFFu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xFFFFu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  let lo = a * b;
  return vec2<u32>(hi, lo);
}

fn ss_philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r = r + 1u) {
    let p0 = ss_mulhilo(SS_PHILOX_M0, c.x);
    let p1 = ss_mulhilo(SS_PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = vec2<u32>(k.x + SS_PHILOX_W0, k.y + SS_PHILOX_W1);
  }
  return c;
}

// Extended-range uniform from 64 bits x = (hi, lo): with z leading zeros, keep the 23 bits that
// start at the leading one (m) and return (2m+1) * 2^-(24+z), the midpoint of x's bucket.
// Result in (0, 1), never 0 or 1; relative resolution 2^-23 at every scale down to 2^-65.
fn ss_ext_uniform(hi: u32, lo: u32) -> f32 {
  var z: u32;
  var top: u32; // the word that starts at the leading one
  if (hi != 0u) {
    z = countLeadingZeros(hi);
    if (z == 0u) {
      top = hi;
    } else {
      top = (hi << z) | (lo >> (32u - z));
    }
  } else {
    z = 32u + countLeadingZeros(lo); // 64 when lo == 0
    if (z > 41u) {
      // fewer than 23 significant bits: the bucket is the single integer x = lo
      return ldexp(f32(2u * lo + 1u), -65);
    }
    top = lo << (z - 32u);
  }
  let m = top >> 9u; // 23 bits, leading one included
  return ldexp(f32(2u * m + 1u), -24 - i32(z));
}

// fp32 uniform the way torch.rand builds one: k * 2^-24 from the top 24 bits, in [0, 1 - 2^-24];
// k = 0 maps to 2^-25 so that log stays finite.
fn ss_naive_uniform(hi: u32) -> f32 {
  let k = hi >> 8u;
  if (k == 0u) { return ldexp(1.0, -25); }
  return f32(k) * ldexp(1.0, -24);
}

// log(1 - w) for w in (0, 1/2] without cancellation: log(1-w) = -2 atanh(s), s = w / (2 - w) <= 1/3.
fn ss_log1m(w: f32) -> f32 {
  let s = w / (2.0 - w);
  let s2 = s * s;
  var p = 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return -2.0 * s * p;
}

// Standard exponential from 64 bits, precise in both tails: the top bit picks the half of the
// uniform e, the other 63 bits give an extended-range w in (0, 1/2): E = -log(1 - w) (small E)
// or E = -log(w) (large E).
fn ss_exponential(hi: u32, lo: u32) -> f32 {
  let w = ss_ext_uniform(hi & 0x7FFFFFFFu, lo);
  if ((hi >> 31u) == 0u) {
    return -ss_log1m(w);
  }
  return -log(w);
}

// Two standard normals from one Philox block (Box–Muller): r = sqrt(2E), E the precise exponential
// of words (x, y); (r cos 2πU, r sin 2πU), U the extended uniform of words (z, w), computed as
// (−r cos φ, −r sin φ) with φ = 2πU − π in [−π, π): WGSL bounds cos/sin's error (2^-11 absolute)
// only inside [−π, π].
fn ss_normal_pair(w: vec4<u32>) -> vec2<f32> {
  let r = sqrt(2.0 * ss_exponential(w.x, w.y));
  let phi = 6.283185307179586 * ss_ext_uniform(w.z, w.w) - 3.141592653589793;
  return vec2<f32>(-r * cos(phi), -r * sin(phi));
}

fn ss_gumbel_precise(hi: u32, lo: u32) -> f32 {
  return -log(ss_exponential(hi, lo));
}

fn ss_gumbel_naive(hi: u32) -> f32 {
  return -log(-log(ss_naive_uniform(hi)));
}

// Monotone map f32 -> u32 that preserves order (for bitwise threshold searches).
fn ss_sortable(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

// Inverse of ss_sortable.
fn ss_from_sortable(k: u32) -> f32 {
  if ((k & 0x80000000u) != 0u) { return bitcast<f32>(k & 0x7FFFFFFFu); }
  return bitcast<f32>(~k);
}
