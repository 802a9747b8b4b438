// Published architectures (src/models/hf/) on the CPU twins against transformers' own logits
// (test/fixtures/hf: LLaMA bidirectional and causal with GQA, GPT-2, BERT, RoBERTa; f32, f16 and bf16
// weights), each converted by convertHfFolder and loaded by loadModel — the whole path. Tolerance:
// |Δ| ≤ 2e-5 + 1e-5·|ref| (f32 weights on both sides; the twins accumulate in f64, torch in f32; measured
// worst 2.7e-6 on logits up to 4.4, while the f32 and bf16 weights' logits differ by 9e-3 … 9e-2).
// Then the bad inputs: config keys missing or contradicting, an unknown model_type, tensors misnamed,
// missing or misshaped — typed errors naming file, tensor and rule.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { ModelFormatError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { validateManifest } from '../../src/models/manifest.js';
import { parseSafetensors, tensorData } from '../../src/models/safetensors.js';
import { parseHfConfig, ropeFrequencies } from '../../src/models/hf/config.js';
import { checkHfWeights, hfTensorShapes } from '../../src/models/hf/names.js';
import type { LoadedTensor } from '../../src/models/load.js';
import { convertedFixture, forwardTokens, golden, type HfFixture, type HfWeights } from '../util/hf.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HF_CASES, HF_FIXTURES } from '../util/hf.js';

function expectLogits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) - 1e-5 * Math.abs(want[i]));
  expect(worst, `${what}: worst |Δ| − rtol·|ref|`).toBeLessThanOrEqual(2e-5);
}

const cases = HF_CASES;

describe('HF architectures on the CPU twins vs transformers', () => {
  for (const [name, causal] of cases)
    it(`${name}: converted, loaded, logits equal transformers' for f32, f16 and bf16 weights`, async () => {
      const be = new CpuBackend();
      for (const dtype of ['f32', 'f16', 'bf16'] as HfWeights[]) {
        const dir = await convertedFixture(name, dtype);
        const m = await loadModel(dir, be);
        expect(m.attention).toBe(causal ? 'causal' : 'bidirectional');
        const g = golden(name, dtype);
        const logits = m.forward({ tokens: forwardTokens(g.ids, g.B, g.T, causal), batch: g.B, length: g.T });
        expectLogits((await be.read(logits)) as Float32Array, g.logits, `${name} ${dtype}`);
        be.free(logits);
        if (!causal) expect(m.maskId).toBe(4);
        m.dispose();
      }
    });
});

describe("the fixtures' manifests are what convert writes", () => {
  it('test/fixtures/hf/*/manifest.json equal a fresh convert of the same folder (the e2e test loads them)', async () => {
    for (const [name] of cases) {
      const committed = JSON.parse(readFileSync(join(HF_FIXTURES, name, 'manifest.json'), 'utf8'));
      const again = JSON.parse(
        readFileSync(join(await convertedFixture(name, 'f32', { name }), 'manifest.json'), 'utf8'),
      );
      expect(again, name).toEqual(committed);
    }
  });
});

const config = (name: HfFixture) => JSON.parse(readFileSync(join(HF_FIXTURES, name, 'config.json'), 'utf8'));

