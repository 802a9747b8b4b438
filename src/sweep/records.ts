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
import { OpInputError, ShardError } from '../errors.js';
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

/**
 * The adapter a record was computed on: every line says it, so a fleet's merged sweep shows which node's
 * hardware each timing comes from. The CPU backend records `backend: 'cpu'`, `software: true`.
 */
export interface RecordAdapter {
  backend: 'webgpu' | 'cpu';
  vendor: string;
  architecture: string;
  description: string;
  /** a software rasteriser (lavapipe, SwiftShader), a fallback adapter, or the CPU backend: not a hardware GPU */
  software: boolean;
}

/** A shard's place in its sweep: shard `index` of `count` (settings with index ≡ index mod count). */
export interface ShardId {
  index: number;
  count: number;
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
  /** the adapter it ran on (absent in records written before adapters were recorded) */
  adapter?: RecordAdapter;
  /** the samplescope version that wrote it */
  version?: string;
  /**
   * the shard that wrote it (absent for an unsharded run); `merge` checks every part was cut the same way and
   * drops it from the merged lines (it is index mod count)
   */
  shard?: ShardId;
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

/** "i/n" */
export const shardName = (s: ShardId): string => `${s.index}/${s.count}`;

/**
 * Join records from shards: one spec hash only; a setting seen twice must agree (same knobs and
 * axes — fixed seeds make reruns identical on one backend), else it is an error. Parts cut into a
 * different number of shards are refused (`ShardError` 'count-changed'). Sorted by index; the `shard`
 * field is dropped (it is index mod count, and the merged sweep is no shard). With `expected` (the grid
 * size), a missing setting is a `ShardError` 'incomplete' naming the shards that have not finished.
 */
export function mergeSweeps(parts: SweepRecord[][], expected?: number): SweepRecord[] {
  const all = parts.flat();
  const specs = new Set(all.map((r) => r.spec));
  if (specs.size > 1) fail(`records come from different sweep specs: ${[...specs].join(', ')}`);
  const counts = new Map<string, number[]>();
  parts.forEach((p, i) => {
    for (const r of p) {
      const n = r.shard ? String(r.shard.count) : 'unsharded';
      if (r.shard && r.index % r.shard.count !== r.shard.index)
        fail(`part ${i + 1}: setting ${r.index} is not in shard ${shardName(r.shard)}`);
      const list = counts.get(n) ?? [];
      if (!list.includes(i + 1)) list.push(i + 1);
      counts.set(n, list);
    }
  });
  const sharded = [...counts.keys()].filter((n) => n !== 'unsharded');
  if (sharded.length > 1)
    throw new ShardError(
      'count-changed',
      `the parts were cut into different numbers of shards: ${[...counts].map(([n, ps]) => `${n === 'unsharded' ? n : `n = ${n}`} (part ${ps.join(', ')})`).join('; ')}`,
    );
  const byIndex = new Map<number, SweepRecord>();
  for (const r of all) {
    const had = byIndex.get(r.index);
    if (
      had &&
      (canonicalJson(had.knobs) !== canonicalJson(r.knobs) || canonicalJson(had.axes) !== canonicalJson(r.axes))
    ) {
      fail(`setting ${r.index} appears twice with different knobs or results`);
    }
    const { shard: _shard, ...rest } = r;
    byIndex.set(r.index, rest);
  }
  const out = [...byIndex.values()].sort((a, b) => a.index - b.index);
  if (expected !== undefined) {
    const missing = Array.from({ length: expected }, (_, i) => i).filter((i) => !byIndex.has(i));
    if (missing.length) {
      const n = sharded.length ? Number(sharded[0]) : undefined;
      const shards = n ? [...new Set(missing.map((i) => i % n))].sort((a, b) => a - b) : [];
      throw new ShardError(
        'incomplete',
        `settings missing from the merged sweep: ${missing.join(', ')}${n ? ` — shards not finished: ${shards.map((s) => `${s}/${n} (${missing.filter((i) => i % n === s).length} of ${Math.ceil((expected - s) / n)} settings missing)`).join(', ')}` : ''}`,
        shards.map((s) => `${s}/${n}`),
      );
    }
  }
  return out;
}

/** One adapter's timings in a merged sweep. */
export interface AdapterTiming {
  /** "backend vendor architecture description", or 'unrecorded' for records written before adapters were */
  adapter: string;
  software: boolean | undefined;
  settings: number;
  meanMs: number;
}

/** "webgpu nvidia hopper NVIDIA H100" — how an adapter is named in reports. */
export function adapterName(a: RecordAdapter | undefined): string {
  return a ? [a.backend, a.vendor, a.architecture, a.description].filter(Boolean).join(' ') : 'unrecorded';
}

/**
 * Timings (`ms`) grouped by adapter: a sweep that ran on several adapters gets one mean per adapter,
 * never one mean over all (the times of a CPU node and a GPU node do not average into anything).
 */
export function timingByAdapter(records: readonly SweepRecord[]): AdapterTiming[] {
  const groups = new Map<string, AdapterTiming>();
  for (const r of records) {
    const name = adapterName(r.adapter);
    const g = groups.get(name) ?? { adapter: name, software: r.adapter?.software, settings: 0, meanMs: 0 };
    g.meanMs += (r.ms - g.meanMs) / ++g.settings;
    groups.set(name, g);
  }
  return [...groups.values()];
}

/** Non-dominated settings (record indices into `records`) per pair of axes and in 3-D. */
export function sweepFronts(records: readonly SweepRecord[]): Record<string, number[]> {
  return paretoFronts(
    records.map((r) => r.axes),
    AXES,
  );
}
