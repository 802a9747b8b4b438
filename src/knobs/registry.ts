/**
 * The knob registry: every sampling knob declared once — its name (the sampler option and sweep key),
 * the `<sample-scope>` attribute, the CLI flag, type, range, default, help, which model kinds and
 * samplers use it, and whether a sweep may vary it. The element's inputs and range checks
 * (src/ui/knobs.ts), the Pareto explorer's grid fields, the sweep knob sets (src/sweep/run.ts), the
 * CLI's flags, parsing and `--help` (src/cli/commands.ts), the demo pages' URL knobs and the README's knob
 * table (scripts/knob-table.ts) are derived from it. Adding a knob: one entry here, plus the sampler
 * option that reads it.
 *
 * Ranges are the ones a person can set (the UI, the CLI and the explorer enforce them before a
 * request); the samplers check what is valid (e.g. any temperature ≥ 0) and combinations (guidance
 * needs a class) and answer with typed errors.
 */
import { SamplerConfigError } from '../errors.js';

/** What a knob applies to: masked diffusion text models, AS-ARM text models, image denoisers. */
export type ModelKind = 'mdm' | 'asarm' | 'image';
export const MODEL_KINDS: readonly ModelKind[] = ['mdm', 'asarm', 'image'];

/** The samplers of each kind; the first is the default. */
export const SAMPLERS: Record<ModelKind, [string, string][]> = {
  mdm: [
    ['fhs', 'first-hitting (FHS)'],
    ['ancestral', 'ancestral'],
  ],
  asarm: [
    ['assd', 'speculative (ASSD)'],
    ['sequential', 'sequential'],
    ['speculative', 'speculative (draft model)'],
  ],
  image: [
    ['ddim', 'DDIM'],
    ['ddpm', 'DDPM'],
  ],
};

/** A bound fixed by the model (its maximum length, vocabulary size or diffusion timesteps), `otherwise` without one. */
export type Bound = number | { model: 'maxLength' | 'vocab' | 'timesteps'; otherwise: number };

/** What a model tells the knobs: the bounds that depend on it. */
export interface KnobContext {
  /** the sampler, where a knob's range depends on it (`minBySampler`) */
  sampler?: string;
  maxLength?: number;
  vocab?: number;
  timesteps?: number;
}

export type KnobName =
  | 'sampler'
  | 'n'
  | 'length'
  | 'seed'
  | 'classLabel'
  | 'guidance'
  | 'temperature'
  | 'topP'
  | 'topK'
  | 'steps'
  | 'tokensPerStep'
  | 'draft'
  | 'precision'
  | 'eta'
  | 'order'
  | 'reuseLogits'
  | 'kvCache'
  | 'draftModel'
  | 'adaptiveDraft'
  | 'lambda'
  | 'lambdaModel'
  | 'noiseTemperature'
  | 'clip'
  | 'guidanceLo'
  | 'guidanceHi'
  | 'baseSteps'
  | 'studentSteps';

/** The parts of a knob that may differ by model kind (text guidance s vs image guidance w, steps). */
export interface KnobFace {
  label: string;
  help: string;
  min?: Bound;
  max?: Bound;
  step?: number;
  /**
   * the default; a per-sampler table where samplers differ; undefined = none (the knob is off or required elsewhere)
   */
  default?: number | string | boolean | Readonly<Record<string, number>>;
}

export interface KnobDef extends KnobFace {
  name: KnobName;
  /** `<sample-scope>` attribute; absent = the element does not take it */
  attribute?: string;
  /** CLI flag (without "--"); absent = not on the command line */
  flag?: string;
  type: 'int' | 'number' | 'select' | 'boolean' | 'text';
  /** a sampler whose minimum differs from `min` (ASSD's draft k ≥ 2, speculative's ≥ 1) */
  minBySampler?: Readonly<Record<string, number>>;
  /** min is excluded (top-p > 0) */
  minOpen?: boolean;
  /** select: [value, label] (the sampler and class selects take theirs from the model) */
  options?: [string, string][];
  /** empty = the default (numeric knobs the element leaves unset) */
  optional?: boolean;
  /** model kind → the samplers that use it ('*' = every sampler of that kind) */
  uses: Partial<Record<ModelKind, '*' | readonly string[]>>;
  /** offered only when the model has classes (class, guidance) */
  needsClass?: boolean;
  /** `<sample-scope>` shows an input for it */
  input?: boolean;
  /** a sweep may set it (spec `base` or `grid`) */
  sweep?: boolean;
  /** the explorer's grid editor offers it (numeric sweep knobs with an input, unless false) */
  grid?: false;
  /** per-kind faces; the entry's own fields are the rest */
  byKind?: Partial<Record<ModelKind, Partial<KnobFace>>>;
  /** its value names another model (a loaded handle or a model folder): sweeps and the CLI load it */
  modelRef?: boolean;
  /** older spellings still read (persisted sweep specs and records) */
  aliases?: string[];
  /** what the samplers accept where it is wider than the range a person sets (temperature ≥ 0, not ≤ 5) */
  valid?: { min?: Bound; max?: Bound };
}

