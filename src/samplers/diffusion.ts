/**
 * Reverse-diffusion samplers for ε-prediction image denoisers (DDPM family), batched, on any backend.
 *
 * Timesteps: S steps on τ_i = round((T − 1)(1 − i/(S − 1))), i = 0..S−1 (T − 1 down to 0); ᾱ_prev of
 * the last step is 1. Each step: one model call (two with guidance, batched into one pass of 2B),
 * then one fused update kernel (x̂0, guidance, clipping, noise):
 * - 'ddpm' (Ho et al., arXiv 2006.11239) — the posterior q(x_prev | x_t, x̂0) on the respaced chain
 *   β = 1 − ᾱ_t/ᾱ_prev: mean c_x0·x̂0 + c_x·x_t, variance β̃ = β(1 − ᾱ_prev)/(1 − ᾱ_t).
 *   With S = T this is the original ancestral sampler.
 * - 'ddim' with η ∈ [0, 1] (Song et al., arXiv 2010.02502): x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ²) ε̂ + σ z,
 *   σ = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev). η = 0 is deterministic given x_T; η = 1 has the
 *   DDPM posterior's variance and mean (a different formula for the same chain — the tests check it).
 * Guidance: the scale s of text and of diffusers' `guidance_scale`, ε̃ = ε_u + s (ε_c − ε_u): **s = 1 is the
 * plain conditional model** (no extra pass), s = 0 the unconditional model (one pass on the null class),
 * s > 1 strengthens the class. The fused update takes w = s − 1 (ε̃ = ε_c + w (ε_c − ε_u), the same
 * number). `guidanceInterval` [lo, hi] applies it only at timesteps lo ≤ t ≤ hi
 * (Kynkäänniemi et al., arXiv 2404.07724); elsewhere the step is conditional only (one pass).
 * - 'consistency' with k steps (Song et al., arXiv 2303.01469) for consistency-distilled students
 *   (digits-fewstep): at t_i = round((T − 1)(1 − i/k)), x̂0 = f(x, t_i), then
 *   x = √ᾱ_{t_{i+1}} x̂0 + √(1 − ᾱ_{t_{i+1}}) z.
 * - `hybrid: { student, baseSteps: m, studentSteps: k }` (arXiv 2503.10637): the first m steps of the
 *   'ddpm'/'ddim' grid run the base model; from the timestep reached, t_m, the student takes k
 *   consistency steps at round(t_m (1 − j/k)). m = 0 is the student alone.
 * `noiseTemperature` τ scales the initial noise x_T = τ z. `clip` (default on) clamps x̂0 to the data range.
 * Randomness: x_T and every step's z come from the Philox stream of the seed (counter word 1 = step,
 * 0xFFFFFFFF for x_T), so a seed fixes the samples on a backend.
 */
import type { Tensor, BackendName } from '../backend/tensor.js';
import { SamplerConfigError } from '../errors.js';
import type { DenoiserModel } from '../models/model.js';
import type { StepCoefficients } from '../ops/diffusion_step.js';
import { checkInt, checkSeed, now, type SamplerCheckpoint } from './common.js';
import { knobDefault, knobOption } from '../knobs/registry.js';