describe('rope_scaling', () => {
  it("linear, llama3 and yarn frequencies (and yarn's cos/sin factor) equal transformers' modeling_rope_utils", () => {
    const c = config('llama-rope');
    const f = parseSafetensors(new Uint8Array(readFileSync(join(HF_FIXTURES, 'llama-rope', 'golden.safetensors'))));
    const kinds: Record<string, object> = {
      linear: { rope_type: 'linear', factor: 2.0 },
      yarn: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 },
      yarn_mscale: {
        rope_type: 'yarn',
        factor: 4.0,
        original_max_position_embeddings: 16,
        mscale: 0.707,
        mscale_all_dim: 1.0,
        beta_fast: 16.0,
      },
      llama3: c.rope_scaling,
    };
    for (const [kind, rs] of Object.entries(kinds)) {
      const want = tensorData(f, `rope_${kind}`) as Float32Array; // inv_freq …, then the factor
      const got = ropeFrequencies(parseHfConfig({ ...c, rope_scaling: rs }));
      const inv = [...got.invFreq!, got.scale ?? 1];
      expect(inv.length, kind).toBe(want.length);
      // transformers computes in f32: agreement to f32 rounding
      inv.forEach((x, i) =>
        expect(Math.abs(x - want[i]), `${kind} [${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(x))),
      );
      // and they differ from plain RoPE, so the check says something
      expect(
        inv.slice(0, -1).some((x, i) => Math.abs(x - Math.pow(10000, -i / 4)) > 1e-3),
        kind,
      ).toBe(true);
    }
    expect(ropeFrequencies(parseHfConfig({ ...c, rope_scaling: null }))).toEqual({});
  });
});

describe('HF bad input', () => {
  it('config: missing and contradicting keys, unknown model_type (listing the supported ones)', () => {
    const c = config('llama-bidir');
    const bad = (patch: Record<string, unknown>, re: RegExp) => {
      const x = { ...c, ...patch };
      for (const k of Object.keys(patch)) if (patch[k] === undefined) delete x[k];
      const e = (() => {
        try {
          parseHfConfig(x, 'config.json');
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(ModelFormatError);
      expect((e as Error).message).toMatch(re);
      expect((e as Error).message).toMatch(/^config\.json: /);
    };
    bad({ hidden_size: undefined }, /needs "hidden_size" \(missing\).*\[hf-config-key\]/);
    bad({ hidden_size: 30, head_dim: undefined }, /not divisible by 4 attention heads.*\[hf-config-heads\]/);
    bad({ num_key_value_heads: 3 }, /3 key\/value heads do not divide 4.*\[hf-config-heads\]/);
    bad(
      { model_type: 'mamba' },
      /"mamba" is not supported; supported architectures: llama, qwen2, mistral, llada, Dream, gpt2, bert, roberta/,
    );
    bad({ model_type: undefined }, /model_type" is missing.*\[hf-architecture\]/);
    bad({ hidden_act: 'relu' }, /hidden_act.*not supported.*\[hf-config-unsupported\]/);
    bad(
      { rope_scaling: { rope_type: 'longrope', factor: 2 } },
      /"rope_scaling" type "longrope" is not supported \(supported: default, linear, dynamic, llama3, yarn\)/,
    );
    bad({ rope_scaling: { rope_type: 'linear' } }, /rope_scaling" needs "factor" \(missing\)/);
    bad({ partial_rotary_factor: 0.5 }, /"partial_rotary_factor" = 0\.5 is not supported/);
    // dynamic NTK is plain RoPE up to max_position_embeddings and changes past it: capped there
    expect(parseHfConfig({ ...c, rope_scaling: { type: 'dynamic', factor: 2 } })).toMatchObject({ maxLen: 32 });
    expect(parseHfConfig({ ...c, rope_scaling: { type: 'dynamic', factor: 2 } }).ropeScaling).toBeUndefined();
    bad({ bos_token_id: 96 }, /"bos_token_id" 96 is outside the vocabulary/);
    expect(parseHfConfig(c).kvHeads).toBe(2);
    // Mistral's sliding window equals full attention up to its width: the model is capped there
    expect(parseHfConfig({ ...c, model_type: 'mistral', sliding_window: 16 }).maxLen).toBe(16);
    expect(parseHfConfig({ ...c, model_type: 'mistral', sliding_window: null }).maxLen).toBe(32);
    expect(parseHfConfig({ ...c, model_type: 'qwen2' })).toMatchObject({ qkvBias: true, oBias: false });
    expect(parseHfConfig(config('dream'))).toMatchObject({ qkvBias: true, oBias: false, logitShift: true });
    // LLaDA: OLMo's keys; the options its released models do not use are refused by name
    const l = config('llada');
    expect(parseHfConfig(l)).toMatchObject({ d: 32, heads: 4, kvHeads: 2, ff: 48, attention: 'bidirectional' });
    const badL = (patch: Record<string, unknown>, re: RegExp) =>
      expect(() => parseHfConfig({ ...l, ...patch })).toThrow(re);
    badL({ block_type: 'sequential' }, /"block_type" = "sequential" is not supported .*supported: "llama"/);
    badL({ activation_type: 'swiglu' }, /"activation_type" = "swiglu" is not supported/);
    badL({ layer_norm_type: 'default' }, /"layer_norm_type" = "default"/);
    badL({ include_bias: true }, /"include_bias" = true is not supported/);
    badL({ scale_logits: true }, /"scale_logits" = true/);
    badL({ rope: false }, /"rope" = false/);
    badL({ embedding_size: 128 }, /"embedding_size" 128 ≠ "vocab_size" 96: padded embedding rows/);
    badL({ mask_token_id: 96 }, /"mask_token_id" 96 is outside the vocabulary/);
    expect(parseHfConfig({ ...l, multi_query_attention: true }).kvHeads).toBe(1);
  });

  it("weights: a misnamed, missing or misshaped tensor, another family's checkpoint, extra layers", () => {
    const s = parseHfConfig(config('llama-bidir'));
    const t = (shape: number[]): LoadedTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    // a complete checkpoint of the shapes the config implies, then one thing wrong at a time
    const full = new Map<string, LoadedTensor>();
    for (const [n, w] of hfTensorShapes(s)) if (!w.optional) full.set(n, t(w.shape));
    expect(full.get('model.layers.1.self_attn.k_proj.weight')!.shape).toEqual([16, 32]);
    const ok = () => new Map(full);
    expect(checkHfWeights(s, ok()).size).toBe(full.size);
    const err = (m: Map<string, LoadedTensor>, re: RegExp) => {
      expect(() => checkHfWeights(s, m, 'model.safetensors')).toThrow(ModelFormatError);
      expect(() => checkHfWeights(s, m, 'model.safetensors')).toThrow(re);
    };
    const renamed = ok();
    renamed.set('model.layers.0.attn.q.weight', renamed.get('model.layers.0.self_attn.q_proj.weight')!);
    renamed.delete('model.layers.0.self_attn.q_proj.weight');
    err(
      renamed,
      /model\.safetensors: tensor "model\.layers\.0\.attn\.q\.weight": not a tensor of a llama checkpoint.*\[hf-tensor-name\]/,
    );
    const missing = ok();
    missing.delete('lm_head.weight');
    err(missing, /tensor "lm_head\.weight".*needs it, shape \[96, 32\].*\[hf-missing-tensor\]/);
    const shaped = ok();
    shaped.set('model.layers.1.self_attn.k_proj.weight', t([32, 32]));
    err(shaped, /k_proj\.weight": shape \[32, 32\], but config\.json implies \[16, 32\].*\[hf-tensor-shape\]/);
    const deeper = ok();
    deeper.set('model.layers.2.input_layernorm.weight', t([32]));
    err(deeper, /model\.layers\.2\.input_layernorm\.weight": not a tensor of a llama checkpoint with 2 layers/);
    const gpt = new Map([['transformer.wte.weight', t([96, 32])]]);
    err(gpt, /transformer\.wte\.weight": not a tensor of a llama/);
    // LLaDA's own names map onto the table; a missing or unknown one is named as LLaDA names it
    const ls = parseHfConfig(config('llada'));
    const llada = new Map<string, LoadedTensor>();
    for (const [n, w] of hfTensorShapes(ls))
      if (!w.optional)
        llada.set(
          n
            .replace('model.embed_tokens.', 'model.transformer.wte.')
            .replace('model.norm.', 'model.transformer.ln_f.')
            .replace('lm_head.', 'model.transformer.ff_out.')
            .replace(/^model\.layers\.(\d+)\./, 'model.transformer.blocks.$1.')
            .replace('input_layernorm', 'attn_norm')
            .replace('post_attention_layernorm', 'ff_norm')
            .replace('self_attn.o_proj', 'attn_out')
            .replace('self_attn.', '')
            .replace('mlp.gate_proj', 'ff_proj')
            .replace('mlp.up_proj', 'up_proj')
            .replace('mlp.down_proj', 'ff_out'),
          t(w.shape),
        );
    expect(checkHfWeights(ls, llada).get('model.layers.1.mlp.gate_proj.weight')!.shape).toEqual([48, 32]);
    const noGate = new Map(llada);
    noGate.delete('model.transformer.blocks.1.ff_proj.weight');
    expect(() => checkHfWeights(ls, noGate)).toThrow(
      /tensor "model\.transformer\.blocks\.1\.ff_proj\.weight".*needs it, shape \[48, 32\].*\[hf-missing-tensor\]/,
    );
    const att = new Map(llada);
    att.set('model.transformer.blocks.0.att_proj.weight', t([64, 32]));
    expect(() => checkHfWeights(ls, att)).toThrow(
      /"model\.transformer\.blocks\.0\.att_proj\.weight": not a tensor of a llada/,
    );
    // TF-era LayerNorm names (gamma / beta) read as weight / bias, as transformers renames them
    const b = parseHfConfig(config('bert'));
    const bert = new Map<string, LoadedTensor>();
    for (const [n, w] of hfTensorShapes(b))
      if (!w.optional)
        bert.set(
          n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
          t(w.shape),
        );
    expect([...bert.keys()].filter((n) => n.endsWith('.gamma')).length).toBe(2 * 2 + 2);
    expect(checkHfWeights(b, bert).has('bert.embeddings.LayerNorm.weight')).toBe(true);
    // GPT-2 hub files name tensors without "transformer.", and carry the causal-mask buffers attn.bias
    const g2 = parseHfConfig(config('gpt2'));
    const hub = new Map<string, LoadedTensor>();
    for (const [n, w] of hfTensorShapes(g2)) if (!w.optional) hub.set(n.replace(/^transformer\./, ''), t(w.shape));
    hub.set('h.0.attn.bias', t([1, 1, 32, 32]));
    const read = checkHfWeights(g2, hub);
    expect(read.has('transformer.h.1.attn.c_attn.weight') && !read.has('h.0.attn.bias')).toBe(true);
    // buffers HF checkpoints carry are known and skipped
    const buffers = ok();
    buffers.set('model.layers.0.self_attn.rotary_emb.inv_freq', t([4]));
    expect(checkHfWeights(s, buffers).has('model.layers.0.self_attn.rotary_emb.inv_freq')).toBe(false);
  });
});

describe('hf manifests', () => {
  const manifest = () => JSON.parse(readFileSync(join(HF_FIXTURES, 'gpt2', 'manifest.json'), 'utf8'));
  it('validate against their config: causal flag, sizes, BOS; a bad config is refused at validation', () => {
    expect(validateManifest(manifest()).architecture.type).toBe('hf');
    const bad = (edit: (m: Record<string, any>) => void, re: RegExp) => {
      const m = manifest();
      edit(m);
      expect(() => validateManifest(m)).toThrow(ModelFormatError);
      expect(() => validateManifest(m)).toThrow(re);
    };
    bad((m) => (m.architecture.causal = false), /a gpt2 model is causal/);
    // LLaDA and Dream are masked-diffusion LMs by architecture
    for (const [type, cfg] of [
      ['llada', config('llada')],
      ['Dream', config('dream')],
    ] as const)
      bad(
        (m) => {
          m.architecture.config = cfg;
          m.architecture.bos_id = 2;
        },
        new RegExp(`a ${type} model is bidirectional \\(architecture\\.causal false\\)`),
      );
    bad((m) => (m.architecture.vocab_size = 97), /vocab_size 97 contradicts config's 96/);
    bad((m) => (m.architecture.max_len = 33), /max_len must be an integer in \[1, 32\]/);
    bad(
      (m) => (m.architecture.config.n_head = 5),
      /manifest\.json architecture\.config: hidden size 32 is not divisible by 5/,
    );
    bad((m) => (m.architecture.config.model_type = 't5'), /"t5" is not supported; supported architectures: llama/);
    bad((m) => {
      delete m.architecture.bos_id;
      delete m.architecture.config.bos_token_id;
    }, /needs architecture\.bos_id/);
  });
});

describe('convert --dtype f16', () => {
  it("rounds as torch does: the rewritten tensors are bit-identical to torch's f16 copy, the logits transformers'", async () => {
    for (const [name, causal] of cases) {
      const dir = await convertedFixture(name, 'f32', { dtype: 'f16' });
      const ours = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
      const torch = parseSafetensors(new Uint8Array(readFileSync(join(HF_FIXTURES, name, 'model-f16.safetensors'))));
      expect([...ours.tensors.keys()].sort(), name).toEqual([...torch.tensors.keys()].sort());
      for (const [t, a] of ours.tensors) {
        const b = torch.tensors.get(t)!;
        expect(a.dtype).toBe('F16');
        expect(
          Buffer.from(ours.data.subarray(a.begin, a.end)).equals(Buffer.from(torch.data.subarray(b.begin, b.end))),
          `${name} ${t}`,
        ).toBe(true);
      }
      const be = new CpuBackend();
      const m = await loadModel(dir, be);
      const g = golden(name, 'f16');
      const logits = m.forward({ tokens: forwardTokens(g.ids, g.B, g.T, causal), batch: g.B, length: g.T });
      expectLogits((await be.read(logits)) as Float32Array, g.logits, `${name} converted to f16`);
      m.dispose();
    }
  });
});
