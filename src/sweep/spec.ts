/**
 * Sweeps over sampler knobs, as data: a spec names a model, a sampler, fixed options and a grid of
 * knob values; `expandGrid` numbers every setting (the Cartesian product, last knob fastest), a shard
 * `i/n` takes the settings whose index ≡ i (mod n), each finished setting is one JSON line
 * (`SweepRecord`), and `mergeSweeps` joins the lines of several shards back into one sweep — checking
 * that they come from the same spec (by its hash) and that no setting is missing or contradicted.
 * `sweepFronts` gives the non-dominated settings for each pair of the three axes and in 3-D.
 *
 * The three axes, all "higher is better":
 *   consistency — classifier accuracy on the requested class;
 *   diversity   — Vendi score of the samples in the classifier's feature space, within each requested class;
 *   realism     — images: PRDC density against the real reference set; text: −NLL per character under
 *                 the AS-ARM evaluator (left to right, an exact likelihood).
 * Running a sweep needs models (src/sweep/run.ts); this file is pure and runs anywhere.
 */
import { OpInputError } from '../errors.js';
import { paretoFronts } from '../metrics/pareto.js';
import { canonicalKnob } from '../knobs/registry.js';

export type KnobValue = number | string | boolean;

export const AXES = ['consistency', 'diversity', 'realism'] as const;
export type Axis = (typeof AXES)[number];

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

/** A few samples of one setting, for display; the j-th kept sample is sample ⌊j / classes⌋ of class j mod classes. */
export interface SweepSamples {
  /** the class each kept sample was asked for */
  classes: number[];
  /** text: the first `SAMPLE_CHARS` characters of each */
  texts?: string[];
  /** images: (n, h, w) grey levels, 0 = blank, 255 = full ink (channels averaged), base64 */
  images?: { n: number; h: number; w: number; data: string };
}

/** characters kept of a text sample */
export const SAMPLE_CHARS = 64;

export interface SweepSetting {
  index: number;
  knobs: Record<string, KnobValue>;
}

export interface SweepRecord extends SweepSetting {
  /** spec hash: lines from different specs never merge */
  spec: string;
  name?: string;
  axes: Record<Axis, number>;
  /** every metric computed for this setting (PRDC, Vendi, entropy, NLL, …) */
  metrics: Record<string, number>;
  /** generator passes per sample: text runs one sampler call per class (mean over them), images one call for all */
  nfe: number;
  ms: number;
  backend: string;
  /** only with `spec.keepSamples` */
  samples?: SweepSamples;
  /** record format: `RECORD_FORMAT` since image guidance is the scale s; absent in records written before (read through `upgradeRecord`) */
  format?: number;
}

/**
 * 2: guidance is the classifier-free guidance scale s for images too (1 = the conditional model, as
 * for text and diffusers' guidance_scale). Records without a format were written when image guidance
 * was w = s − 1 (0 = the conditional model).
 */
export const RECORD_FORMAT = 2;

/**
 * A record in the current format: an older image record's guidance w becomes s = w + 1. Image records
 * are told apart by their metrics: text records always carry the text metrics (tokenEntropy).
 */