const TEXT = { mdm: '*', asarm: '*' } as const;
const ALL = { mdm: '*', asarm: '*', image: '*' } as const;

/** Every knob, in display order. */
export const KNOBS: readonly KnobDef[] = [
  {
    name: 'sampler',
    attribute: 'sampler',
    flag: 'sampler',
    label: 'sampler',
    type: 'select',
    uses: ALL,
    input: true,
    help: "how samples are drawn (default: the model's first)",
  },
  {
    name: 'n',
    attribute: 'n',
    flag: 'n',
    label: 'samples',
    type: 'int',
    min: 1,
    max: 64,
    default: 2,
    uses: ALL,
    input: true,
    help: 'samples drawn in parallel',
  },
  {
    name: 'length',
    attribute: 'length',
    flag: 'length',
    label: 'length',
    type: 'int',
    min: 1,
    max: { model: 'maxLength', otherwise: 128 },
    uses: TEXT,
    input: true,
    sweep: true,
    grid: false,
    help: "characters per sample (default: the model's maximum)",
  },
  {
    name: 'seed',
    attribute: 'seed',
    flag: 'seed',
    label: 'seed',
    type: 'int',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    default: 1,
    uses: ALL,
    input: true,
    help: 'same seed and knobs, same samples',
  },
  {
    name: 'classLabel',
    attribute: 'class-label',
    flag: 'class',
    label: 'class',
    type: 'select',
    uses: ALL,
    needsClass: true,
    input: true,
    help: 'condition on a class (default: none, unconditional)',
  },
  {
    name: 'guidance',
    attribute: 'guidance',
    flag: 'guidance',
    label: 'guidance s',
    type: 'number',
    min: 0,
    max: 20,
    step: 0.5,
    default: 1,
    optional: true,
    uses: ALL,
    needsClass: true,
    input: true,
    sweep: true,
    help: "classifier-free guidance scale (diffusers' guidance_scale): 1 = the conditional model, 0 = unconditional, > 1 sharper; text l_u + s(l_c − l_u), images ε_u + s(ε_c − ε_u) (needs a class)",
  },
  {
    name: 'temperature',
    attribute: 'temperature',
    flag: 'temperature',
    label: 'temperature',
    type: 'number',
    min: 0,
    max: 5,
    step: 0.05,
    default: 1,
    uses: TEXT,
    input: true,
    sweep: true,
    valid: { max: Infinity },
    help: '0 = greedy',
  },
  {
    name: 'topP',
    attribute: 'top-p',
    flag: 'top-p',
    label: 'top-p',
    type: 'number',
    min: 0,
    minOpen: true,
    max: 1,
    step: 0.05,
    default: 1,
    uses: TEXT,
    input: true,
    sweep: true,
    help: 'nucleus mass in (0, 1]; 1 = off',
  },
  {
    name: 'topK',
    attribute: 'top-k',
    flag: 'top-k',
    label: 'top-k',
    type: 'int',
    min: 0,
    max: { model: 'vocab', otherwise: 1000 },
    default: 0,
    uses: TEXT,
    input: true,
    sweep: true,
    valid: { max: Infinity },
    help: '0 = off',
  },
  {
    name: 'steps',
    attribute: 'steps',
    flag: 'steps',
    label: 'steps',
    type: 'int',
    min: 1,
    optional: true,
    uses: { mdm: ['ancestral'], image: '*' },
    input: true,
    sweep: true,
    help: 'steps',
    byKind: {
      mdm: { max: 100000, default: { ancestral: 32 }, help: 'time-grid steps (used unless tokens/step is set)' },
      image: {
        max: { model: 'timesteps', otherwise: 1000 },
        default: { ddim: 20, ddpm: 100, consistency: 1 },
        help: 'denoising steps',
      },
    },
  },
  {
    name: 'tokensPerStep',
    attribute: 'tokens-per-step',
    flag: 'tokens-per-step',
    label: 'tokens/step',
    type: 'int',
    min: 1,
    max: { model: 'maxLength', otherwise: 128 },
    optional: true,
    uses: { mdm: ['ancestral'] },
    input: true,
    sweep: true,
    help: 'reveal exactly k tokens per pass instead of a time grid',
  },
  {
    name: 'draft',
    attribute: 'draft-k',
    flag: 'draft',
    label: 'draft k',
    type: 'int',
    min: 1,
    minBySampler: { assd: 2 },
    max: { model: 'maxLength', otherwise: 128 },
    default: 4,
    uses: { asarm: ['assd', 'speculative'] },
    input: true,
    sweep: true,
    help: 'tokens drafted per round (ASSD keeps its first draft exact, so k ≥ 2 there)',
  },
  {
    name: 'adaptiveDraft',
    attribute: 'adaptive-draft',
    flag: 'adaptive-draft',
    label: 'adaptive k',
    type: 'boolean',
    default: false,
    uses: { asarm: ['speculative'] },
    sweep: true,
    help: 'adapt the draft length to acceptance: +2 after a round with every draft kept, −1 otherwise (≤ k)',
  },
  {
    name: 'draftModel',
    attribute: 'draft-model',
    flag: 'draft-model',
    label: 'draft model',
    type: 'text',
    optional: true,
    uses: { asarm: ['speculative'] },
    sweep: true,
    modelRef: true,
    help: 'the draft: a model (same vocabulary) or self:N, the first N blocks (default: its draft, else self)',
  },
  {
    name: 'precision',
    attribute: 'precision',
    flag: 'precision',
    label: 'precision',
    type: 'select',
    options: [
      ['precise', 'precise'],
      ['naive-f32', 'naive fp32 Gumbel'],
    ],
    default: 'precise',
    uses: TEXT,
    input: true,
    sweep: true,
    help: 'categorical draw precision',
  },
  {
    name: 'eta',
    attribute: 'eta',
    flag: 'eta',
    label: 'η',
    type: 'number',
    min: 0,
    max: 1,
    step: 0.1,
    default: 0,
    uses: { image: ['ddim'] },
    input: true,
    sweep: true,
    help: 'DDIM stochasticity: 0 deterministic, 1 = DDPM variance',
  },
  {
    name: 'order',
    label: 'order',
    type: 'select',
    options: [
      ['random', 'random'],
      ['confidence', 'confidence'],
    ],
    default: 'random',
    uses: { mdm: ['ancestral'] },
    sweep: true,
    help: 'with tokens/step: which positions to reveal',
  },
  {
    name: 'reuseLogits',
    label: 'reuse logits',
    type: 'boolean',
    default: true,
    uses: { mdm: ['ancestral'] },
    sweep: true,
    help: 'skip the network when no token changed since the last pass (exact)',
  },
  {
    name: 'kvCache',
    attribute: 'kv-cache',
    flag: 'kv-cache',
    label: 'KV cache',
    type: 'boolean',
    default: true,
    uses: { asarm: ['sequential', 'assd'] },
    sweep: true,
    help: 'keep the decided tokens on a KV cache: passes compute only the new tokens, not the whole sequence',
  },
  {
    name: 'noiseTemperature',
    flag: 'noise-temperature',
    label: 'noise temperature',
    type: 'number',
    min: 0,
    minOpen: true,
    default: 1,
    uses: { image: '*' },
    sweep: true,
    help: 'τ: the initial noise is τ·z',
  },
  {
    name: 'clip',
    label: 'clip',
    type: 'boolean',
    default: true,
    uses: { image: '*' },
    sweep: true,
    help: 'clamp x̂0 to the data range at every step',
  },
  {
    name: 'guidanceLo',
    flag: 'guidance-lo',
    label: 'guidance from t',
    type: 'int',
    min: 0,
    max: { model: 'timesteps', otherwise: 1000 },
    default: 0,
    uses: { image: '*' },
    sweep: true,
    help: 'guidance applies at timesteps lo ≤ t ≤ hi only',
  },
  {
    name: 'guidanceHi',
    flag: 'guidance-hi',
    label: 'guidance to t',
    type: 'int',
    min: 0,
    max: { model: 'timesteps', otherwise: 1000 },
    uses: { image: '*' },
    sweep: true,
    help: 'upper end of the guidance interval (default: T − 1)',
  },
  {
    name: 'baseSteps',
    attribute: 'base-steps',
    label: 'base steps',
    type: 'int',
    min: 0,
    max: { model: 'timesteps', otherwise: 1000 },
    default: 10,
    uses: { image: ['ddim', 'ddpm'] },
    sweep: true,
    aliases: ['hybridBaseSteps'],
    help: 'hybrid: base-model steps before the switch to the student (needs a student)',
  },
  {
    name: 'lambda',
    attribute: 'lambda',
    flag: 'lambda',
    label: 'λ',
    type: 'number',
    min: 0,
    max: 1,
    step: 0.05,
    default: 0,
    uses: { image: ['ddim', 'ddpm'] },
    input: true,
    sweep: true,
    help: 'weights (1 − λ)·model + λ·partner (CFG distillation): 0 = this model, 1 = its guidance-distilled student',
  },
  {
    name: 'lambdaModel',
    attribute: 'lambda-model',
    flag: 'lambda-model',
    label: 'λ partner',
    type: 'text',
    optional: true,
    uses: { image: ['ddim', 'ddpm'] },
    sweep: true,
    modelRef: true,
    help: 'the model λ mixes in (same architecture); default: a loaded student distilled from this model',
  },
  {
    name: 'studentSteps',
    attribute: 'student-steps',
    label: 'student steps',
    type: 'int',
    min: 1,
    max: 64,
    default: 2,
    uses: { image: ['ddim', 'ddpm'] },
    sweep: true,
    help: 'hybrid: student consistency steps after the switch',
  },
];

