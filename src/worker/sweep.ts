/**
 * Evaluating samples and running sweeps on an engine (the worker's, or one used directly in Node).
 *
 * evaluate*: a batch of samples, the class each was asked for → every metric of src/metrics:
 *   class consistency (classifier argmax = requested class), Vendi (cosine kernel on the classifier's
 *   penultimate features, within each requested class, averaged), PRDC against the classifier's
 *   real reference set (k-NN in the same features), and for text token entropy, distinct-2 and the
 *   left-to-right NLL per character under an AS-ARM evaluator.
 *   Where it runs: the classifiers (the costly part) run on the engine's backend, batched; the
 *   distance and eigenvalue work is O(N²·d) in f64 on the CPU for N ≤ ~1,000 points — milliseconds,
 *   less than one GPU round trip.
 * runSweep: every setting of a spec (or of one shard) → a SweepRecord (src/metrics/sweep.ts), handed
 *   to `onRecord` as soon as it is done so callers can stream JSON lines.
 */
import { OpInputError } from '../errors.js';
import { imageKnobOptions } from '../knobs/options.js';
import { canonicalKnob, sweepKnobs, type ModelKind } from '../knobs/registry.js';
import type { Engine } from './engine.js';
import { knnRadiiSq, prdc, type FeatureSet } from '../metrics/prdc.js';
import { tensorData, type SafetensorsFile } from '../models/safetensors.js';
import { vendiScore } from '../metrics/vendi.js';
import { distinctN, tokenEntropy } from '../metrics/text.js';
import { classConsistency } from '../metrics/nll.js';
import { expandGrid, RECORD_FORMAT, SAMPLE_CHARS, shardSettings, specHash, toBase64, validateSpec, type KnobValue, type SweepRecord, type SweepSamples, type SweepSpec } from '../metrics/sweep.js';

/** A classifier's real reference set in its own feature space. */
export interface ReferenceSet {
  classifier: string;
  n: number;
  d: number;
  /** (n, d) */
  features: Float32Array;
  /** (n) class of each real sample */
  labels: Uint32Array;
  /** the reals' squared k-NN radii by k, computed on first use */
  radiiSq?: Map<number, Float64Array>;
}

export interface EvalOptions {
  /** engine handle of the classifier (digits-classifier / text-classifier) */
  classifier: string;
  /** text: engine handle of the AS-ARM model for NLL */
  evaluator?: string;
  /** PRDC k (default 5) */
  k?: number;
}

export type Metrics = Record<string, number>;

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Rows of `f` (n, d) whose `labels` equal c. */
function rowsOf(f: Float32Array, d: number, labels: ArrayLike<number>, c: number): FeatureSet {
  const idx: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
  const data = new Float32Array(idx.length * d);
  idx.forEach((r, j) => data.set(f.subarray(r * d, (r + 1) * d), j * d));
  return { data, n: idx.length, d };
}

/** Metrics shared by text and images, from classifier features + logits. */
function classifierMetrics(features: Float32Array, logits: Float32Array, n: number, requested: Uint32Array, ref: ReferenceSet, k: number, numClasses: number): Metrics {
  const d = ref.d;
  if (features.length !== n * d) throw new OpInputError('evaluate', `classifier features have ${features.length / n} dims, the reference set ${d}`);
  const out: Metrics = { consistency: classConsistency(logits, numClasses, requested) };
  // Vendi within each requested class (a class-conditional sampler's diversity), averaged over classes
  const classes = [...new Set(requested)];
  const vendis = classes.map((c) => rowsOf(features, d, requested, c)).filter((s) => s.n >= 2).map((s) => vendiScore(s));
  out.vendi = vendis.length ? mean(vendis) : NaN;
  out.vendiAll = vendiScore({ data: features, n, d });
  if (n <= k) throw new OpInputError('evaluate', `PRDC with k = ${k} needs more than ${k} samples, got ${n}`);
  const real = { data: ref.features, n: ref.n, d };
  const radii = (ref.radiiSq ??= new Map());
  if (!radii.has(k)) radii.set(k, knnRadiiSq(real, k));
  const p = prdc(real, { data: features, n, d }, k, radii.get(k));
  Object.assign(out, p);
  return out;
}

type Classified = { features: Float32Array; logits: Float32Array };

/** Run a classifier over n rows of `x` in chunks of ≤ `chunk` rows; features and logits concatenated. */
async function inChunks<T extends Float32Array | Uint32Array>(x: T, n: number, run: (rows: T, m: number) => Promise<Classified>, chunk = 128): Promise<Classified> {
  const per = x.length / n;
  const feats: Float32Array[] = [], logs: Float32Array[] = [];
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const r = await run(x.slice(i * per, (i + m) * per) as T, m);
    feats.push(r.features);
    logs.push(r.logits);
  }
  return { features: concat(feats), logits: concat(logs) };
}

