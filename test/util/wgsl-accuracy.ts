/**
 * Tolerances from the WGSL spec's f32 accuracy rules (§ "Floating Point Accuracy"), not from one
 * driver's behaviour. The builtins the kernels' random transforms use:
 *   cos, sin  absolute error ≤ 2^-11 for x in [−π, π] (nothing is promised outside; the kernels keep
 *             their angles inside);
 *   log       absolute error ≤ 2^-21 for x in [0.5, 2], else 3 ULP;
 *   sqrt      inherited from 1/inverseSqrt: 2 ULP + 2.5 ULP;
 *   x / y     2.5 ULP.
 * lavapipe meets these with a wide margin, SwiftShader's Vulkan driver much more narrowly (its cos
 * and sin are off by up to ~1e-4 on the unit circle), and real GPUs anywhere within them.
 */
export const COS_SIN_ABS = 2 ** -11;
/** a relative error bound for r = √(2E), E from log (3 ULP) and the tail polynomial, through sqrt */
export const RADIUS_REL = 2 ** -20;

/**
 * Per-value tolerance of Box–Muller normals z = r·cos θ, r·sin θ (shaders/lib/rng.wgsl
 * ss_normal_pair) against the f64 twin, from the twin's pairs: |Δz| ≤ r·(2^-11 + 2^-20) + 1e-6
 * (cos/sin's absolute error scaled by the radius, the radius's relative error, f32 rounding of θ).
 */
export function normalPairTolerance(pairs: ArrayLike<number>): Float64Array {
  const tol = new Float64Array(pairs.length);
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    const r = Math.hypot(pairs[k], pairs[k + 1]);
    tol[k] = tol[k + 1] = r * (COS_SIN_ABS + RADIUS_REL) + 1e-6;
  }
  return tol;
}
