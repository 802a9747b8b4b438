// `samplescope convert` end to end (the CLI as a user runs it, on the CPU backend): the tiny
// bidirectional LLaMA converted and sampled with FHS, GPT-2 converted to f16 and sampled left to
// right; the converted causal LLaMA as the engine's NLL evaluator (the sweep's realism axis calls
// engine.nll) against the NLL from transformers' own logits, normalised over the data vocabulary as the
// evaluator does ([MASK] excluded; |Δ| ≤ 1e-5 nats per token); and what
// convert refuses — an unknown architecture (with the supported list), a shard index pointing outside
// the folder, no tokenizer, a masked-diffusion model without a mask token, an --attention that
// contradicts the architecture, a value outside f16's range — each before writing a manifest; sharded
// checkpoints (model.safetensors.index.json) convert and load, a truncated shard is refused naming it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.js';
import { convertHfFolder } from '../../src/models/hf/convert.js';
import { parseSafetensors, tensorData, writeSafetensors } from '../../src/models/safetensors.js';
import { Engine } from '../../src/worker/engine.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadModel } from '../../src/models/index.js';
import { convertedFixture, golden, HF_FIXTURES, type HfFixture } from '../util/hf.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/samplescope.mjs');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** two samples of length 8 on the CPU backend, seed 1 */
const sample = (model: string, ...more: string[]) =>
  cli(['sample', '--model', model, '--backend', 'cpu', '--n', '2', '--length', '8', '--seed', '1', ...more]);

/** a copy of fixture `name` (config.json, tokenizer.json, model.safetensors) to change */
function folder(name: HfFixture): string {
  const d = mkdtempSync(join(tmpdir(), `hf-cli-${name}-`));
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors'])
    copyFileSync(join(HF_FIXTURES, name, f), join(d, f));
  return d;
}

describe('samplescope convert, then sample', () => {
  it('bidirectional LLaMA: convert, then FHS; GPT-2: convert --dtype f16, then sequential', () => {
    const llama = folder('llama-bidir');
    const c1 = cli(['convert', llama, '--out', join(llama, 'm'), '--name', 'tiny-llada']);
    expect(c1.code, c1.stderr).toBe(0);
    expect(c1.stderr).toMatch(/llama masked-diffusion denoiser, vocab 96/);
    const s1 = sample(join(llama, 'm'), '--sampler', 'fhs');
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stdout.trim().split('\n')).toHaveLength(2);
    expect(s1.stderr).toMatch(/# model tiny-llada on cpu/);
    expect(s1.stderr).toMatch(/NFE \d+/);

    const gpt2 = folder('gpt2');
    const c2 = cli(['convert', gpt2, '--out', join(gpt2, 'm'), '--dtype', 'f16']);
    expect(c2.code, c2.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(gpt2, 'm', 'manifest.json'), 'utf8'));
    expect(m.architecture).toMatchObject({ type: 'hf', causal: true, vocab_size: 96, max_len: 32, bos_id: 2 });
    expect(m.weights_dtype).toBe('f16');
    const s2 = sample(join(gpt2, 'm'));
    expect(s2.code, s2.stderr).toBe(0);
    expect(s2.stderr).toMatch(/"sampler":"sequential"/);
    // a causal model samples left to right only
    const s3 = cli(['sample', '--model', join(gpt2, 'm'), '--backend', 'cpu', '--sampler', 'fhs', '--n', '1']);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toMatch(/--sampler .* must be one of sequential/);
  }, 30_000);

  it("the converted causal LLaMA is the engine's NLL evaluator: equal to transformers' logits' NLL", async () => {
    const dir = await convertedFixture('llama-causal');
    const e = new Engine();
    await e.init('cpu');
    await e.loadModel(dir, { id: 'judge' });
    const g = golden('llama-causal');
    const { B, T } = g;
    const L = T - 1; // fed [bos, x_0 … x_{L−2}]: the golden ids' first L positions
    const x = new Uint32Array(B * L);
    for (let b = 0; b < B; b++) x.set(g.ids.subarray(b * T + 1, (b + 1) * T), b * L);
    const got = await e.nll('judge', x, B, L);
    const V = 96;
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = 0; i < L; i++) {
        const row = g.logits.subarray((b * T + i) * V, (b * T + i + 1) * V).filter((_, v) => v !== 4);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        // the data vocabulary without [MASK] (id 4); the targets are ≥ 5, so their index shifts by one
        s += lse - row[x[b * L + i] - 1];
      }
      expect(Math.abs(got[b] - s / L), `row ${b}: ${got[b]} vs ${s / L}`).toBeLessThanOrEqual(1e-5);
    }
    e.dispose();
  });
});

