/**
 * Running a sweep on an engine: every setting of a spec (or of one shard) → a `SweepRecord`
 * (src/sweep/spec.ts), handed to `onRecord` as soon as it is done so callers can stream JSON lines.
 */
import { OpInputError } from '../errors.js';
import { imageKnobOptions } from '../knobs/options.js';
import { canonicalKnob, sweepKnobs, type ModelKind } from '../knobs/registry.js';
import type { EngineApi, Metrics } from '../worker/protocol.js';
import { evaluateImages, evaluateText, type EvalEngine } from './evaluate.js';
import { expandGrid, shardSettings, specHash, validateSpec, type KnobValue, type SweepSpec } from './spec.js';
import { RECORD_FORMAT, SAMPLE_CHARS, toBase64, type SweepRecord, type SweepSamples } from './records.js';
import { recordAdapter, requireHardware } from './cluster.js';
import { VERSION } from '../version.js';

/** What a sweep needs of an engine: the samplers, what evaluating needs and its backend (recorded in every line). */
export interface SweepEngine extends EvalEngine, Pick<EngineApi, 'sampleText' | 'sampleImage' | 'info'> {}

/** Which samples a record keeps: round-robin over the classes (sample ⌊j / C⌋ of class j mod C), at most `keep`. */
export function keptSamples(keep: number, C: number, B: number): { row: number; cls: number }[] {
  const out: { row: number; cls: number }[] = [];
  for (let j = 0; j < Math.min(keep, C * B); j++) out.push({ row: (j % C) * B + Math.floor(j / C), cls: j % C });
  return out;
}

/** Kept images (n, H, W, C) in [0, 1] → (k, H, W) grey levels (channels averaged), base64. */
function keepImages(images: Float32Array, shape: [number, number, number], rows: number[]): SweepSamples['images'] {
  const [H, W, Ch] = shape;
  const out = new Uint8Array(rows.length * H * W);
  rows.forEach((r, j) => {
    for (let i = 0; i < H * W; i++) {
      let v = 0;
      for (let c = 0; c < Ch; c++) v += images[(r * H * W + i) * Ch + c];
      out[j * H * W + i] = Math.round(255 * Math.min(1, Math.max(0, v / Ch)));
    }
  });
  return { n: rows.length, h: H, w: W, data: toBase64(out) };
}

/** The knobs a sweep of each kind may set, by their registry names and older spellings (src/knobs/registry.ts). */
const knobNames = (kinds: ModelKind[]) => new Set(sweepKnobs(kinds).flatMap((k) => [k.name, ...(k.aliases ?? [])]));
const TEXT_KNOBS = knobNames(['mdm', 'asarm']);
const IMAGE_KNOBS = knobNames(['image']);

/** A setting's knobs under their registry names (older spellings, e.g. hybridBaseSteps, renamed). */
function canonicalKnobs(knobs: Record<string, KnobValue>): Record<string, KnobValue> {
  return Object.fromEntries(Object.entries(knobs).map(([k, v]) => [canonicalKnob(k), v]));
}

/**
 * Run the settings of a spec (all, or one shard's, less the indices in `skip` — already done) with fixed seeds,
 * evaluate each (every record names its adapter, the package version and its shard), hand each
 * record to `onRecord` when done, and return them. Each sampler call gets the request id
 * `childId()` ("parent/n"), so cancelling the parent stops the sweep after the model call in flight.
 */
