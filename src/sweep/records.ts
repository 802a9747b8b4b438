/**
 * What a sweep produces: each finished setting is one JSON line (`SweepRecord`), and `mergeSweeps`
 * joins the lines of several shards back into one sweep — checking that they come from the same spec
 * (by its hash) and that no setting is missing or contradicted. `sweepFronts` gives the non-dominated
 * settings for each pair of the three axes and in 3-D.
 *
 * The three axes, all "higher is better":
 *   consistency — classifier accuracy on the requested class;
 *   diversity   — Vendi score of the samples in the classifier's feature space, within each requested class;
 *   realism     — images: PRDC density against the real reference set; text: −NLL per character under
 *                 the AS-ARM evaluator (left to right, an exact likelihood).
 * Pure: runs anywhere (the Pareto explorer reads records in the page).
 */
import { OpInputError } from '../errors.js';
import { paretoFronts } from '../metrics/pareto.js';
import { canonicalJson, type SweepSetting } from './spec.js';

export const AXES = ['consistency', 'diversity', 'realism'] as const;
export type Axis = (typeof AXES)[number];

/**
 * A few samples of one setting, for display; the j-th kept sample is sample ⌊j / classes⌋ of class j mod
 * classes.
 */
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
  /**
   * record format: `RECORD_FORMAT` since image guidance is the scale s; absent in records written before (read through
   * `upgradeRecord`)
   */
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
  return {
    ...r,
    knobs: image && typeof g === 'number' ? { ...r.knobs, guidance: g + 1 } : r.knobs,
    format: RECORD_FORMAT,
  };
}

function fail(msg: string): never {
  throw new OpInputError('sweep', msg);
}

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

/**
 * Parse JSON lines (blank lines skipped; older records upgraded, see `upgradeRecord`); a malformed line is an error
 * naming its number.
 */
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
    if (!r || typeof r !== 'object' || !Number.isInteger(r.index) || typeof r.spec !== 'string' || !r.axes || !r.knobs)
      fail(`line ${i + 1} is not a sweep record`);
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
    if (
      had &&
      (canonicalJson(had.knobs) !== canonicalJson(r.knobs) || canonicalJson(had.axes) !== canonicalJson(r.axes))
    ) {
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
  return paretoFronts(
    records.map((r) => r.axes),
    AXES,
  );
}
