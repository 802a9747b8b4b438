// shaders/lib/f16_packed.wgsl — the packed weight path: how a kernel whose `// requires:` names `f16`
// reads a 32-bit weight word (one f32, or two f16 values, low half first) where the device has no
// `shader-f16` (SwiftShader): the word is a u32, its halves widened with unpack2x16float. Its twin
// is f16_native.wgsl (same names, same bytes); src/gpu/kernels.ts picks one per pipeline.

alias ss_word = u32;

// the word as one f32
fn ss_word_f32(w: ss_word) -> f32 {
  return bitcast<f32>(w);
}

// the word's two f16 values (low half first), widened to f32 (exact)
fn ss_word_f16x2(w: ss_word) -> vec2<f32> {
  return unpack2x16float(w);
}
