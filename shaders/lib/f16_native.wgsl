// shaders/lib/f16_native.wgsl — the native weight path (device feature `shader-f16`): the same 32-bit
// weight words as f16_packed.wgsl, typed vec2<f16> (element 0 is the low half, as unpack2x16float
// reads it), so an f16 weight is loaded as f16 and converted to f32 without the pack/unpack. Only a
// device that has `shader-f16` ever compiles this (src/gpu/kernels.ts moves the `enable` to the top).
enable f16;

alias ss_word = vec2<f16>;

// the word as one f32
fn ss_word_f32(w: ss_word) -> f32 {
  return bitcast<f32>(w);
}

// the word's two f16 values, widened to f32 (exact)
fn ss_word_f16x2(w: ss_word) -> vec2<f32> {
  return vec2<f32>(w);
}