export interface DiffusionOptions {
  sampler: 'ddpm' | 'ddim' | 'consistency';
  /** number of denoising steps, 1..T. Default: T for 'ddpm', 50 for 'ddim', 1 for 'consistency'. */
  steps?: number;
  /**
   * base → student switch: the first `baseSteps` of the grid on this model, then `studentSteps` consistency steps of
   * `student`
   */
  hybrid?: { student: DenoiserModel; baseSteps: number; studentSteps: number };
  /** DDIM stochasticity η ∈ [0, 1]. Default 0. ('ddim' only) */
  eta?: number;
  /** images drawn in parallel */
  batch: number;
  seed: number | bigint;
  /** class in [0, numClasses) for every image, or `classes` per image; omitted = unconditional */
  classId?: number;
  classes?: Uint32Array;
  /**
   * Classifier-free guidance scale s ≥ 0 (finite), as for text: ε_u + s(ε_c − ε_u); 1 = the conditional
   * model (one pass), 0 = the unconditional model (one pass), > 1 sharper. Default 1. Needs a class.
   */
  guidance?: number;
  /** [lo, hi] timesteps (integers, 0 ≤ lo ≤ hi < T) where guidance applies. Default: all. */
  guidanceInterval?: [number, number];
  /** τ > 0: x_T = τ·z. Default 1. */
  noiseTemperature?: number;
  /** clamp x̂0 to the data range [−1, 1] at every step. Default true. */
  clip?: boolean;
  /** progress after every step; x̂0 (batch, H, W, C) in [0, 1] is read back every `previewEvery` steps */
  onStep?: (p: DiffusionProgress) => void | Promise<void>;
  /** read x̂0 back for onStep every k steps (and always at the last). Default 1. 0 = never. */
  previewEvery?: number;
  /** also read the current x back and hand it to onStep as a checkpoint (for resume), every `checkpointEvery` steps */
  checkpoint?: boolean;
  /**
   * with `checkpoint`: read x back after every k-th step instead of every step — k − 1 fewer
   * readbacks per k steps, and a resume replays at most k − 1 steps (the same images: randomness is by step).
   * Default 1.
   */
  checkpointEvery?: number;
  /** continue from a checkpoint taken by a run with the same options (e.g. after device loss) */
  resume?: SamplerCheckpoint;
}

export interface DiffusionProgress {
  step: number;
  steps: number;
  t: number;
  nfe: number;
  /** x̂0 mapped to [0, 1], when this step was a preview step */
  x0?: Float32Array;
  /** with `checkpoint: true`: the state after this step */
  checkpoint?: SamplerCheckpoint;
}

export interface DiffusionResult {
  /** (batch, H, W, C) images in [0, 1] (the model's [−1, 1] range mapped linearly, clamped) */
  images: Float32Array;
  batch: number;
  shape: [number, number, number];
  /** denoiser evaluations per image: 1 per step, 2 on guided steps (guidance s ∉ {0, 1}) */
  nfe: number;
  /** model calls (a guided step is one call over 2·batch) */
  calls: number;
  stepTimesMs: number[];
  backend: BackendName;
  /** the timesteps visited, from T − 1 down */
  timesteps: Uint32Array;
  /** which model took each step ('base' or 'student'; all 'base' without hybrid) */
  stepModels: ('base' | 'student')[];
  knobs: Record<string, unknown>;
}

/** Per-step update coefficients of the fused kernel (declared by its op contract). */
export type { StepCoefficients };

/** The evenly spaced timesteps T−1 … 0 (S of them, distinct, rounded). */
export function timestepGrid(T: number, S: number): Uint32Array {
  const ts = new Uint32Array(S);
  for (let i = 0; i < S; i++) ts[i] = S === 1 ? T - 1 : Math.round((T - 1) * (1 - i / (S - 1)));
  return ts;
}

/** The k timesteps of a consistency sampler started at t0: round(t0 (1 − j/k)). */
export function consistencyGrid(t0: number, k: number): Uint32Array {
  return Uint32Array.from({ length: k }, (_, j) => Math.round(t0 * (1 - j / k)));
}

export function stepCoefficients(
  sampler: 'ddpm' | 'ddim' | 'consistency',
  ab: number,
  abPrev: number,
  eta: number,
): StepCoefficients {
  const s0 = Math.sqrt(ab),
    s1 = Math.sqrt(1 - ab);
  if (sampler === 'consistency') return { s0, s1, cX0: Math.sqrt(abPrev), cX: 0, cE: 0, sigma: Math.sqrt(1 - abPrev) };
  if (sampler === 'ddpm') {
    const beta = 1 - ab / abPrev;
    return {
      s0,
      s1,
      cX0: (Math.sqrt(abPrev) * beta) / (1 - ab),
      cX: (Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab),
      cE: 0,
      sigma: Math.sqrt(Math.max(0, (beta * (1 - abPrev)) / (1 - ab))),
    };
  }
  const sigma = eta * Math.sqrt(Math.max(0, ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev)));
  return { s0, s1, cX0: Math.sqrt(abPrev), cX: 0, cE: Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma)), sigma };
}