/** Features and logits of images (n, H, W, C) in [0, 1]. */
const classifyImages = (engine: Engine, classifier: string, images: Float32Array, n: number) =>
  inChunks(images, n, (rows, m) => engine.classify(classifier, rows, m));

/** Features and logits of token rows (n, L). */
const classifyTokens = (engine: Engine, classifier: string, tokens: Uint32Array, n: number) =>
  inChunks(tokens, n, (rows, m) => engine.classifyText(classifier, rows, m));

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Load a classifier's reference file (role "reference") and map it into the classifier's features. */
export async function computeReferenceSet(engine: Engine, classifier: string, files: Map<string, SafetensorsFile>): Promise<ReferenceSet> {
  const info = engine.modelInfo(classifier);
  for (const [path, st] of files) {
    if (info.kind === 'classifier' && st.tensors.has('images')) {
      const t = st.tensors.get('images')!;
      const n = t.shape[0];
      const [H, W, C] = info.imageShape!;
      if (t.shape.length !== 4 || t.shape[1] !== H || t.shape[2] !== W || t.shape[3] !== C) throw new OpInputError('reference', `${path}: images ${JSON.stringify(t.shape)} do not match the classifier's (n, ${H}, ${W}, ${C})`);
      const raw = tensorData(st, 'images', path);
      const images = Float32Array.from(raw, (v) => v / 255);
      const labels = Uint32Array.from(tensorData(st, 'labels', path));
      const { features } = await classifyImages(engine, classifier, images, n);
      return { classifier, n, d: features.length / n, features, labels };
    }
    if (info.kind === 'text-classifier' && st.tensors.has('tokens')) {
      const t = st.tensors.get('tokens')!;
      const n = t.shape[0];
      if (t.shape.length !== 2 || t.shape[1] !== info.maxLength) throw new OpInputError('reference', `${path}: tokens ${JSON.stringify(t.shape)} do not match the classifier's (n, ${info.maxLength})`);
      const tokens = Uint32Array.from(tensorData(st, 'tokens', path));
      const labels = Uint32Array.from(tensorData(st, 'labels', path));
      const { features } = await classifyTokens(engine, classifier, tokens, n);
      return { classifier, n, d: features.length / n, features, labels };
    }
  }
  throw new OpInputError('reference', `${classifier}: no reference file holds ${info.kind === 'classifier' ? '"images"' : '"tokens"'}`);
}

