/** Load a model folder/URL onto a backend. */
import type { Backend } from '../backend/backend.js';
import { ModelFormatError, SamplerConfigError } from '../errors.js';
import { CnnClassifier } from './classifier.js';
import { DitDenoiser } from './denoiser.js';
import { loadManifest, loadModelFiles, loadTextTokenizer, type LoadedTensor, type LoadOptions } from './load.js';
import { freeUnadopted, streamWeights, type StreamPlan } from './stream.js';
import type { TextTokenizer } from './tokenizer.js';
import {
  isCnnManifest,
  isDitManifest,
  isHfManifest,
  isTextCnnManifest,
  isTextManifest,
  type AnyManifest,
  type DitManifest,
  type ModelManifest,
  type TextManifest,
} from './manifest.js';

import type { ClassifierModel, DenoiserModel, TextClassifierModel } from './model.js';
import { TextCnnClassifier } from './text_classifier.js';
import { TransformerModel } from './transformer.js';
import { HfTextModel } from './hf/model.js';
import { hfStreamPlan } from './hf/stream.js';

function wrongKind(m: AnyManifest, want: string, use: string): never {
  throw new ModelFormatError(
    'model-kind',
    `${m.name} is a ${m.architecture.type} model, not ${want}; load it with ${use}`,
    undefined,
    'manifest.json',
  );
}

const loaderFor = (m: AnyManifest) =>
  isTextManifest(m) || isHfManifest(m)
    ? 'loadModel'
    : isDitManifest(m)
      ? 'loadDenoiser'
      : isTextCnnManifest(m)
        ? 'loadTextClassifier'
        : 'loadClassifier';

/** Load a model folder's files and build the model, if its manifest is of the kind `is` accepts. */
async function loadAs<M extends AnyManifest, T>(
  source: string,
  opts: LoadOptions,
  is: (m: AnyManifest) => m is M,
  want: string,
  build: (manifest: M, weights: Map<string, LoadedTensor>) => T,
): Promise<T> {
  const { manifest, weights } = await loadModelFiles(source, opts);
  if (!is(manifest)) wrongKind(manifest, want, loaderFor(manifest));
  return build(manifest, weights);
}

/**
 * A model's manifest and weights: streamed onto `backend` tensor by tensor (LoadOptions.stream; by
 * default for a sharded checkpoint) or read whole. `want` refuses a manifest of another kind first, and
 * may return the architecture's StreamPlan (what it keeps on the host, how it checks the headers).
 */
async function modelWeights(
  source: string,
  backend: Backend,
  opts: LoadOptions,
  want: (m: AnyManifest) => StreamPlan | void,
): Promise<{ manifest: AnyManifest; weights: Map<string, LoadedTensor> }> {
  const manifest = await loadManifest(source, opts);
  const plan = want(manifest);
  if (!(opts.stream ?? manifest.files.some((f) => f.role === 'weights-index')))
    return { manifest, weights: (await loadModelFiles(source, opts)).weights };
  return { manifest, weights: await streamWeights(source, manifest, backend, opts, plan ?? {}) };
}

/**
 * Build a model from loaded weights. Nothing is half-loaded: a build that throws frees what it
 * uploaded (scoped) and every streamed tensor; a build that succeeds frees the streamed tensors it
 * did not take (checkpoint entries the architecture does not use).
 */
function buildModel<T>(backend: Backend, weights: Map<string, LoadedTensor>, build: () => T): T {
  let m: T;
  try {
    m = backend.scoped(build);
  } catch (e) {
    freeUnadopted(weights, backend, true);
    throw e;
  }
  freeUnadopted(weights, backend);
  return m;
}

/** A text model: our transformer (MDM, AS-ARM, MaM) or a published architecture (src/models/hf/). */
export async function loadModel(
  source: string,
  backend: Backend,
  opts: LoadOptions = {},
): Promise<TransformerModel | HfTextModel> {
  // published architectures (src/models/hf/) stream like ours, keeping on the host only the small
  // tensors they reshape at build, their headers checked against config.json and the adapter first
  const isText = (m: AnyManifest) => {
    if (!isTextManifest(m) && !isHfManifest(m)) wrongKind(m, 'a text transformer', loaderFor(m));
    return isHfManifest(m) ? hfStreamPlan(m, backend, opts) : undefined;
  };
  const { manifest, weights } = await modelWeights(source, backend, opts, isText);
  let tokenizer: TextTokenizer;
  try {
    // before the model is built: an hf tokenizer fills in the manifest's mask_id
    tokenizer = await loadTextTokenizer(source, manifest as TextManifest, opts);
  } catch (e) {
    freeUnadopted(weights, backend, true);
    throw e;
  }
  const m = buildModel(backend, weights, () =>
    isHfManifest(manifest)
      ? new HfTextModel(manifest, weights, backend, undefined, opts)
      : new TransformerModel(manifest as ModelManifest, weights, backend, opts),
  );
  m.tokenizer = tokenizer;
  return m;
}