export async function runSweep(
  engine: SweepEngine,
  spec: SweepSpec,
  opts: {
    shard?: { index: number; count: number };
    skip?: number[];
    onRecord?: (r: SweepRecord) => void;
    requestId?: string;
    childId?: () => string;
    /** refuse (AdapterRequirementError, before any setting) unless the backend is WebGPU on a hardware adapter */
    requireHardware?: boolean;
  } = {},
): Promise<SweepRecord[]> {
  validateSpec(spec);
  const known = spec.kind === 'text' ? TEXT_KNOBS : IMAGE_KNOBS;
  for (const k of [...Object.keys(spec.grid), ...Object.keys(spec.base ?? {})])
    if (!known.has(k))
      throw new OpInputError('sweep', `unknown ${spec.kind} knob "${k}" (known: ${[...known].join(', ')})`);
  const gen = engine.modelInfo(spec.model);
  if (spec.kind === 'text' && gen.kind !== 'text') throw new OpInputError('sweep', `${spec.model} is not a text model`);
  if (spec.kind === 'image' && gen.kind !== 'denoiser')
    throw new OpInputError('sweep', `${spec.model} is not a denoiser`);
  for (const c of spec.classes)
    if (c >= gen.classes.length - (spec.kind === 'text' ? 1 : 0))
      throw new OpInputError('sweep', `class ${c} is out of range for ${spec.model} (${gen.classes.join(', ')})`);
  const info = await engine.info();
  if (opts.requireHardware) requireHardware(info);
  const adapter = recordAdapter(info);
  const hash = specHash(spec);
  const skip = new Set(opts.skip ?? []);
  const settings = shardSettings(expandGrid(spec.grid), opts.shard).filter((s) => !skip.has(s.index));
  const out: SweepRecord[] = [];
  const C = spec.classes.length,
    B = spec.perClass;
  const requested = new Uint32Array(C * B);
  spec.classes.forEach((c, i) => requested.fill(c, i * B, (i + 1) * B));
  for (const s of settings) {
    const knobs = canonicalKnobs({ ...(spec.base ?? {}), ...s.knobs });
    const t0 = performance.now();
    let nfe = 0,
      backend = '';
    let metrics: Metrics;
    let samples: SweepSamples | undefined;
    const keep = keptSamples(spec.keepSamples ?? 0, C, B);
    if (spec.kind === 'text') {
      const L = (knobs.length as number | undefined) ?? engine.modelInfo(spec.classifier).maxLength!;
      const tokens = new Uint32Array(C * B * L);
      const texts: string[] = [];
      for (let i = 0; i < C; i++) {
        const { length: _l, ...rest } = knobs;
        const r = await engine.sampleText(
          {
            model: spec.model,
            sampler: spec.sampler as 'fhs',
            options: { ...(rest as object), length: L, batch: B, seed: spec.seed + i, classId: spec.classes[i] },
          },
          undefined,
          { requestId: opts.childId?.() ?? opts.requestId },
        );
        tokens.set(r.samples, i * B * L);
        texts.push(...r.texts);
        nfe += r.nfe;
        backend = r.backend;
      }
      metrics = await evaluateText(engine, tokens, C * B, requested, {
        classifier: spec.classifier,
        evaluator: spec.evaluator,
        k: spec.k,
      });
      if (keep.length)
        samples = {
          classes: keep.map((s) => spec.classes[s.cls]),
          texts: keep.map((s) => texts[s.row].slice(0, SAMPLE_CHARS)),
        };
    } else {
      // one call for every requested image: the sampler takes a class per image
      const im = imageKnobOptions(knobs, gen.timesteps!);
      const r = await engine.sampleImage(
        {
          model: spec.model,
          options: {
            ...im.options,
            sampler: spec.sampler as 'ddim',
            batch: C * B,
            seed: spec.seed,
            classes: requested,
            previewEvery: 0,
            ...(im.guidanceInterval ? { guidanceInterval: im.guidanceInterval } : {}),
          },
          ...(im.hybrid ? { hybrid: { student: spec.student!, ...im.hybrid } } : {}),
        },
        undefined,
        { requestId: opts.childId?.() ?? opts.requestId },
      );
      const images = r.images;
      nfe = r.nfe;
      backend = r.backend;
      metrics = await evaluateImages(engine, images, C * B, requested, { classifier: spec.classifier, k: spec.k });
      if (keep.length)
        samples = {
          classes: keep.map((s) => spec.classes[s.cls]),
          images: keepImages(
            images,
            gen.imageShape!,
            keep.map((s) => s.row),
          ),
        };
    }
    const rec: SweepRecord = {
      spec: hash,
      ...(spec.name ? { name: spec.name } : {}),
      index: s.index,
      knobs: s.knobs,
      axes: { consistency: metrics.consistency, diversity: metrics.diversity, realism: metrics.realism },
      metrics,
      nfe: spec.kind === 'text' ? nfe / C : nfe,
      ms: performance.now() - t0,
      backend,
      adapter,
      version: VERSION,
      ...(opts.shard ? { shard: { index: opts.shard.index, count: opts.shard.count } } : {}),
      ...(samples ? { samples } : {}),
      format: RECORD_FORMAT,
    };
    out.push(rec);
    opts.onRecord?.(rec);
  }
  return out;
}