const BY_NAME = new Map<string, KnobDef>();
for (const k of KNOBS) for (const n of [k.name, ...(k.aliases ?? [])]) BY_NAME.set(n, k);

/** A knob by its name or an older spelling. */
export function knobDef(name: string): KnobDef | undefined {
  return BY_NAME.get(name);
}

/** The registry name of a knob spelled `name` (an alias → its knob's name; unknown names unchanged). */
export function canonicalKnob(name: string): string {
  return BY_NAME.get(name)?.name ?? name;
}

/** Does `k` apply to this model kind (and sampler, when given)? */
export function appliesTo(k: KnobDef, kind: ModelKind, sampler?: string): boolean {
  const u = k.uses[kind];
  return u !== undefined && (u === '*' || sampler === undefined || u.includes(sampler));
}

/** A knob as it applies to a model kind: its face for that kind merged over its own fields. */
export function faceOf(k: KnobDef, kind: ModelKind): KnobDef {
  const f = k.byKind?.[kind];
  return f ? { ...k, ...f } : k;
}

/** A bound's value for a model (or its fallback without one). */
export function resolveBound(b: Bound | undefined, ctx: KnobContext = {}): number | undefined {
  if (b === undefined || typeof b === 'number') return b;
  return ctx[b.model] ?? b.otherwise;
}

