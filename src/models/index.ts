/** Load a model folder/URL onto a backend. */
import type { Backend } from '../backend/backend.js';
import { ModelFormatError } from '../errors.js';
import { CnnClassifier } from './classifier.js';
import { DitDenoiser } from './denoiser.js';
import { loadModelFiles, type LoadOptions } from './load.js';
import { isCnnManifest, isDitManifest, isTextManifest, type AnyManifest } from './manifest.js';
import type { ClassifierModel, DenoiserModel, Model } from './model.js';
import { TransformerModel } from './transformer.js';

function wrongKind(m: AnyManifest, want: string, use: string): never {
  throw new ModelFormatError('model-kind', `${m.name} is a ${m.architecture.type} model, not ${want}; load it with ${use}`, undefined, 'manifest.json');
}

const loaderFor = (m: AnyManifest) => (isTextManifest(m) ? 'loadModel' : isDitManifest(m) ? 'loadDenoiser' : 'loadClassifier');

/** A text model (transformer: MDM, AS-ARM, MaM). */
export async function loadModel(source: string, backend: Backend, opts: LoadOptions = {}): Promise<Model> {
  const { manifest, weights } = await loadModelFiles(source, opts);
  if (!isTextManifest(manifest)) wrongKind(manifest, 'a text transformer', loaderFor(manifest));
  return new TransformerModel(manifest, weights, backend);
}

/** An image denoiser (DiT). */
export async function loadDenoiser(source: string, backend: Backend, opts: LoadOptions = {}): Promise<DenoiserModel> {
  const { manifest, weights } = await loadModelFiles(source, opts);
  if (!isDitManifest(manifest)) wrongKind(manifest, 'an image denoiser', loaderFor(manifest));
  return new DitDenoiser(manifest, weights, backend);
}

/** An image classifier (CNN). */
export async function loadClassifier(source: string, backend: Backend, opts: LoadOptions = {}): Promise<ClassifierModel> {
  const { manifest, weights } = await loadModelFiles(source, opts);
  if (!isCnnManifest(manifest)) wrongKind(manifest, 'an image classifier', loaderFor(manifest));
  return new CnnClassifier(manifest, weights, backend);
}

export type { Model, ForwardInput, DenoiserModel, DenoiserInput, ClassifierModel } from './model.js';
export type { ModelManifest, AnyManifest, DitManifest, CnnManifest } from './manifest.js';
export { loadModelFiles, loadManifest, sha256Hex, type LoadOptions, type LoadedModelFiles } from './load.js';
export { parseSafetensors, tensorData, writeSafetensors } from './safetensors.js';
export { TransformerModel } from './transformer.js';
export { DitDenoiser, linearAlphasCumprod, timestepEmbedding } from './denoiser.js';
export { CnnClassifier } from './classifier.js';
