/**
 * The diffusion_step op's contract: its options, their validation, and its uniform struct
 * (shaders/diffusion_step.wgsl). One fused reverse-diffusion update; see src/samplers/diffusion.ts.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** One reverse-diffusion update (shaders/diffusion_step.wgsl); see src/samplers/diffusion.ts. */
/**
 * The update's coefficients, x' = c_x0·x̂0 + c_x·x + c_e·e + σ·z with x̂0 = (x − s1·e)/s0: the one
 * declaration the sampler, this contract and the CPU twin share.
 */
export interface StepCoefficients {
  s0: number;
  s1: number;
  cX0: number;
  cX: number;
  cE: number;
  sigma: number;
}

export interface DiffusionStepOptions extends StepCoefficients {
  seed: number | bigint;
  /** Philox counter word 1 for the noise z (the sampler's step index) */
  step: number;
  /** guidance w: eps holds (2, n) — conditional then unconditional — and e = ε_c + w(ε_c − ε_u) */
  guidance?: number;
  clip: boolean;
  /** x' (same shape as x); must not be x */
  out: Tensor;
  /** x̂0 (same shape as x) */
  x0Out: Tensor;
  /** optional (2·B, …): x' written to both halves (the next guided pass's input) */
  dupOut?: Tensor;
}

export function planDiffusionStep(
  x: Tensor,
  eps: Tensor,
  o: DiffusionStepOptions,
  backend: BackendName,
): { n: number; cfg: boolean } {
  const op = 'diffusionStep';
  expect(op, 'x', x, backend, ['f32']);
  expect(op, 'eps', eps, backend, ['f32']);
  const n = x.size;
  const cfg = o.guidance !== undefined;
  if (eps.size !== (cfg ? 2 * n : n))
    fail(op, `eps has ${eps.size} values, expected ${cfg ? `2·${n} (conditional then unconditional)` : n}`);
  if (!Number.isInteger(o.step) || o.step < 0 || o.step > 0xffffffff) fail(op, `step must be a u32, got ${o.step}`);
  for (const [k, v] of [
    ['guidance', o.guidance ?? 0],
    ['s0', o.s0],
    ['s1', o.s1],
    ['cX0', o.cX0],
    ['cX', o.cX],
    ['cE', o.cE],
    ['sigma', o.sigma],
  ] as const) {
    if (!Number.isFinite(v)) fail(op, `${k} must be finite, got ${v}`);
  }
  if (!(o.s0 > 0) || !(o.s1 > 0)) fail(op, `s0 and s1 must be > 0, got ${o.s0}, ${o.s1}`);
  if (o.sigma < 0) fail(op, `sigma must be ≥ 0, got ${o.sigma}`);
  expectOut(op, o.out, x.shape, 'f32', backend);
  expectOut(op, o.x0Out, x.shape, 'f32', backend);
  if (!o.out || !o.x0Out) fail(op, 'out and x0Out are required');
  if (o.dupOut) {
    expect(op, 'dupOut', o.dupOut, backend, ['f32']);
    if (o.dupOut.size !== 2 * n) fail(op, `dupOut has ${o.dupOut.size} values, expected 2·${n}`);
  }
  if (new Set([o.out, o.x0Out, o.dupOut].filter(Boolean)).size !== [o.out, o.x0Out, o.dupOut].filter(Boolean).length)
    fail(op, 'out, x0Out and dupOut must be distinct tensors');
  for (const w of [o.out, o.x0Out, o.dupOut])
    if (w && (w === x || w === eps)) fail(op, 'outputs must not alias x or eps');
  return { n, cfg };
}

/** shaders/diffusion_step.wgsl's `struct Params` */
export const DIFFUSION_STEP_PARAMS = paramsStruct('diffusion_step', {
  n: 'u32',
  groups_x: 'u32',
  key: 'vec2<u32>',
  step: 'u32',
  w: 'f32',
  s0: 'f32',
  s1: 'f32',
  c_x0: 'f32',
  c_x: 'f32',
  c_e: 'f32',
  sigma: 'f32',
});