/** A knob's default for a kind and sampler (undefined = none). */
export function knobDefault(name: KnobName, kind: ModelKind, sampler: string): number | string | boolean | undefined {
  const k = BY_NAME.get(name);
  if (!k) return undefined;
  const d = faceOf(k, kind).default;
  if (d !== null && typeof d === 'object') return (d as Record<string, number>)[sampler];
  return d;
}

/** The default of a knob whose default is the same for every kind and sampler (n, seed, temperature, …). */
export function defaultOf<T extends number | string | boolean>(name: KnobName): T {
  const d = BY_NAME.get(name)?.default;
  if (d === undefined || (d !== null && typeof d === 'object'))
    throw new TypeError(`knob ${name} has no single default`);
  return d as T;
}

/** Knobs of one model kind (and sampler, when given) that a sweep may set. */
export function sweepKnobs(kinds: readonly ModelKind[], sampler?: string): KnobDef[] {
  return KNOBS.filter((k) => k.sweep && kinds.some((kind) => appliesTo(k, kind, sampler)));
}

/** A knob resolved for one model: numeric bounds fixed. */
export interface ResolvedKnob {
  name: KnobName;
  /** what errors name: the attribute, else the flag, else the name */
  key: string;
  label: string;
  type: KnobDef['type'];
  min?: number;
  max?: number;
  minOpen?: boolean;
  options?: [string, string][];
  optional?: boolean;
}

