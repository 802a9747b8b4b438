/**
 * What every sampler shares: knob validation (SamplerConfigError naming the knob and its range),
 * host-side counter-based randomness for position choices (Philox, so a seed fixes everything), the
 * token-draw step on the backend (guidance, [MASK] exclusion, temperature/top-k/top-p, precision), and
 * the result record (samples, NFE, per-step timings, backend, knobs).
 */
import type { Backend } from '../backend/backend.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { AbortError, SamplerConfigError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { Precision, SampleOptions } from '../ops/categorical.js';
import { philox4x32, seedToKey } from '../rng.js';
import { knobDefault, knobOption } from '../knobs/registry.js';

export interface DrawKnobs {
  /** ≥ 0; 0 = greedy. Default 1. */
  temperature?: number;
  /** integer ≥ 0; 0 = off. */
  topK?: number;
  /** (0, 1]; 1 = off. */
  topP?: number;
  /** 'precise' (default) or 'naive-f32' (reproduces the fp32 Gumbel truncation). */
  precision?: Precision;
}

export interface CommonOptions extends DrawKnobs {
  /** samples drawn in parallel (rows) */
  batch: number;
  /** sequence length, ≤ the model's max length */
  length: number;
  /** 64-bit seed: the same seed and knobs give the same samples on the same backend */
  seed: number | bigint;
  /** class id in [0, numClasses); omitted = unconditional (the model's null class) */
  classId?: number;
  /**
   * Classifier-free guidance scale s: logits = l_uncond + s·(l_cond − l_uncond). s = 1 is the plain
   * conditional model (no extra pass), s = 0 the unconditional model, s > 1 amplifies the class.
   * Needs `classId`. Default 1.
   */
  guidance?: number;
  /** (length) or (batch, length) token ids fixed in advance (prompt / infill); −1 = to be sampled */
  prompt?: Int32Array;
  /** called after every model pass */
  onStep?: (p: StepProgress) => void;
}

export interface StepProgress {
  step: number;
  nfe: number;
  /** current tokens (batch, length); [MASK] where not yet decided (a copy) */
  tokens: Uint32Array;
  /** ASSD: what the last round did at each position (batch, length), values of asarm's DRAFT_MARK */
  drafts?: Uint8Array;
  /** samplers that can resume: everything needed to continue after this step (structured-cloneable) */
  checkpoint?: SamplerCheckpoint;
}

/**
 * A sampler's state after a completed step. Randomness is counter-based (seed, step), so resuming
 * from a checkpoint with the same options gives exactly the samples of an uninterrupted run.
 */
export interface SamplerCheckpoint {
  sampler: string;
  /** the next step to run */
  next: number;
  nfe: number;
  /** text samplers: tokens (batch, length) */
  tokens?: Uint32Array;
  /** images: the current x (batch, H, W, C) */
  x?: Float32Array;
  /** sampler-specific numbers (FHS reveal times per row, total passes, …) */
  extra?: Record<string, number | number[]>;
}

export interface SampleResult {
  /** (batch, length) token ids */
  samples: Uint32Array;
  batch: number;
  length: number;
  /** network function evaluations: model passes over the batch */
  nfe: number;
  /** wall time of each step (model pass(es) + draw + readback), ms */
  stepTimesMs: number[];
  backend: BackendName;
  /** the knob values used, defaults filled in */
  knobs: Record<string, unknown>;
}