describe('samplescope convert refuses bad folders before writing anything', () => {
  const refused = async (dir: string, re: RegExp, o: Parameters<typeof convertHfFolder>[1] = {}) => {
    const out = join(dir, 'out');
    const err = await convertHfFolder(dir, { out, ...o }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(re);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  };
  const edit = (dir: string, f: string, patch: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    patch(j);
    writeFileSync(join(dir, f), JSON.stringify(j));
  };

  it('unknown architecture (CLI: exit 1, the supported list), bad paths, missing files and tokens', async () => {
    const d = folder('bert');
    edit(d, 'config.json', (j) => (j.model_type = 'deberta-v2'));
    const r = cli(['convert', d, '--out', join(d, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /config\.json: model_type "deberta-v2" is not supported; supported architectures: llama, qwen2, mistral, llada, Dream, gpt2, bert, roberta/,
    );
    expect(existsSync(join(d, 'out', 'manifest.json'))).toBe(false);

    const traversal = folder('llama-bidir');
    writeFileSync(
      join(traversal, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'model.norm.weight': '../../etc/passwd' } }),
    );
    await refused(
      traversal,
      /model\.safetensors\.index\.json: .*"\.\.\/\.\.\/etc\/passwd" must be a plain file name inside the folder.*\[hf-path\]/,
    );

    const noTok = folder('llama-bidir');
    unlinkSync(join(noTok, 'tokenizer.json'));
    await refused(noTok, /tokenizer\.json: convert needs the folder's tokenizer\.json.*\[hf-missing-file\]/);
  });

  it('a masked-diffusion model without a mask token; --attention against the architecture; f16 range', async () => {
    const noMask = folder('llama-bidir');
    edit(noMask, 'config.json', (j) => delete j.mask_token_id);
    edit(noMask, 'tokenizer.json', (j) => {
      const t = j as { added_tokens: { content: string }[]; model: { vocab: Record<string, number> } };
      t.added_tokens = t.added_tokens.filter((a) => a.content !== '[MASK]');
      t.model.vocab['[MASK-GONE]'] = t.model.vocab['[MASK]'];
      delete t.model.vocab['[MASK]'];
    });
    await refused(noMask, /needs a mask token.*\[hf-mask-token\]/, { attention: 'bidirectional' });
    await refused(folder('gpt2'), /a gpt2 model is causal; --attention bidirectional contradicts it/, {
      attention: 'bidirectional',
    });

    const big = folder('llama-causal');
    const st = readFileSync(join(big, 'model.safetensors'));
    const w = new Float32Array(32).fill(1);
    w[3] = 1e6;
    // the causal fixture's final norm gain, scaled past f16's range: refused by --dtype f16, kept by f32
    const f = parseSafetensors(new Uint8Array(st));
    const entries = [...f.tensors.keys()].map((name) => ({
      name,
      dtype: 'F32' as const,
      shape: f.tensors.get(name)!.shape,
      data: name === 'model.norm.weight' ? w : (tensorData(f, name) as Float32Array),
    }));
    writeFileSync(join(big, 'model.safetensors'), writeSafetensors(entries));
    await refused(big, /tensor "model\.norm\.weight": value 1000000 is outside f16's range.*\[f16-range\]/, {
      dtype: 'f16',
    });
    expect((await convertHfFolder(big, { out: join(big, 'f32'), dtype: 'f32' })).weights_dtype).toBe('f32');
  });
});

describe('sharded checkpoints', () => {
  it('a model.safetensors.index.json folder converts and loads with the same logits; a truncated shard is refused', async () => {
    const d = folder('llama-bidir');
    const f = parseSafetensors(new Uint8Array(readFileSync(join(d, 'model.safetensors'))));
    const names = [...f.tensors.keys()];
    const shard = (part: string[]) =>
      writeSafetensors(
        part.map((name) => ({
          name,
          dtype: 'F32' as const,
          shape: f.tensors.get(name)!.shape,
          data: tensorData(f, name) as Float32Array,
        })),
      );
    const half = Math.ceil(names.length / 2);
    const files = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    writeFileSync(join(d, files[0]), shard(names.slice(0, half)));
    writeFileSync(join(d, files[1]), shard(names.slice(half)));
    unlinkSync(join(d, 'model.safetensors'));
    const weightMap = Object.fromEntries(names.map((n, i) => [n, files[i < half ? 0 : 1]]));
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const m = await convertHfFolder(d, { out: join(d, 'm') });
    expect(m.files.filter((x) => x.role === 'weights').map((x) => x.path)).toEqual(files);
    // the index is listed, so the model streams by default (a progress report per tensor, not per file)
    expect(m.files.filter((x) => x.role === 'weights-index').map((x) => x.path)).toEqual([
      'model.safetensors.index.json',
    ]);
    const be = new CpuBackend();
    const seen: string[] = [];
    const model = await loadModel(join(d, 'm'), be, { onProgress: (p) => seen.push(p.file) });
    expect(seen.length).toBeGreaterThan(names.length);
    const g = golden('llama-bidir');
    const got = (await be.read(model.forward({ tokens: g.ids, batch: g.B, length: g.T }))) as Float32Array;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - g.logits[i]));
    expect(worst).toBeLessThan(2e-5);
    // a shard cut short: a ModelFormatError naming it, nothing written
    const bytes = readFileSync(join(d, files[1]));
    writeFileSync(join(d, files[1]), bytes.subarray(0, bytes.length - 100));
    const err = await convertHfFolder(d, { out: join(d, 'cut') }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/^model-00002-of-00002\.safetensors: /);
    expect(existsSync(join(d, 'cut', 'manifest.json'))).toBe(false);
  });
});