/** An image denoiser (DiT). */
export function loadDenoiser(source: string, backend: Backend, opts: LoadOptions = {}): Promise<DenoiserModel> {
  return loadAs(source, opts, isDitManifest, 'an image denoiser', (m, w) =>
    buildModel(backend, w, () => new DitDenoiser(m, w, backend, opts)),
  );
}

/**
 * A denoiser whose weights are (1 − λ)·A + λ·B of two checkpoints of the same architecture and
 * schedule (e.g. digits-diffusion and its few-step student digits-fewstep): the λ knob.
 */
export async function loadInterpolatedDenoiser(
  a: string,
  b: string,
  lambda: number,
  backend: Backend,
  opts: LoadOptions = {},
): Promise<DenoiserModel> {
  if (!(lambda >= 0 && lambda <= 1)) throw new SamplerConfigError('lambda', 'in [0, 1]', lambda);
  // mixed in f32 (a mixture of two f16 checkpoints is not f16); stored as `opts.weights` asks
  const f32 = { ...opts, weights: 'f32' as const };
  const [fa, fb] = [await loadModelFiles(a, f32), await loadModelFiles(b, f32)];
  for (const f of [fa, fb])
    if (!isDitManifest(f.manifest)) wrongKind(f.manifest, 'an image denoiser', loaderFor(f.manifest));
  const [ma, mb] = [fa.manifest as DitManifest, fb.manifest as DitManifest];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const {
    sampler: _sa,
    recommended_steps: _ra,
    ...da
  } = ma.diffusion as DitManifest['diffusion'] & Record<string, unknown>;
  const {
    sampler: _sb,
    recommended_steps: _rb,
    ...db
  } = mb.diffusion as DitManifest['diffusion'] & Record<string, unknown>;
  if (!same(ma.architecture, mb.architecture) || !same(da, db) || !same(ma.classes, mb.classes)) {
    throw new ModelFormatError(
      'model-kind',
      `${ma.name} and ${mb.name} differ in architecture, schedule or classes; only like models interpolate`,
      undefined,
      'manifest.json',
    );
  }
  const mixed = new Map<string, LoadedTensor>();
  for (const [name, ta] of fa.weights) {
    const tb = fb.weights.get(name);
    if (!tb || !same(ta.shape, tb.shape))
      throw new ModelFormatError('weight-shape', `missing or differently shaped in ${mb.name}`, name);
    const x = ta.data as Float32Array,
      y = tb.data as Float32Array;
    mixed.set(name, { shape: ta.shape, data: Float32Array.from(x, (v, i) => (1 - lambda) * v + lambda * y[i]) });
  }
  return backend.scoped(
    () => new DitDenoiser({ ...ma, name: `${ma.name}×${mb.name}@${lambda}` }, mixed, backend, opts),
  );
}

/** An image classifier (CNN). */
export function loadClassifier(source: string, backend: Backend, opts: LoadOptions = {}): Promise<ClassifierModel> {
  return loadAs(source, opts, isCnnManifest, 'an image classifier', (m, w) => new CnnClassifier(m, w, backend));
}

/** A text classifier (character CNN). */
export function loadTextClassifier(
  source: string,
  backend: Backend,
  opts: LoadOptions = {},
): Promise<TextClassifierModel> {
  return loadAs(source, opts, isTextCnnManifest, 'a text classifier', (m, w) => new TextCnnClassifier(m, w, backend));
}

export type {
  Model,
  ForwardInput,
  DecodeCache,
  DecodeInput,
  DenoiserModel,
  DenoiserInput,
  ClassifierModel,
  TextClassifierModel,
} from './model.js';
export type {
  ModelManifest,
  AnyManifest,
  DitManifest,
  CnnManifest,
  TextCnnManifest,
  OnnxManifest,
  OnnxArchitecture,
  TextManifest,
  MamCalibrationRecord,
  MarginalForm,
  HfManifest,
  HfArchitecture,
} from './manifest.js';
export { TextCnnClassifier } from './text_classifier.js';
export {
  loadModelFiles,
  loadRoleFiles,
  loadManifest,
  sha256Hex,
  type LoadOptions,
  type LoadedModelFiles,
} from './load.js';
export { parseSafetensors, tensorData, writeSafetensors } from './safetensors.js';
export { streamWeights } from './stream.js';
export { TransformerModel } from './transformer.js';
export { HfTextModel } from './hf/model.js';
export { convertHfFolder, type ConvertOptions } from './hf/convert.js';
export { parseHfConfig, HF_MODEL_TYPES, type HfSpec, type HfModelType, type HfFamily } from './hf/config.js';
export { checkHfWeights, hfTensorShapes } from './hf/names.js';
export { loadOnnxDenoiser, loadOnnxModel, OnnxDenoiser, OnnxTextModel, planOnnx, type OnnxPlan } from './onnx.js';
export { DitDenoiser, linearAlphasCumprod, timestepEmbedding } from './denoiser.js';
export { CnnClassifier } from './classifier.js';