export function checkInt(knob: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw new SamplerConfigError(
      knob,
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`,
      v,
    );
  }
  return v as number;
}

/**
 * Throughput work for the AS-ARM and speculative samplers: `samples` > `batch` runs continuous batching —
 * `batch` slots, and when a slot's sample is complete the next pending sample takes it at once (its cache
 * rows rolled back, its order, prompt and class loaded), so the batch never waits for its slowest row.
 * Sample i draws from its own random streams (seed, firstSample + i, its own rounds), never the slot's or
 * the batch's step: a run gives sample i exactly as the run `{ batch: 1, firstSample: i }` with the same seed
 * does, and a plain run of batch B is samples 0 … B − 1.
 */
export interface BatchingOptions {
  /** samples drawn in all, on `batch` slots (default `batch`; results are (samples, length)) */
  samples?: number;
  /** the index of the first sample (default 0): its random streams are those of sample firstSample + i */
  firstSample?: number;
  /** cancels the request: the run stops after the pass in flight, frees its slots and throws AbortError */
  signal?: AbortSignal;
}

export interface ResolvedCommon {
  /** rows run at once (slots) */
  batch: number;
  /** rows of `fixed` and of the result: `samples`, else `batch` */
  samples: number;
  /** the random stream index of sample 0 (`firstSample`) */
  firstSample: number;
  length: number;
  seed: number | bigint;
  key: [number, number];
  temperature: number;
  topK: number;
  topP: number;
  precision: Precision;
  classes: Uint32Array;
  uncond: Uint32Array;
  guidance: number;
  /** (samples, length): −1 free, else the fixed token */
  fixed: Int32Array;
}

/** A seed: a safe integer ≥ 0 or a bigint in [0, 2^64). */
export function checkSeed(seed: unknown): number | bigint {
  if (
    typeof seed === 'number'
      ? !Number.isSafeInteger(seed) || seed < 0
      : typeof seed !== 'bigint' || seed < 0n || seed >= 1n << 64n
  ) {
    throw new SamplerConfigError('seed', 'an integer in [0, 2^64)', seed);
  }
  return seed as number | bigint;
}

/** Validate the shared knobs against the model. */
export function resolveCommon(
  model: Model,
  o: CommonOptions & BatchingOptions,
  { batching = false }: { batching?: boolean } = {},
): ResolvedCommon {
  const batch = checkInt('batch', o.batch, 1, 1 << 20);
  // continuous batching: the AS-ARM and speculative samplers (`batching`); the others take samples = batch only
  if (!batching && o.samples !== undefined && o.samples !== batch)
    throw new SamplerConfigError(
      'samples',
      `unset or ${batch} (continuous batching: AS-ARM and speculative)`,
      o.samples,
    );
  const samples = o.samples === undefined ? batch : checkInt('samples', o.samples, batch, 2 ** 31);
  if (!batching && o.firstSample)
    throw new SamplerConfigError('firstSample', 'unset or 0 (sample streams: AS-ARM and speculative)', o.firstSample);
  const firstSample = checkInt('firstSample', o.firstSample ?? 0, 0, 2 ** 31);
  const length = checkInt('length', o.length, 1, model.maxLength);
  model.checkFits(batch, length); // before any allocation sized by the request
  checkSeed(o.seed);
  // defaults and accepted ranges: the knob registry (src/knobs/registry.ts); the kind only picks a knob's face
  const temperature = knobOption('temperature', o.temperature, 'mdm', '');
  const topK = knobOption('topK', o.topK, 'mdm', '');
  const topP = knobOption('topP', o.topP, 'mdm', '');
  const precision = knobOption('precision', o.precision, 'mdm', '') as Precision;
  const guidance = o.guidance ?? (knobDefault('guidance', 'mdm', '') as number);
  if (!Number.isFinite(guidance))
    throw new SamplerConfigError('guidance', 'a finite number (1 = plain conditional)', o.guidance);
  let cls = model.nullClass;
  if (o.classId !== undefined) {
    if (!Number.isInteger(o.classId) || o.classId < 0 || o.classId >= model.numClasses) {
      throw new SamplerConfigError(
        'classId',
        model.numClasses
          ? `an integer in [0, ${model.numClasses - 1}] (${model.manifest.classes.slice(0, -1).join(', ')})`
          : 'absent (the model has no classes)',
        o.classId,
      );
    }
    cls = o.classId;
  } else if (guidance !== 1) {
    throw new SamplerConfigError('guidance', '1 when no classId is given (guidance needs a class)', guidance);
  }
  const fixed = new Int32Array(samples * length).fill(-1);
  if (o.prompt !== undefined) {
    const p = o.prompt;
    if (!(p instanceof Int32Array) || (p.length !== length && p.length !== samples * length)) {
      throw new SamplerConfigError(
        'prompt',
        `an Int32Array of length ${length} or ${samples * length} (−1 = free)`,
        p?.length,
      );
    }
    const realVocab = model.maskId !== undefined ? model.vocabSize - 1 : model.vocabSize;
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== -1 && !(p[i] >= 0 && p[i] < realVocab && p[i] !== model.maskId)) {
        throw new SamplerConfigError('prompt', `token ids in [0, ${realVocab}) or −1`, p[i]);
      }
    }
    for (let b = 0; b < samples; b++)
      fixed.set(p.length === length ? p : p.subarray(b * length, (b + 1) * length), b * length);
  }
  return {
    batch,
    samples,
    firstSample,
    length,
    seed: o.seed,
    key: seedToKey(o.seed),
    temperature,
    topK,
    topP,
    precision,
    guidance,
    classes: new Uint32Array(batch).fill(cls),
    uncond: new Uint32Array(batch).fill(model.nullClass),
    fixed,
  };
}

/**
 * Host-side uniform in [0, 1) for position choices: Philox counter (a, b, 0x5eed, purpose) under the
 * seed's key — a different counter space from the token draws (which use the categorical kernel's
 * (i/2, row, step) counters), so choices and draws never share random bits.
 */
export class PositionRng {
  private readonly w = new Uint32Array(4);
  constructor(
    private readonly key: [number, number],
    private readonly purpose: number,
  ) {}
  uniform(a: number, b: number): number {
    philox4x32(a >>> 0, b >>> 0, 0x5eed, this.purpose, this.key[0], this.key[1], this.w);
    return (this.w[0] * 2 ** 21 + (this.w[1] >>> 11)) / 2 ** 53;
  }
}

/**
 * Logits for one step: the model's pass (two with guidance s ∉ {0, 1}: conditional and unconditional,
 * combined as l_u + s·(l_c − l_u); s = 0 is one unconditional pass), plus a bias that excludes [MASK] from being drawn.
 * Returns the tensor (caller frees) and the number of passes made.
 */
export async function stepLogits(
  model: Model,
  tokens: Uint32Array,
  r: ResolvedCommon,
  maskBias: Tensor | null,
  extra: { order?: Uint32Array; queryPrefix?: Uint32Array } = {},
): Promise<{ logits: Tensor; passes: number }> {
  const be: Backend = model.backend;
  const input = {
    tokens,
    batch: r.batch,
    length: r.length,
    classes: r.classes,
    order: extra.order,
    queryPrefix: extra.queryPrefix,
  };
  // s = 0 is the unconditional model alone: one pass (l_u + 0·(l_c − l_u) = l_u exactly)
  const lc = await model.forward(r.guidance === 0 ? { ...input, classes: r.uncond } : input);
  let logits = lc;
  let passes = 1;
  if (r.guidance !== 1 && r.guidance !== 0) {
    const lu = await model.forward({ ...input, classes: r.uncond });
    passes = 2;
    logits = combineGuidance(be, lc, lu, r.guidance);
  }
  if (maskBias) {
    const biased = be.add(logits, maskBias);
    be.free(logits);
    logits = biased;
  }
  return { logits, passes };
}

/** Classifier-free guidance l_u + s·(l_c − l_u) as (1 − s)·l_u + s·l_c; frees both inputs. */
export function combineGuidance(be: Backend, lc: Tensor, lu: Tensor, s: number): Tensor {
  const a = be.scale(lu, 1 - s);
  const b = be.scale(lc, s);
  const out = be.add(a, b);
  for (const t of [lu, lc, a, b]) be.free(t);
  return out;
}

/** (V) bias with −inf at [MASK], so it is never drawn; null when the model has no [MASK]. */
export function makeMaskBias(model: Model): Tensor | null {
  if (model.maskId === undefined) return null;
  const b = new Float32Array(model.vocabSize);
  b[model.maskId] = -Infinity;
  return model.backend.tensor(b, [model.vocabSize]);
}

/** The categorical op's options for one step's draw: the run's seed and draw knobs, the step as counter. */
export function drawOptions(r: ResolvedCommon, step: number, out?: Tensor): SampleOptions {
  return {
    seed: r.seed,
    counter: step,
    temperature: r.temperature,
    topK: r.topK,
    topP: r.topP,
    precision: r.precision,
    out,
  };
}

/** What every text sampler returns: its samples, counts and step times, and the knobs used (`knobsOf`). */
export function sampleResult(
  r: ResolvedCommon,
  run: Pick<SampleResult, 'samples' | 'nfe' | 'stepTimesMs' | 'backend'>,
  knobs: Record<string, unknown>,
): SampleResult {
  return { ...run, batch: r.samples, length: r.length, knobs: knobsOf(r, knobs) };
}

export function knobsOf(r: ResolvedCommon, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    batch: r.batch,
    ...(r.samples !== r.batch || r.firstSample ? { samples: r.samples, firstSample: r.firstSample } : {}),
    length: r.length,
    seed: typeof r.seed === 'bigint' ? r.seed.toString() : r.seed,
    temperature: r.temperature,
    topK: r.topK,
    topP: r.topP,
    precision: r.precision,
    guidance: r.guidance,
    classId: r.classes[0],
    ...extra,
  };
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Starting tokens (prompt where fixed, `filler` elsewhere) and each row's free positions. */
export function initialTokens(r: ResolvedCommon, filler: number): { tokens: Uint32Array; free: number[][] } {
  const { samples: B, length: L } = r;
  const tokens = new Uint32Array(B * L);
  const free: number[][] = [];
  for (let b = 0; b < B; b++) {
    const f: number[] = [];
    for (let i = 0; i < L; i++) {
      const v = r.fixed[b * L + i];
      tokens[b * L + i] = v >= 0 ? v : filler;
      if (v < 0) f.push(i);
    }
    free.push(f);
  }
  return { tokens, free };
}

/**
 * The slots of a continuous-batching run (`BatchingOptions`): which sample each slot holds and that
 * sample's own round, the per-row random streams the draw ops take, and cancellation. Plain runs are the
 * case samples = batch: slot b holds sample b from round 0, and the streams equal the ops' default words.
 */
export class SampleSlots {
  /** the sample (0 … samples − 1) in each slot, −1 = empty */
  readonly sid: Int32Array;
  /** each slot's sample's own round: 0 on its first pass */
  readonly round: Uint32Array;
  private pending = 0;

  constructor(
    private readonly r: ResolvedCommon,
    private readonly signal?: AbortSignal,
  ) {
    this.sid = new Int32Array(r.batch).fill(-1);
    this.round = new Uint32Array(r.batch);
  }

  /** a slot holds a sample */
  busy(b: number): boolean {
    return this.sid[b] >= 0;
  }

  /** any slot holds a sample, or samples are pending */
  get running(): boolean {
    return this.pending < this.r.samples || this.sid.some((i) => i >= 0);
  }

  /**
   * Empty slots take the next pending samples: `load(b, i)` puts sample i into slot b and says whether it
   * still has work (false: it is already complete — e.g. a prompt that fixes every position — and the slot
   * takes the next). Throws AbortError once the signal fired: the caller's `finally` frees the slots.
   */
  refill(load: (b: number, i: number) => boolean): void {
    if (this.signal?.aborted) throw new AbortError('continuous batch', Math.max(0, ...this.round));
    for (let b = 0; b < this.r.batch; b++) {
      while (this.sid[b] < 0 && this.pending < this.r.samples) {
        const i = this.pending++;
        this.round[b] = 0;
        if (load(b, i)) this.sid[b] = i;
      }
    }
  }

  /** the slot's sample is complete: the slot is free for the next one */
  release(b: number): void {
    this.sid[b] = -1;
  }

  /** after a pass: every busy slot's sample is one round further */
  advance(): void {
    for (let b = 0; b < this.r.batch; b++) if (this.sid[b] >= 0) this.round[b]++;
  }

  /**
   * The draw ops' per-row streams (rows = batch · per, row b·per + j): Philox words ((firstSample + i)·per + j,
   * round) — what sample i's row j would use at row index i·per + j of a plain run — written into `host` and
   * uploaded into `t` (both made once per run).
   */
  writeStreams(
    be: Backend,
    t: Tensor,
    host: Uint32Array,
    per: number,
    counter?: (b: number, j: number) => number,
  ): void {
    for (let b = 0; b < this.r.batch; b++) {
      const i = this.sid[b] < 0 ? 0 : this.r.firstSample + this.sid[b];
      for (let j = 0; j < per; j++) {
        host[2 * (b * per + j)] = (i * per + j) >>> 0;
        host[2 * (b * per + j) + 1] = counter ? counter(b, j) : this.round[b];
      }
    }
    be.write(t, host);
  }

  /** What `onStep` shows: every sample's tokens (samples, length), those in slots as they stand now (a copy). */
  view(samples: Uint32Array, tokens: Uint32Array, L: number): Uint32Array {
    const v = samples.slice();
    for (let b = 0; b < this.r.batch; b++)
      if (this.sid[b] >= 0) v.set(tokens.subarray(b * L, (b + 1) * L), this.sid[b] * L);
    return v;
  }

  /** the random-stream index of the sample in slot b (for host-side uniforms) */
  stream(b: number): number {
    return this.r.firstSample + Math.max(this.sid[b], 0);
  }
}
