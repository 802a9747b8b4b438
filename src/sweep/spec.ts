/**
 * A sweep over sampler knobs, as data: a spec names a model, a sampler, fixed options and a grid of
 * knob values; `expandGrid` numbers every setting (the Cartesian product, last knob fastest), a shard
 * `i/n` takes the settings whose index ≡ i (mod n), and `specHash` identifies the spec across
 * processes. What a finished setting becomes (a JSON line) and how shards merge: src/sweep/records.ts;
 * running one: src/sweep/run.ts. This file is pure and runs anywhere.
 */
import { OpInputError } from '../errors.js';
import { canonicalKnob } from '../knobs/registry.js';

export type KnobValue = number | string | boolean;

export interface SweepSpec {
  /** free-form name, kept in every record */
  name?: string;
  kind: 'text' | 'image';
  /** engine handle of the generator */
  model: string;
  /** text: fhs | ancestral | sequential | assd; image: ddpm | ddim | consistency */
  sampler: string;
  /** sampler options shared by every setting (length, steps, …); the grid overrides them */
  base?: Record<string, KnobValue>;
  /**
   * knob → values. Knob names are the sampler's option names (guidance — the scale s for text and
   * images alike, 1 = the conditional model; image specs written before used w = s − 1 —, temperature, topP, steps,
   * tokensPerStep, draft, precision, …) plus, for images, `baseSteps` (base → student switch step;
   * needs `student`; the older spelling `hybridBaseSteps` still reads). The registry
   * (src/knobs/registry.ts, `sweep: true`) lists them.
   */
  grid: Record<string, KnobValue[]>;
  /** requested classes: each setting draws `perClass` samples for each */
  classes: number[];
  perClass: number;
  /** the seed of every setting (fixed seeds: settings differ only by their knobs) */
  seed: number;
  /** engine handles of the evaluators */
  classifier: string;
  /** text: the AS-ARM model giving the realism axis */
  evaluator?: string;
  /** images: the student denoiser for `hybridBaseSteps` */
  student?: string;
  /** PRDC neighbourhood size (default 5) */
  k?: number;
  /**
   * keep this many samples of each setting in its record (`SweepRecord.samples`, for display: the
   * Pareto explorer's thumbnails); default 0. Not part of the spec hash: it changes no result.
   */
  keepSamples?: number;
}

/** One setting of a grid: its number and its knob values. */
export interface SweepSetting {
  index: number;
  knobs: Record<string, KnobValue>;
}

function fail(msg: string): never {
  throw new OpInputError('sweep', msg);
}

/** Check a spec's shape (not its model handles: the runner does that). */
export function validateSpec(s: SweepSpec): void {
  if (s.kind !== 'text' && s.kind !== 'image') fail(`kind must be "text" or "image", got ${JSON.stringify(s.kind)}`);
  if (typeof s.model !== 'string' || !s.model) fail('model must name a loaded model');
  if (typeof s.classifier !== 'string' || !s.classifier) fail('classifier must name a loaded classifier');
  if (!s.grid || typeof s.grid !== 'object') fail('grid must map knob names to lists of values');
  for (const [k, vs] of Object.entries(s.grid)) {
    if (!Array.isArray(vs) || vs.length === 0) fail(`grid.${k} must be a non-empty list`);
    for (const v of vs)
      if (!['number', 'string', 'boolean'].includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v)))
        fail(`grid.${k} has a value that is not a finite number, string or boolean: ${JSON.stringify(v)}`);
    if (new Set(vs.map((v) => JSON.stringify(v))).size !== vs.length) fail(`grid.${k} lists a value twice`);
  }
  if (!Array.isArray(s.classes) || s.classes.length === 0 || s.classes.some((c) => !Number.isInteger(c) || c < 0))
    fail('classes must be a non-empty list of class ids');
  if (!Number.isInteger(s.perClass) || s.perClass < 2)
    fail(`perClass must be an integer ≥ 2 (Vendi and PRDC need several samples), got ${s.perClass}`);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) fail(`seed must be a non-negative integer, got ${s.seed}`);
  if (s.k !== undefined && (!Number.isInteger(s.k) || s.k < 1)) fail(`k must be a positive integer, got ${s.k}`);
  if (s.keepSamples !== undefined && (!Number.isInteger(s.keepSamples) || s.keepSamples < 0 || s.keepSamples > 64))
    fail(`keepSamples must be an integer in [0, 64], got ${s.keepSamples}`);
  for (const k of Object.keys(s.grid))
    if (canonicalKnob(k) === 'baseSteps' && !s.student) fail(`grid.${k} needs a student model`);
  if (s.kind === 'text' && !s.evaluator) fail('text sweeps need an evaluator (an AS-ARM model) for the realism axis');
  if (s.classes.length * s.perClass <= (s.k ?? 5))
    fail(`PRDC needs more than k = ${s.k ?? 5} samples per setting, got ${s.classes.length * s.perClass}`);
}

/** Every setting of the grid, numbered; the last knob varies fastest. */
export function expandGrid(grid: Record<string, KnobValue[]>): SweepSetting[] {
  const keys = Object.keys(grid);
  let out: Record<string, KnobValue>[] = [{}];
  for (const k of keys) out = out.flatMap((o) => grid[k].map((v) => ({ ...o, [k]: v })));
  return out.map((knobs, index) => ({ index, knobs }));
}

/** Parse "i/n" (0 ≤ i < n). */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) fail(`shard must look like "i/n", got ${JSON.stringify(s)}`);
  const index = Number(m[1]),
    count = Number(m[2]);
  if (count < 1 || index >= count) fail(`shard ${s}: need 0 ≤ i < n`);
  return { index, count };
}

/** The settings of one shard: those whose index ≡ i (mod n). */
export function shardSettings(settings: SweepSetting[], shard?: { index: number; count: number }): SweepSetting[] {
  return shard ? settings.filter((s) => s.index % shard.count === shard.index) : settings;
}

/** A stable JSON text (object keys sorted) — for hashing and comparing. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * FNV-1a 64-bit of the canonical spec, hex: identifies a sweep across processes. Object keys are
 * sorted, except the grid's: its knob order fixes the settings' numbering, so it is kept.
 * `keepSamples` is left out (it changes no result).
 */
export function specHash(s: SweepSpec): string {
  const { keepSamples: _keep, ...measured } = s;
  let h = 0xcbf29ce484222325n;
  for (const c of new TextEncoder().encode(canonicalJson({ ...measured, grid: Object.entries(s.grid) })))
    h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** Bytes as base64 (btoa: browsers, workers and Node). */
