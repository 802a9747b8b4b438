/**
 * CPU twin of shaders/diffusion_step.wgsl: one reverse-diffusion update of an ε-prediction model
 * with classifier-free guidance fused (see the kernel header for the formulas). f64 arithmetic.
 * (The kernel's DUP copy of x' is the backend's job, not part of the arithmetic.)
 */
import type { StepCoefficients } from '../ops/diffusion_step.js';
import { normalPair, philox4x32, seedToKey } from '../rng.js';

/** 'DIFF': the third Philox counter word of diffusion noise */
export const DIFFUSION_STREAM = 0x44494646;

export interface DiffusionStepParams extends StepCoefficients {
  seed: number | bigint;
  /** Philox counter word 1 (the sampler's step index) */
  step: number;
  /** guidance w, used when eps holds (2, n) */
  w: number;
  cfg: boolean;
  clip: boolean;
}

export function diffusionStepRef(
  x: Float32Array,
  eps: Float32Array,
  p: DiffusionStepParams,
): { x: Float32Array; x0: Float32Array } {
  const n = x.length;
  const key = seedToKey(p.seed);
  const out = new Float32Array(n),
    x0s = new Float32Array(n);
  const f = Math.fround;
  const w = f(p.w),
    s0 = f(p.s0),
    s1 = f(p.s1),
    cX0 = f(p.cX0),
    cX = f(p.cX),
    cE = f(p.cE),
    sigma = f(p.sigma); // uniforms are f32
  const words = new Uint32Array(4);
  let pair: [number, number] = [0, 0];
  for (let i = 0; i < n; i++) {
    let e = eps[i];
    if (p.cfg) e = e + w * (e - eps[n + i]);
    let x0 = (x[i] - s1 * e) / s0;
    if (p.clip) {
      x0 = Math.min(1, Math.max(-1, x0));
      e = (x[i] - s0 * x0) / s1;
    }
    let z = 0;
    if (sigma !== 0) {
      if ((i & 1) === 0) {
        philox4x32(i >>> 1, p.step, DIFFUSION_STREAM, 0, key[0], key[1], words);
        pair = normalPair(words[0], words[1], words[2], words[3]);
      }
      z = pair[i & 1];
    }
    out[i] = cX0 * x0 + cX * x[i] + cE * e + sigma * z;
    x0s[i] = x0;
  }
  return { x: out, x0: x0s };
}
