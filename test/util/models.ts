import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModelFiles } from '../../src/models/load.js';
import { tensorData } from '../../src/models/safetensors.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Golden tensors of a model folder (its file with role "golden"). */
export async function golden(dir: string): Promise<Record<string, Float32Array | Int32Array | Uint32Array>> {
  const f = await loadModelFiles(dir, { roles: ['golden'] });
  const g = f.files.get('golden.safetensors')!;
  const out: Record<string, Float32Array | Int32Array | Uint32Array> = {};
  for (const name of g.tensors.keys()) out[name] = tensorData(g, name);
  return out;
}

export const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

/** Names of the committed models (models/<name>/manifest.json) of one architecture type. */
export function modelNames(type: 'transformer' | 'dit' | 'cnn' | 'textcnn'): string[] {
  if (!existsSync(MODELS)) return [];
  return readdirSync(MODELS)
    .filter((n) => existsSync(`${MODELS}${n}/manifest.json`))
    .filter((n) => JSON.parse(readFileSync(`${MODELS}${n}/manifest.json`, 'utf8')).architecture?.type === type)
    .sort();
}