export function resolveKnob(
  k: KnobDef,
  kind: ModelKind,
  ctx: KnobContext = {},
  key = k.attribute ?? k.flag ?? k.name,
): ResolvedKnob {
  const f = faceOf(k, kind);
  return {
    name: k.name,
    key,
    label: f.label,
    type: k.type,
    min: (ctx.sampler !== undefined ? k.minBySampler?.[ctx.sampler] : undefined) ?? resolveBound(f.min, ctx),
    max: resolveBound(f.max, ctx),
    minOpen: k.minOpen,
    options: k.options,
    optional: k.optional,
  };
}

/**
 * A sampler option read through its knob: the registry default when absent, else the value checked
 * against what the samplers accept (`valid`, or the knob's range; model-bound limits from `ctx`, e.g.
 * the run's length or the model's timesteps) — a SamplerConfigError naming the option otherwise.
 */
export function knobOption<T extends number | string | boolean>(
  name: KnobName,
  value: T | undefined,
  kind: ModelKind,
  sampler: string,
  ctx: KnobContext = {},
): T {
  const k = BY_NAME.get(name)!;
  const v = value ?? (knobDefault(name, kind, sampler) as T | undefined);
  const r = resolveKnob(k, kind, { ...ctx, sampler }, name);
  if (k.valid) {
    if (k.valid.min !== undefined) r.min = resolveBound(k.valid.min, ctx);
    if (k.valid.max !== undefined) r.max = resolveBound(k.valid.max, ctx);
  }
  if (r.max === Infinity) r.max = undefined;
  const e = checkKnobValue({ ...r, optional: false }, v);
  if (e) throw e;
  return v as T;
}

/** The range of a numeric knob in words: "an integer in [0, 9]", "a number in (0, 1]". */
export function rangeText(k: Pick<ResolvedKnob, 'type' | 'min' | 'max' | 'minOpen'>): string {
  const what = k.type === 'int' ? 'an integer' : 'a number';
  if (k.max === undefined) return `${what} ${k.minOpen ? '>' : '≥'} ${k.min}`;
  return `${what} in ${k.minOpen ? '(' : '['}${k.min}, ${k.max}]`;
}

/** Is x in the knob's numeric range (type, bounds)? */
export function inRange(k: Pick<ResolvedKnob, 'type' | 'min' | 'max' | 'minOpen'>, x: number): boolean {
  if (!Number.isFinite(x) || (k.type === 'int' && !Number.isInteger(x))) return false;
  if (k.min !== undefined && (k.minOpen ? x <= k.min : x < k.min)) return false;
  return k.max === undefined || x <= k.max;
}

/**
 * Check one value against a resolved knob; the error names the knob's key and range, or null.
 * undefined (and NaN for optional knobs: an emptied input) means "the default" for optional knobs.
 */
export function checkKnobValue(k: ResolvedKnob, value: unknown): SamplerConfigError | null {
  if (k.type === 'select') {
    const ok = k.options!.some(([v]) => v === value);
    return ok
      ? null
      : new SamplerConfigError(
          k.key,
          `one of ${k.options!.map(([v]) => (v === '' ? '"" (none)' : v)).join(', ')}`,
          value,
        );
  }
  if (k.type === 'boolean')
    return typeof value === 'boolean' ? null : new SamplerConfigError(k.key, 'true or false', value);
  if (k.type === 'text')
    return (value === undefined && k.optional) || (typeof value === 'string' && value.trim() !== '')
      ? null
      : new SamplerConfigError(k.key, 'a name', value ?? null);
  if (value === undefined || value === null || (typeof value === 'number' && Number.isNaN(value) && k.optional)) {
    return k.optional ? null : new SamplerConfigError(k.key, 'a number', value ?? null);
  }
  const x = value as number;
  if (typeof x !== 'number' || !Number.isFinite(x))
    return new SamplerConfigError(k.key, rangeText(k), Number.isNaN(x) ? 'not a number' : x);
  return inRange(k, x) ? null : new SamplerConfigError(k.key, rangeText(k), x);
}

/** Parse a knob's text (an input's value, a CLI flag): '' → undefined for optional numeric knobs. */
export function parseKnobText(k: Pick<ResolvedKnob, 'type' | 'optional'>, text: string): unknown {
  if (k.type === 'select' || k.type === 'text') return text;
  const t = text.trim();
  if (k.type === 'boolean') return t === 'true' ? true : t === 'false' ? false : t;
  if (t === '') return k.optional ? undefined : NaN;
  return Number(t);
}
