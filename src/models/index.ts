/** Load a model folder/URL onto a backend. */
import type { Backend } from '../backend/backend.js';
import { loadModelFiles, type LoadOptions } from './load.js';
import type { Model } from './model.js';
import { TransformerModel } from './transformer.js';

export async function loadModel(source: string, backend: Backend, opts: LoadOptions = {}): Promise<Model> {
  const { manifest, weights } = await loadModelFiles(source, opts);
  return new TransformerModel(manifest, weights, backend);
}

export type { Model, ForwardInput } from './model.js';
export type { ModelManifest } from './manifest.js';
export { loadModelFiles, loadManifest, sha256Hex, type LoadOptions, type LoadedModelFiles } from './load.js';
export { parseSafetensors, tensorData, writeSafetensors } from './safetensors.js';
export { TransformerModel } from './transformer.js';
