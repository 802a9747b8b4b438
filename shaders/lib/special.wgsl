// shaders/lib/special.wgsl — non-finite values. WGSL rejects a NaN or infinity produced by a constant
// expression, so these take a runtime word (any value; only its zero bits are used) to build them at
// run time.

fn ss_nan(runtime: u32) -> f32 {
  return bitcast<f32>(0x7FC00000u | (runtime & 0u));
}

fn ss_neg_inf(runtime: u32) -> f32 {
  return bitcast<f32>(0xFF800000u | (runtime & 0u));
}

// A logit's class for samplers: 0 = finite, 1 = −inf (an excluded token), 2 = NaN or +inf (invalid).
fn ss_logit_class(l: f32) -> u32 {
  let b = bitcast<u32>(l);
  if ((b & 0x7F800000u) != 0x7F800000u) { return 0u; }
  if (b == 0xFF800000u) { return 1u; }
  return 2u;
}