/** Every metric of images (n, H, W, C) in [0, 1], each asked for class `requested[i]`. */
export async function evaluateImages(engine: Engine, images: Float32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics> {
  if (requested.length !== n) throw new OpInputError('evaluate', `need one requested class per image (${n}), got ${requested.length}`);
  const ref = await engine.referenceSet(o.classifier);
  const info = engine.modelInfo(o.classifier);
  const { features, logits } = await classifyImages(engine, o.classifier, images, n);
  const m = classifierMetrics(features, logits, n, requested, ref, o.k ?? 5, info.classes.length);
  return { ...m, realism: m.density, diversity: m.vendi };
}

/** Every metric of token rows (n, L), each asked for class `requested[i]`. */
export async function evaluateText(engine: Engine, tokens: Uint32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics> {
  if (requested.length !== n) throw new OpInputError('evaluate', `need one requested class per row (${n}), got ${requested.length}`);
  const L = tokens.length / n;
  const cinfo = engine.modelInfo(o.classifier);
  if (L !== cinfo.maxLength) throw new OpInputError('evaluate', `${o.classifier} reads ${cinfo.maxLength}-character texts; these have ${L}`);
  const ref = await engine.referenceSet(o.classifier);
  const { features, logits } = await classifyTokens(engine, o.classifier, tokens, n);
  const m = classifierMetrics(features, logits, n, requested, ref, o.k ?? 5, cinfo.classes.length);
  m.tokenEntropy = mean(tokenEntropy(tokens, n, L));
  m.distinct2 = distinctN(tokens, n, L, 2);
  if (o.evaluator) {
    m.nll = mean(await engine.nll(o.evaluator, tokens, n, L));
    m.realism = -m.nll;
  } else {
    m.realism = m.density;
  }
  m.diversity = m.vendi;
  return m;
}

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
 * Run the settings of a spec (all, or one shard's, less the indices in `skip` — already done) with fixed seeds, evaluate each, hand each
 * record to `onRecord` when done, and return them. Each sampler call gets the request id
 * `childId()` ("parent/n"), so cancelling the parent stops the sweep after the model call in flight.
 */
export async function runSweep(engine: Engine, spec: SweepSpec, opts: { shard?: { index: number; count: number }; skip?: number[]; onRecord?: (r: SweepRecord) => void; requestId?: string; childId?: () => string } = {}): Promise<SweepRecord[]> {
  validateSpec(spec);
  const known = spec.kind === 'text' ? TEXT_KNOBS : IMAGE_KNOBS;
  for (const k of [...Object.keys(spec.grid), ...Object.keys(spec.base ?? {})]) if (!known.has(k)) throw new OpInputError('sweep', `unknown ${spec.kind} knob "${k}" (known: ${[...known].join(', ')})`);
  const gen = engine.modelInfo(spec.model);
  if (spec.kind === 'text' && gen.kind !== 'text') throw new OpInputError('sweep', `${spec.model} is not a text model`);
  if (spec.kind === 'image' && gen.kind !== 'denoiser') throw new OpInputError('sweep', `${spec.model} is not a denoiser`);
  for (const c of spec.classes) if (c >= gen.classes.length - (spec.kind === 'text' ? 1 : 0)) throw new OpInputError('sweep', `class ${c} is out of range for ${spec.model} (${gen.classes.join(', ')})`);
  const hash = specHash(spec);
  const skip = new Set(opts.skip ?? []);
  const settings = shardSettings(expandGrid(spec.grid), opts.shard).filter((s) => !skip.has(s.index));
  const out: SweepRecord[] = [];
  const C = spec.classes.length, B = spec.perClass;
  const requested = new Uint32Array(C * B);
  spec.classes.forEach((c, i) => requested.fill(c, i * B, (i + 1) * B));
  for (const s of settings) {
    const knobs = canonicalKnobs({ ...(spec.base ?? {}), ...s.knobs });
    const t0 = performance.now();
    let nfe = 0, backend = '';
    let metrics: Metrics;
    let samples: SweepSamples | undefined;
    const keep = keptSamples(spec.keepSamples ?? 0, C, B);
    if (spec.kind === 'text') {
      const L = (knobs.length as number | undefined) ?? engine.modelInfo(spec.classifier).maxLength!;
      const tokens = new Uint32Array(C * B * L);
      const texts: string[] = [];
      for (let i = 0; i < C; i++) {
        const { length: _l, ...rest } = knobs;
        const r = await engine.sampleText({ model: spec.model, sampler: spec.sampler as 'fhs', options: { ...(rest as object), length: L, batch: B, seed: spec.seed + i, classId: spec.classes[i] } }, undefined, opts.childId?.() ?? opts.requestId);
        tokens.set(r.samples, i * B * L);
        texts.push(...r.texts);
        nfe += r.nfe;
        backend = r.backend;
      }
      metrics = await evaluateText(engine, tokens, C * B, requested, { classifier: spec.classifier, evaluator: spec.evaluator, k: spec.k });
      if (keep.length) samples = { classes: keep.map((s) => spec.classes[s.cls]), texts: keep.map((s) => texts[s.row].slice(0, SAMPLE_CHARS)) };
    } else {
      // one call for every requested image: the sampler takes a class per image
      const im = imageKnobOptions(knobs, gen.timesteps!);
      const r = await engine.sampleImage({
        model: spec.model,
        options: {
          ...im.options, sampler: spec.sampler as 'ddim', batch: C * B, seed: spec.seed, classes: requested, previewEvery: 0,
          ...(im.guidanceInterval ? { guidanceInterval: im.guidanceInterval } : {}),
        },
        ...(im.hybrid ? { hybrid: { student: spec.student!, ...im.hybrid } } : {}),
      }, undefined, opts.childId?.() ?? opts.requestId);
      const images = r.images;
      nfe = r.nfe;
      backend = r.backend;
      metrics = await evaluateImages(engine, images, C * B, requested, { classifier: spec.classifier, k: spec.k });
      if (keep.length) samples = { classes: keep.map((s) => spec.classes[s.cls]), images: keepImages(images, gen.imageShape!, keep.map((s) => s.row)) };
    }
    const rec: SweepRecord = {
      spec: hash, ...(spec.name ? { name: spec.name } : {}), index: s.index, knobs: s.knobs,
      axes: { consistency: metrics.consistency, diversity: metrics.diversity, realism: metrics.realism },
      metrics, nfe: spec.kind === 'text' ? nfe / C : nfe, ms: performance.now() - t0, backend,
      ...(samples ? { samples } : {}), format: RECORD_FORMAT,
    };
    out.push(rec);
    opts.onRecord?.(rec);
  }
  return out;
}
