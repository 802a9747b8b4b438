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
