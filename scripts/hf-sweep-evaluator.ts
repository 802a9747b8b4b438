/**
 * A sweep whose realism axis is judged by a converted Hugging Face causal LM (issue 17): text-mdm's
 * ancestral sweep with, as evaluator, a causal LLaMA over text-mdm's 96 characters built here — config.json,
 * a BPE tokenizer.json with no merges (one token per character; [MASK] = 95, also the BOS) and weights
 * ~ U(±0.02·√3) — converted by `convertHfFolder` and loaded by path like any model. Its conditionals are close
 * to uniform over the 95 data characters, so the sweep's NLL must be close to ln 95 ≈ 4.554 (text-asarm's is
 * ~1.5); the script fails otherwise. Not part of `npm test` (the classifier's reference set and text-mdm's
 * sampling take ~25 s on lavapipe); the fast check of the same path is test/unit/hf-convert.test.ts (engine.nll).
 *
 *   node scripts/gen-shaders.mjs && bash scripts/with-gpu.sh npx tsx scripts/hf-sweep-evaluator.ts
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertHfFolder, hfTensorShapes, parseHfConfig, writeSafetensors } from '../src/models/index.js';
import { Engine } from '../src/worker/engine.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const chars = (
  JSON.parse(readFileSync(join(MODELS, 'text-mdm', 'manifest.json'), 'utf8')) as {
    tokenizer: { vocab: string[] };
  }
).tokenizer.vocab;
const dir = mkdtempSync(join(tmpdir(), 'hf-judge-'));
const config = {
  model_type: 'llama',
  vocab_size: 96,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  max_position_embeddings: 128,
  bos_token_id: 95,
  tie_word_embeddings: true,
};
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
const special = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
writeFileSync(
  join(dir, 'tokenizer.json'),
  JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 95, content: '[MASK]', ...special }],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(chars.map((c, i) => [c, i])),
      merges: [],
    },
  }),
);
// mulberry32, seeded: the same weights every run
let a = 1;
const uniform = () => {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const entries = [...hfTensorShapes(parseHfConfig(config))]
  .filter(([, w]) => !w.optional)
  .map(([name, w]) => {
    const n = w.shape.reduce((x, y) => x * y, 1);
    const data = name.endsWith('norm.weight')
      ? new Float32Array(n).fill(1)
      : Float32Array.from({ length: n }, () => (uniform() * 2 - 1) * 0.02 * Math.sqrt(3));
    return { name, dtype: 'F32' as const, shape: w.shape, data };
  });
writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(entries));
await convertHfFolder(dir, { name: 'hf-judge' });

const e = new Engine();
const be = await e.init('auto');
for (const n of ['text-mdm', 'text-classifier']) await e.loadModel(join(MODELS, n), { id: n });
const judge = await e.loadModel(dir, { id: 'hf-judge' });
const t0 = performance.now();
const [r] = await e.sweep({
  kind: 'text',
  model: 'text-mdm',
  sampler: 'ancestral',
  base: { steps: 2 },
  grid: { temperature: [1] },
  classes: [0, 1],
  perClass: 3,
  seed: 2,
  classifier: 'text-classifier',
  evaluator: 'hf-judge',
});
const ok = r.axes.realism === -r.metrics.nll && Math.abs(r.metrics.nll - Math.log(95)) < 0.05;
console.log(
  JSON.stringify({
    backend: be.name,
    evaluator: { folder: dir, attention: judge.attention },
    nll: r.metrics.nll,
    lnVocab: Math.log(95),
    realism: r.axes.realism,
    nfe: r.nfe,
    seconds: (performance.now() - t0) / 1000,
    ok,
  }),
);
e.dispose();
process.exit(ok ? 0 : 1);
