// shaders/lib/activations.wgsl — activation helpers. Twin: src/reference/elementwise.ts (geluTanh, geluErf).

// GELU, tanh form (torch.nn.GELU(approximate='tanh')); the tanh argument is clamped to ±15 where
// tanh is ±1 in f32 anyway, so large |x| cannot overflow an exp inside tanh.
fn ss_gelu_tanh(x: f32) -> f32 {
  let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(u));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7 over the reals): WGSL has no erf.
fn ss_erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

// GELU, exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch.nn.GELU(), BERT's "gelu").
fn ss_gelu_erf(x: f32) -> f32 {
  return 0.5 * x * (1.0 + ss_erf(x * 0.7071067811865476));
}

fn ss_relu(x: f32) -> f32 {
  return max(x, 0.0);
}

// SiLU x·sigmoid(x), computed from exp(−|x|) so neither tail overflows.
fn ss_silu(x: f32) -> f32 {
  let e = exp(-abs(x));
  if (x >= 0.0) { return x / (1.0 + e); }
  return x * e / (1.0 + e);
}

// softplus log(1 + eˣ) = max(x, 0) + log(1 + e^(−|x|)): no overflow for large x; for e^(−|x|) below
// f32's half-ulp of 1 the second term rounds to 0 (absolute error < 6e-8).
fn ss_softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// ACT codes shared by kernels with a fused activation: 0 none, 1 gelu (tanh), 2 relu, 3 silu.
fn ss_activate(x: f32, act: u32) -> f32 {
  switch (act) {
    case 1u: { return ss_gelu_tanh(x); }
    case 2u: { return ss_relu(x); }
    case 3u: { return ss_silu(x); }
    default: { return x; }
  }
}