export function upgradeRecord(r: SweepRecord): SweepRecord {
  if ((r.format ?? 1) >= RECORD_FORMAT) return r;
  const image = !('tokenEntropy' in (r.metrics ?? {}));
  const g = r.knobs.guidance;
  return { ...r, knobs: image && typeof g === 'number' ? { ...r.knobs, guidance: g + 1 } : r.knobs, format: RECORD_FORMAT };
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
    for (const v of vs) if (!['number', 'string', 'boolean'].includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v))) fail(`grid.${k} has a value that is not a finite number, string or boolean: ${JSON.stringify(v)}`);
    if (new Set(vs.map((v) => JSON.stringify(v))).size !== vs.length) fail(`grid.${k} lists a value twice`);
  }
  if (!Array.isArray(s.classes) || s.classes.length === 0 || s.classes.some((c) => !Number.isInteger(c) || c < 0)) fail('classes must be a non-empty list of class ids');
  if (!Number.isInteger(s.perClass) || s.perClass < 2) fail(`perClass must be an integer ≥ 2 (Vendi and PRDC need several samples), got ${s.perClass}`);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) fail(`seed must be a non-negative integer, got ${s.seed}`);
  if (s.k !== undefined && (!Number.isInteger(s.k) || s.k < 1)) fail(`k must be a positive integer, got ${s.k}`);
  if (s.keepSamples !== undefined && (!Number.isInteger(s.keepSamples) || s.keepSamples < 0 || s.keepSamples > 64)) fail(`keepSamples must be an integer in [0, 64], got ${s.keepSamples}`);
  for (const k of Object.keys(s.grid)) if (canonicalKnob(k) === 'baseSteps' && !s.student) fail(`grid.${k} needs a student model`);
  if (s.kind === 'text' && !s.evaluator) fail('text sweeps need an evaluator (an AS-ARM model) for the realism axis');
  if (s.classes.length * s.perClass <= (s.k ?? 5)) fail(`PRDC needs more than k = ${s.k ?? 5} samples per setting, got ${s.classes.length * s.perClass}`);
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
  const index = Number(m[1]), count = Number(m[2]);
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
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
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
  for (const c of new TextEncoder().encode(canonicalJson({ ...measured, grid: Object.entries(s.grid) }))) h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** Bytes as base64 (btoa: browsers, workers and Node). */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** base64 → bytes (atob). */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function toJsonLine(r: SweepRecord): string {
  return JSON.stringify(r);
}

/** Parse JSON lines (blank lines skipped; older records upgraded, see `upgradeRecord`); a malformed line is an error naming its number. */
export function parseJsonLines(text: string): SweepRecord[] {
  const out: SweepRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: SweepRecord;
    try {
      r = JSON.parse(line) as SweepRecord;
    } catch (e) {
      fail(`line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    if (!r || typeof r !== 'object' || !Number.isInteger(r.index) || typeof r.spec !== 'string' || !r.axes || !r.knobs) fail(`line ${i + 1} is not a sweep record`);
    for (const a of AXES) if (typeof r.axes[a] !== 'number') fail(`line ${i + 1}: axis ${a} is missing`);
    out.push(upgradeRecord(r));
  });
  return out;
}

/**
 * Join records from shards: one spec hash only; a setting seen twice must agree (same knobs and
 * axes — fixed seeds make reruns identical on one backend), else it is an error. Sorted by index.
 * With `expected` (the grid size), a missing setting is an error too.
 */
export function mergeSweeps(parts: SweepRecord[][], expected?: number): SweepRecord[] {
  const all = parts.flat();
  const specs = new Set(all.map((r) => r.spec));
  if (specs.size > 1) fail(`records come from different sweep specs: ${[...specs].join(', ')}`);
  const byIndex = new Map<number, SweepRecord>();
  for (const r of all) {
    const had = byIndex.get(r.index);
    if (had && (canonicalJson(had.knobs) !== canonicalJson(r.knobs) || canonicalJson(had.axes) !== canonicalJson(r.axes))) {
      fail(`setting ${r.index} appears twice with different knobs or results`);
    }
    byIndex.set(r.index, r);
  }
  const out = [...byIndex.values()].sort((a, b) => a.index - b.index);
  if (expected !== undefined) {
    const missing = Array.from({ length: expected }, (_, i) => i).filter((i) => !byIndex.has(i));
    if (missing.length) fail(`settings missing from the merged sweep: ${missing.join(', ')}`);
  }
  return out;
}

/** Non-dominated settings (record indices into `records`) per pair of axes and in 3-D. */
export function sweepFronts(records: readonly SweepRecord[]): Record<string, number[]> {
  return paretoFronts(records.map((r) => r.axes), AXES);
}