export async function sampleDiffusion(model: DenoiserModel, o: DiffusionOptions): Promise<DiffusionResult> {
  const T = model.timesteps;
  if (o.sampler !== 'ddpm' && o.sampler !== 'ddim' && o.sampler !== 'consistency')
    throw new SamplerConfigError('sampler', "'ddpm', 'ddim' or 'consistency'", o.sampler);
  const B = checkInt('batch', o.batch, 1, 1 << 20);
  checkSeed(o.seed);
  // ranges and defaults from the knob registry (src/knobs/registry.ts), except the library's steps
  // default: all T steps for DDPM, 50 for DDIM (the UI and CLI default to fewer: the registry's)
  const S = knobOption(
    'steps',
    o.steps ?? (o.sampler === 'ddpm' ? T : o.sampler === 'ddim' ? 50 : 1),
    'image',
    o.sampler,
    { timesteps: T },
  );
  if (o.sampler !== 'ddim' && o.eta !== undefined)
    throw new SamplerConfigError('eta', "absent except for 'ddim'", o.eta);
  const eta = knobOption('eta', o.eta, 'image', 'ddim');
  const scale = o.guidance ?? (knobDefault('guidance', 'image', o.sampler) as number);
  if (!Number.isFinite(scale) || scale < 0)
    throw new SamplerConfigError('guidance', 'a finite number ≥ 0 (1 = plain conditional model)', o.guidance);
  // the fused update's weight: ε_c + w(ε_c − ε_u) = ε_u + s(ε_c − ε_u)
  const w = scale - 1;
  const tau = knobOption('noiseTemperature', o.noiseTemperature, 'image', o.sampler);
  const clip = knobOption('clip', o.clip, 'image', o.sampler);
  const previewEvery = checkInt('previewEvery', o.previewEvery ?? 1, 0, 1 << 20);
  const checkpointEvery = checkInt('checkpointEvery', o.checkpointEvery ?? 1, 1, 1 << 20);
  let lo = 0,
    hi = T - 1;
  if (o.guidanceInterval !== undefined) {
    const g = o.guidanceInterval;
    if (
      !Array.isArray(g) ||
      g.length !== 2 ||
      !Number.isInteger(g[0]) ||
      !Number.isInteger(g[1]) ||
      g[0] < 0 ||
      g[0] > g[1] ||
      g[1] >= T
    ) {
      throw new SamplerConfigError('guidanceInterval', `[lo, hi] integers with 0 ≤ lo ≤ hi < ${T}`, g);
    }
    [lo, hi] = g;
  }
  let classes: Uint32Array;
  if (o.classes !== undefined) {
    if (o.classId !== undefined)
      throw new SamplerConfigError('classes', 'absent when classId is given (one or the other)', 'both');
    if (!(o.classes instanceof Uint32Array) || o.classes.length !== B)
      throw new SamplerConfigError('classes', `a Uint32Array of length ${B}`, o.classes?.length);
    classes = o.classes;
  } else {
    classes = new Uint32Array(B).fill(o.classId ?? model.nullClass);
  }
  for (const c of classes) {
    if (!Number.isInteger(c) || c > model.nullClass)
      throw new SamplerConfigError(
        'classId',
        `an integer in [0, ${model.numClasses - 1}] (or ${model.nullClass} = none)`,
        c,
      );
  }
  if (scale !== 1 && classes.some((c) => c === model.nullClass))
    throw new SamplerConfigError('guidance', '1 for unconditional images (guidance needs a class)', scale);

  const be = model.backend;
  const Sz = model.imageSize,
    C = model.channels,
    n = B * Sz * Sz * C;
  const shape = [B, Sz, Sz, C] as const;
  const ab = model.alphasCumprod;
  // the plan: which model and timestep each step uses, and its update coefficients
  const plan: { m: DenoiserModel; who: 'base' | 'student'; t: number; k: StepCoefficients }[] = [];
  if (o.hybrid !== undefined) {
    const h = o.hybrid;
    if (o.sampler === 'consistency')
      throw new SamplerConfigError('hybrid', "used with 'ddpm' or 'ddim' as the base sampler", o.sampler);
    const st = h?.student;
    if (
      !st ||
      st.kind !== 'denoiser' ||
      st.timesteps !== T ||
      st.imageSize !== Sz ||
      st.channels !== C ||
      st.nullClass !== model.nullClass ||
      st.backend !== be ||
      st.alphasCumprod.some((a, i) => a !== ab[i])
    ) {
      throw new SamplerConfigError(
        'hybrid',
        'a student denoiser with the same schedule, image shape, classes and backend as the base',
        st?.name,
      );
    }
    const m = checkInt('hybrid.baseSteps', h.baseSteps, 0, S - 1);
    const k = checkInt('hybrid.studentSteps', h.studentSteps, 1, 64);
    const grid = timestepGrid(T, S);
    for (let i = 0; i < m; i++)
      plan.push({
        m: model,
        who: 'base',
        t: grid[i],
        k: stepCoefficients(o.sampler, ab[grid[i]], ab[grid[i + 1]], eta),
      });
    const cg = consistencyGrid(grid[m], k);
    for (let j = 0; j < k; j++)
      plan.push({
        m: st,
        who: 'student',
        t: cg[j],
        k: stepCoefficients('consistency', ab[cg[j]], j + 1 < k ? ab[cg[j + 1]] : 1, 0),
      });
  } else {
    const grid = o.sampler === 'consistency' ? consistencyGrid(T - 1, S) : timestepGrid(T, S);
    for (let i = 0; i < S; i++)
      plan.push({
        m: model,
        who: 'base',
        t: grid[i],
        k: stepCoefficients(o.sampler, ab[grid[i]], i + 1 < S ? ab[grid[i + 1]] : 1, eta),
      });
  }
  const ts = Uint32Array.from(plan, (p) => p.t);
  const steps = plan.length;
  const rs = o.resume;
  if (
    rs !== undefined &&
    (rs.sampler !== `diffusion:${o.sampler}` ||
      !(rs.x instanceof Float32Array) ||
      rs.x.length !== n ||
      !Number.isInteger(rs.next) ||
      rs.next < 1 ||
      rs.next > steps ||
      rs.extra?.steps !== steps)
  ) {
    throw new SamplerConfigError(
      'resume',
      `a checkpoint of this sampler ('diffusion:${o.sampler}', ${n} values, ${steps} steps)`,
      rs.sampler,
    );
  }
  // guided steps run the conditional and unconditional passes together (2B); s = 0 is one pass on the null class
  const guidedAt = (t: number) => scale !== 1 && t >= lo && t <= hi;
  const pairedAt = (t: number) => scale !== 0 && guidedAt(t);
  const anyGuided = Array.from(ts).some(pairedAt);
  model.checkFits(anyGuided ? 2 * B : B); // before the device memory below (and the student's too)
  o.hybrid?.student.checkFits(anyGuided ? 2 * B : B);
  const nulls = new Uint32Array(B).fill(model.nullClass);
  const both = new Uint32Array(2 * B);
  both.set(classes);
  both.fill(model.nullClass, B);
  const sampleT = new Uint32Array(B),
    pairT = new Uint32Array(2 * B);

  // all device memory up front: x ping-pong (B), its duplicate for guided passes (2B), x̂0
  const xa = be.tensor(new Float32Array(n), [...shape]);
  const xb = be.empty([...shape]);
  const x2 = anyGuided ? be.empty([2 * B, Sz, Sz, C]) : null;
  const x0 = be.empty([...shape]);
  const stepTimesMs: number[] = [];
  let nfe = rs ? rs.nfe : 0,
    calls = 0;
  let cur = xb,
    other = xa;
  const start = rs ? rs.next : 0;
  try {
    if (rs) {
      be.write(xb, rs.x!);
      if (pairedAt(ts[start]) && x2) {
        const d = new Float32Array(2 * n);
        d.set(rs.x!);
        d.set(rs.x!, n);
        be.write(x2, d);
      }
    } else {
      // x_T = τ z: the update kernel with x = ε = 0, s0 = s1 = 1, no clipping and σ = τ
      const dupFirst = pairedAt(ts[0]);
      be.diffusionStep(xa, xa, {
        seed: o.seed,
        step: 0xffffffff,
        clip: false,
        s0: 1,
        s1: 1,
        cX0: 0,
        cX: 0,
        cE: 0,
        sigma: tau,
        out: xb,
        x0Out: x0,
        dupOut: dupFirst ? x2! : undefined,
      });
    }
    for (let i = start; i < steps; i++) {
      const t0 = now();
      const { m: net, t, k } = plan[i];
      const guided = pairedAt(t);
      let eps: Tensor;
      if (guided) {
        pairT.fill(t);
        eps = await net.forward({ x: x2!, t: pairT, classes: both });
        nfe += 2;
      } else {
        sampleT.fill(t);
        eps = await net.forward({ x: cur, t: sampleT, classes: guidedAt(t) ? nulls : classes });
        nfe += 1;
      }
      calls++;
      const nextGuided = i + 1 < steps && pairedAt(ts[i + 1]);
      be.diffusionStep(cur, eps, {
        seed: o.seed,
        step: i,
        guidance: guided ? w : undefined,
        clip,
        ...k,
        out: other,
        x0Out: x0,
        dupOut: nextGuided ? x2! : undefined,
      });
      be.free(eps);
      [cur, other] = [other, cur];
      let preview: Float32Array | undefined;
      if (o.onStep && previewEvery > 0 && (i % previewEvery === previewEvery - 1 || i === steps - 1)) {
        preview = toUnit((await be.read(x0)) as Float32Array);
      } else {
        await be.flush(); // one submit per step: per-step times are real, and errors surface at their step
      }
      const checkpoint: SamplerCheckpoint | undefined =
        o.checkpoint && (i + 1) % checkpointEvery === 0
          ? {
              sampler: `diffusion:${o.sampler}`,
              next: i + 1,
              nfe,
              x: (await be.read(cur)) as Float32Array,
              extra: { steps },
            }
          : undefined;
      stepTimesMs.push(now() - t0);
      await o.onStep?.({ step: i, steps, t, nfe, x0: preview, checkpoint });
    }
    const images = toUnit((await be.read(cur)) as Float32Array);
    return {
      images,
      batch: B,
      shape: [Sz, Sz, C],
      nfe,
      calls,
      stepTimesMs,
      backend: be.name,
      timesteps: ts,
      stepModels: plan.map((p) => p.who),
      knobs: {
        sampler: o.sampler,
        steps: S,
        eta: o.sampler === 'ddim' ? eta : undefined,
        hybrid: o.hybrid
          ? { student: o.hybrid.student.name, baseSteps: o.hybrid.baseSteps, studentSteps: o.hybrid.studentSteps }
          : undefined,
        batch: B,
        seed: typeof o.seed === 'bigint' ? o.seed.toString() : o.seed,
        classes: o.classes ? Array.from(classes) : undefined,
        classId: o.classes ? undefined : classes[0],
        guidance: scale,
        guidanceInterval: [lo, hi],
        noiseTemperature: tau,
        clip,
      },
    };
  } finally {
    for (const t of [xa, xb, x0]) be.free(t);
    if (x2) be.free(x2);
  }
}

/** [−1, 1] → [0, 1], clamped. */
function toUnit(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, (x[i] + 1) / 2));
  return x;
}
