// shaders/lib/activations.wgsl — activation helpers. Twin: src/reference/elementwise.ts (geluTanh).

// GELU, tanh form (torch.nn.GELU(approximate='tanh')); the tanh argument is clamped to ±15 where
// tanh is ±1 in f32 anyway, so large |x| cannot overflow an exp inside tanh.
fn ss_gelu_tanh(x: f32) -> f32 {
  let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(u));
}
