/**
 * The HF fixtures (test/fixtures/hf, made by transformers — see its README): convert a fixture folder
 * with one of its weight files into a temporary model folder, and read its golden logits.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertHfFolder, type ConvertOptions } from '../../src/models/hf/convert.js';
import { parseSafetensors, tensorData } from '../../src/models/safetensors.js';
import { shardedCopy, type ShardEdits } from './shards.js';

export const HF_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');
export type HfFixture = 'llama-bidir' | 'llama-causal' | 'gpt2' | 'bert' | 'roberta' | 'llada' | 'dream' | 'llama-rope';
export type HfWeights = 'f32' | 'f16' | 'bf16';
/** every fixture, and whether it is a causal LM */
export const HF_CASES: [HfFixture, boolean][] = [
  ['llama-bidir', false],
  ['llama-causal', true],
  ['gpt2', true],
  ['bert', false],
  ['roberta', false],
  ['llada', false],
  ['dream', false],
  ['llama-rope', true],
];

/** A copy of fixture `name` whose model.safetensors is the `dtype` file, converted; returns the model folder. */
export async function convertedFixture(
  name: HfFixture,
  dtype: HfWeights = 'f32',
  o: ConvertOptions = {},
): Promise<string> {
  const src = mkdtempSync(join(tmpdir(), `hf-${name}-`));
  const from = join(HF_FIXTURES, name);
  for (const f of ['config.json', 'tokenizer.json']) copyFileSync(join(from, f), join(src, f));
  copyFileSync(
    join(from, dtype === 'f32' ? 'model.safetensors' : `model-${dtype}.safetensors`),
    join(src, 'model.safetensors'),
  );
  const out = join(src, 'converted');
  await convertHfFolder(src, { out, name: `${name}-${dtype}`, ...o });
  return out;
}

/**
 * Fixture `name` converted (weights `dtype` left as they are), then split into `n` shards with a
 * model.safetensors.index.json (test/util/shards.ts; `edits` may break a header or a shard's bytes).
 */
export async function shardedFixture(
  name: HfFixture,
  dtype: HfWeights,
  n: number,
  edits: ShardEdits = {},
): Promise<{ whole: string; sharded: string }> {
  const whole = await convertedFixture(name, dtype);
  return { whole, sharded: shardedCopy(whole, n, edits) };
}

/** input_ids (2, 8) and transformers' logits (2, 8, V) for the weights of `dtype` */
export function golden(
  name: HfFixture,
  dtype: HfWeights = 'f32',
): { ids: Uint32Array; logits: Float32Array; B: number; T: number } {
  const f = parseSafetensors(new Uint8Array(readFileSync(join(HF_FIXTURES, name, 'golden.safetensors'))));
  const ids = tensorData(f, 'input_ids') as Int32Array;
  const [B, T] = f.tensors.get('input_ids')!.shape;
  return { ids: Uint32Array.from(ids), logits: tensorData(f, `logits_${dtype}`) as Float32Array, B, T };
}

export { forwardTokens } from './causal.js';
