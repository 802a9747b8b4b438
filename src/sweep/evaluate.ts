/**
 * Evaluating samples on an engine (the worker's, or one used directly in Node).
 *
 * evaluate*: a batch of samples, the class each was asked for → every metric of src/metrics:
 *   class consistency (classifier argmax = requested class), Vendi (cosine kernel on the classifier's
 *   penultimate features, within each requested class, averaged), PRDC against the classifier's
 *   real reference set (k-NN in the same features), and for text token entropy, distinct-2 and the
 *   left-to-right NLL per character under an AS-ARM evaluator.
 *   Where it runs: the classifiers (the costly part) run on the engine's backend, batched; the
 *   distance and eigenvalue work is O(N²·d) in f64 on the CPU for N ≤ ~1,000 points — milliseconds,
 *   less than one GPU round trip.
 */
import { OpInputError } from '../errors.js';
import { knnRadiiSq, prdc, type FeatureSet } from '../metrics/prdc.js';
import { tensorData, type SafetensorsFile } from '../models/safetensors.js';
import { vendiScore } from '../metrics/vendi.js';
import { distinctN, tokenEntropy } from '../metrics/text.js';
import { classConsistency } from '../metrics/nll.js';
import type { Classified, EngineApi, EvalOptions, Metrics, ModelInfo } from '../worker/protocol.js';

/**
 * What evaluating needs of an engine: the classifiers, the NLL evaluator, model descriptions and
 * the classifiers' reference sets (`Engine` has them; declared here so sweep/ does not import it).
 */
export interface EvalEngine extends Pick<EngineApi, 'classify' | 'classifyText' | 'nll'> {
  modelInfo(id: string): ModelInfo;
  referenceSet(classifierId: string): Promise<ReferenceSet>;
}

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
function classifierMetrics(
  features: Float32Array,
  logits: Float32Array,
  n: number,
  requested: Uint32Array,
  ref: ReferenceSet,
  k: number,
  numClasses: number,
): Metrics {
  const d = ref.d;
  if (features.length !== n * d)
    throw new OpInputError('evaluate', `classifier features have ${features.length / n} dims, the reference set ${d}`);
  const out: Metrics = { consistency: classConsistency(logits, numClasses, requested) };
  // Vendi within each requested class (a class-conditional sampler's diversity), averaged over classes
  const classes = [...new Set(requested)];
  const vendis = classes
    .map((c) => rowsOf(features, d, requested, c))
    .filter((s) => s.n >= 2)
    .map((s) => vendiScore(s));
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

/** Run a classifier over n rows of `x` in chunks of ≤ `chunk` rows; features and logits concatenated. */
async function inChunks<T extends Float32Array | Uint32Array>(
  x: T,
  n: number,
  run: (rows: T, m: number) => Promise<Classified>,
  chunk = 128,
): Promise<Classified> {
  const per = x.length / n;
  const feats: Float32Array[] = [],
    logs: Float32Array[] = [];
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const r = await run(x.slice(i * per, (i + m) * per) as T, m);
    feats.push(r.features);
    logs.push(r.logits);
  }
  return { features: concat(feats), logits: concat(logs) };
}

/** Features and logits of images (n, H, W, C) in [0, 1], classified in chunks. */
export const classifyImages = (
  engine: Pick<EvalEngine, 'classify'>,
  classifier: string,
  images: Float32Array,
  n: number,
) => inChunks(images, n, (rows, m) => engine.classify(classifier, rows, m));

/** Features and logits of token rows (n, L), classified in chunks. */
export const classifyTokens = (
  engine: Pick<EvalEngine, 'classifyText'>,
  classifier: string,
  tokens: Uint32Array,
  n: number,
) => inChunks(tokens, n, (rows, m) => engine.classifyText(classifier, rows, m));

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Load a classifier's reference file (role "reference") and map it into the classifier's features. */
export async function computeReferenceSet(
  engine: EvalEngine,
  classifier: string,
  files: Map<string, SafetensorsFile>,
): Promise<ReferenceSet> {
  const info = engine.modelInfo(classifier);
  for (const [path, st] of files) {
    if (info.kind === 'classifier' && st.tensors.has('images')) {
      const t = st.tensors.get('images')!;
      const n = t.shape[0];
      const [H, W, C] = info.imageShape!;
      if (t.shape.length !== 4 || t.shape[1] !== H || t.shape[2] !== W || t.shape[3] !== C)
        throw new OpInputError(
          'reference',
          `${path}: images ${JSON.stringify(t.shape)} do not match the classifier's (n, ${H}, ${W}, ${C})`,
        );
      const raw = tensorData(st, 'images', path);
      const images = Float32Array.from(raw, (v) => v / 255);
      const labels = Uint32Array.from(tensorData(st, 'labels', path));
      const { features } = await classifyImages(engine, classifier, images, n);
      return { classifier, n, d: features.length / n, features, labels };
    }
    if (info.kind === 'text-classifier' && st.tensors.has('tokens')) {
      const t = st.tensors.get('tokens')!;
      const n = t.shape[0];
      if (t.shape.length !== 2 || t.shape[1] !== info.maxLength)
        throw new OpInputError(
          'reference',
          `${path}: tokens ${JSON.stringify(t.shape)} do not match the classifier's (n, ${info.maxLength})`,
        );
      const tokens = Uint32Array.from(tensorData(st, 'tokens', path));
      const labels = Uint32Array.from(tensorData(st, 'labels', path));
      const { features } = await classifyTokens(engine, classifier, tokens, n);
      return { classifier, n, d: features.length / n, features, labels };
    }
  }
  throw new OpInputError(
    'reference',
    `${classifier}: no reference file holds ${info.kind === 'classifier' ? '"images"' : '"tokens"'}`,
  );
}

/** An evaluation's inputs: n samples (images or token rows), the class each was asked for, the evaluators. */
type Evaluation<T> = [engine: EvalEngine, samples: T, n: number, requested: Uint32Array, o: EvalOptions];

/** The classifier's metrics of n samples, each asked for class `requested[i]` (`what`: a sample, in messages). */
async function classifierPart(
  [engine, , n, requested, o]: Evaluation<unknown>,
  what: string,
  classify: () => Promise<Classified>,
): Promise<Metrics> {
  if (requested.length !== n)
    throw new OpInputError('evaluate', `need one requested class per ${what} (${n}), got ${requested.length}`);
  const ref = await engine.referenceSet(o.classifier);
  const { features, logits } = await classify();
  const classes = engine.modelInfo(o.classifier).classes.length;
  return classifierMetrics(features, logits, n, requested, ref, o.k ?? 5, classes);
}

/** Every metric of images (n, H, W, C) in [0, 1], each asked for class `requested[i]`. */
export async function evaluateImages(...e: Evaluation<Float32Array>): Promise<Metrics> {
  const [engine, images, n, , o] = e;
  const m = await classifierPart(e, 'image', () => classifyImages(engine, o.classifier, images, n));
  return { ...m, realism: m.density, diversity: m.vendi };
}

/** Every metric of token rows (n, L), each asked for class `requested[i]`. */
export async function evaluateText(...e: Evaluation<Uint32Array>): Promise<Metrics> {
  const [engine, tokens, n, , o] = e;
  const L = tokens.length / n;
  const cinfo = engine.modelInfo(o.classifier);
  if (L !== cinfo.maxLength)
    throw new OpInputError('evaluate', `${o.classifier} reads ${cinfo.maxLength}-character texts; these have ${L}`);
  const m = await classifierPart(e, 'row', () => classifyTokens(engine, o.classifier, tokens, n));
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
