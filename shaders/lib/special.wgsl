// shaders/lib/special.wgsl — non-finite values. WGSL rejects a NaN or infinity produced by a constant
// expression, so these take a runtime word (any value; only its zero bits are used) to build them at
// run time.

fn ss_nan(runtime: u32) -> f32 {
  return bitcast<f32>(0x7FC00000u | (runtime & 0u));
}

fn ss_neg_inf(runtime: u32) -> f32 {
  return bitcast<f32>(0xFF800000u | (runtime & 0u));
}
