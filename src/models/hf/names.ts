/**
 * A Hugging Face checkpoint's tensor names and shapes for each family, from the config (HfSpec):
 * what must be there, what may be (tied weights HF omits on save), and what is known but unused
 * (buffers such as rotary inv_freq and GPT-2's causal-mask `attn.bias`, BERT's pooler and NSP head).
 * `checkHfWeights` checks a loaded weight map against it before anything is uploaded: a missing
 * tensor, a shape the config contradicts or a name that belongs to no tensor of this architecture
 * (another family's checkpoint, more layers than the config says) is a ModelFormatError naming the
 * file, the tensor and the rule, so nothing is half-loaded.
 */
import { ModelFormatError } from '../../errors.js';
import type { LoadedTensor } from '../load.js';
import type { HeaderEntry } from '../stream.js';
import type { HfModelType, HfSpec } from './config.js';

interface Want {
  shape: number[];
  /** may be absent (a tied weight) */
  optional?: boolean;
}

/** Prefixes a family's checkpoints come with or without (GPT-2's hub files have no "transformer."). */
const STRIPPABLE: Record<HfSpec['family'], string> = { llama: '', gpt2: 'transformer.', bert: '' };

/**
 * Checkpoints of a model type whose tensor names are not LLaMA's (the canonical table of the family): pairs of
 * (the checkpoint's name, the canonical name), `N` standing for a layer index. LLaDA (OLMo naming;
 * modeling_llada.py's LLaDAModelLM wraps the model as `model.transformer`): its LLaMA block's ff_proj is the
 * SiLU-gated half, up_proj the other, ff_out the down map; the top-level ff_out is the (untied) head.
 */
const LLADA_BLOCK: readonly (readonly [string, string])[] = [
  ['attn_norm.weight', 'input_layernorm.weight'],
  ['ff_norm.weight', 'post_attention_layernorm.weight'],
  ...['q', 'k', 'v'].flatMap((x) =>
    ['weight', 'bias'].map((w) => [`${x}_proj.${w}`, `self_attn.${x}_proj.${w}`] as const),
  ),
  ['attn_out.weight', 'self_attn.o_proj.weight'],
  ['ff_proj.weight', 'mlp.gate_proj.weight'],
  ['up_proj.weight', 'mlp.up_proj.weight'],
  ['ff_out.weight', 'mlp.down_proj.weight'],
];
const ALIASES: Partial<Record<HfModelType, readonly (readonly [string, string])[]>> = {
  llada: [
    ['model.transformer.wte.weight', 'model.embed_tokens.weight'],
    ['model.transformer.ln_f.weight', 'model.norm.weight'],
    ['model.transformer.ff_out.weight', 'lm_head.weight'],
    ...LLADA_BLOCK.map(([a, b]) => [`model.transformer.blocks.N.${a}`, `model.layers.N.${b}`] as const),
  ],
};

/** each pair with a matcher per side (`N` → a layer index), compiled once */
const ALIAS_PATTERNS = new Map(
  Object.entries(ALIASES).map(([type, pairs]) => [
    type,
    pairs!.map((p) => ({ p, re: p.map((x) => new RegExp(`^${x.replace(/\./g, '\\.').replace('N', '(\\d+)')}$`)) })),
  ]),
);

/** `name` renamed by the model type's first pair whose `from` side (0 or 1) matches it, or undefined */
function aliased(type: HfModelType, name: string, from: 0 | 1): string | undefined {
  for (const { p, re } of ALIAS_PATTERNS.get(type) ?? []) {
    const m = re[from].exec(name);
    if (m) return p[1 - from].replace('N', m[1] ?? '');
  }
  return undefined;
}

/** The canonical name → expected shape of every tensor a family's checkpoint holds. */
export function hfTensorShapes(s: HfSpec): Map<string, Want> {
  const w = new Map<string, Want>();
  const put = (name: string, shape: number[], optional = false) => w.set(name, { shape, optional });
  const { d, vocab: V, ff, layers } = s;
  const qd = s.heads * s.headDim,
    kvd = s.kvHeads * s.headDim;
  if (s.family === 'llama') {
    put('model.embed_tokens.weight', [V, d]);
    for (let l = 0; l < layers; l++) {
      const p = `model.layers.${l}.`;
      put(`${p}input_layernorm.weight`, [d]);
      put(`${p}post_attention_layernorm.weight`, [d]);
      for (const [n, out, inp, bias] of [
        ['q_proj', qd, d, s.qkvBias],
        ['k_proj', kvd, d, s.qkvBias],
        ['v_proj', kvd, d, s.qkvBias],
        ['o_proj', d, qd, s.oBias],
      ] as const) {
        put(`${p}self_attn.${n}.weight`, [out, inp]);
        if (bias) put(`${p}self_attn.${n}.bias`, [out]);
      }
      for (const [n, out, inp] of [
        ['gate_proj', ff, d],
        ['up_proj', ff, d],
        ['down_proj', d, ff],
      ] as const) {
        put(`${p}mlp.${n}.weight`, [out, inp]);
        if (s.mlpBias) put(`${p}mlp.${n}.bias`, [out]);
      }
    }
    put('model.norm.weight', [d]);
    put('lm_head.weight', [V, d], s.tied);
  } else if (s.family === 'gpt2') {
    const t = 'transformer.';
    put(`${t}wte.weight`, [V, d]);
    put(`${t}wpe.weight`, [s.maxLen, d]);
    for (let l = 0; l < layers; l++) {
      const p = `${t}h.${l}.`;
      for (const n of ['ln_1', 'ln_2']) {
        put(`${p}${n}.weight`, [d]);
        put(`${p}${n}.bias`, [d]);
      }
      // Conv1D: weight [in, out]
      for (const [n, inp, out] of [
        ['attn.c_attn', d, 3 * d],
        ['attn.c_proj', d, d],
        ['mlp.c_fc', d, ff],
        ['mlp.c_proj', ff, d],
      ] as const) {
        put(`${p}${n}.weight`, [inp, out]);
        put(`${p}${n}.bias`, [out]);
      }
    }
    put(`${t}ln_f.weight`, [d]);
    put(`${t}ln_f.bias`, [d]);
    put('lm_head.weight', [V, d], true);
  } else {
    const r = s.modelType === 'roberta' ? 'roberta.' : 'bert.';
    const ln = (name: string) => {
      put(`${name}.weight`, [d]);
      put(`${name}.bias`, [d]);
    };
    const lin = (name: string, out: number, inp: number) => {
      put(`${name}.weight`, [out, inp]);
      put(`${name}.bias`, [out]);
    };
    put(`${r}embeddings.word_embeddings.weight`, [V, d]);
    put(`${r}embeddings.position_embeddings.weight`, [s.maxLen + s.positionOffset, d]);
    put(`${r}embeddings.token_type_embeddings.weight`, [s.typeVocab, d]);
    ln(`${r}embeddings.LayerNorm`);
    for (let l = 0; l < layers; l++) {
      const p = `${r}encoder.layer.${l}.`;
      for (const n of ['query', 'key', 'value']) lin(`${p}attention.self.${n}`, d, d);
      lin(`${p}attention.output.dense`, d, d);
      ln(`${p}attention.output.LayerNorm`);
      lin(`${p}intermediate.dense`, ff, d);
      lin(`${p}output.dense`, d, ff);
      ln(`${p}output.LayerNorm`);
    }
    const h = s.modelType === 'roberta' ? 'lm_head.' : 'cls.predictions.';
    lin(s.modelType === 'roberta' ? `${h}dense` : `${h}transform.dense`, d, d);
    ln(s.modelType === 'roberta' ? `${h}layer_norm` : `${h}transform.LayerNorm`);
    put(`${h}bias`, [V]);
    put(`${h}decoder.weight`, [V, d], true);
    put(`${h}decoder.bias`, [V], true);
  }
  return w;
}

/** Names that checkpoints carry but inference does not use (buffers, pooler, pre-training heads). */
function unused(name: string): boolean {
  return (
    /(^|\.)rotary_emb\.inv_freq$/.test(name) ||
    /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/.test(name) ||
    /^(bert|roberta)\.embeddings\.(position_ids|token_type_ids)$/.test(name) ||
    /^(bert|roberta)\.pooler\./.test(name) ||
    /^cls\.seq_relationship\./.test(name)
  );
}

/**
 * A checkpoint's name as the architecture's table has it: renamed by the model type's aliases (LLaDA), with the
 * family's optional prefix added (GPT-2
 * hub files lack "transformer."), and TF-era LayerNorm names (`LayerNorm.gamma` / `.beta`, old BERT
 * checkpoints) as weight / bias — what transformers renames on load. Unknown names come back as they are.
 */
function canonical(raw: string, want: ReadonlyMap<string, Want>, strip: string, s: HfSpec): string {
  const alias = aliased(s.modelType, raw, 0);
  if (alias) return alias;
  for (const n of [raw, raw.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias')])
    for (const c of [n, strip && !n.startsWith(strip) ? strip + n : n]) if (want.has(c)) return c;
  return raw;
}

/** One checkpoint entry against the table: its canonical name, or undefined for a known unused name. */
function checkOne(
  s: HfSpec,
  want: ReadonlyMap<string, Want>,
  raw: string,
  shape: readonly number[],
  float: boolean,
  file: string,
): string | undefined {
  const name = canonical(raw, want, STRIPPABLE[s.family], s);
  const w = want.get(name);
  if (!w) {
    if (unused(raw)) return undefined;
    throw new ModelFormatError(
      'hf-tensor-name',
      `not a tensor of a ${s.modelType} checkpoint with ${s.layers} layers as config.json describes`,
      raw,
      file,
    );
  }
  if (shape.length !== w.shape.length || shape.some((x, i) => x !== w.shape[i]))
    throw new ModelFormatError(
      'hf-tensor-shape',
      `shape [${shape.join(', ')}], but config.json implies [${w.shape.join(', ')}]`,
      raw,
      file,
    );
  if (!float)
    throw new ModelFormatError('hf-tensor-dtype', 'weights must be floating point (F32, F16 or BF16)', raw, file);
  return name;
}

/** Every required tensor of the table is among `have` (canonical names), else hf-missing-tensor. */
function checkComplete(s: HfSpec, want: ReadonlyMap<string, Want>, have: ReadonlySet<string>, file: string): void {
  for (const [name, w] of want)
    if (!w.optional && !have.has(name))
      throw new ModelFormatError(
        'hf-missing-tensor',
        `a ${s.modelType} checkpoint with this config.json needs it, shape [${w.shape.join(', ')}]`,
        aliased(s.modelType, name, 1) ?? name,
        file,
      );
}

/**
 * Check `weights` (as loaded: F16/BF16 already f32) against the architecture and return them by
 * canonical name. `file` names the weights file(s) in messages; `rawNames`, if given, receives canonical → the
 * checkpoint's own name (what a rewritten file keeps).
 */
export function checkHfWeights(
  s: HfSpec,
  weights: ReadonlyMap<string, LoadedTensor>,
  file = 'model.safetensors',
  rawNames?: Map<string, string>,
): Map<string, LoadedTensor> {
  const want = hfTensorShapes(s);
  const out = new Map<string, LoadedTensor>();
  for (const [raw, t] of weights) {
    const float = t.data instanceof Float32Array || t.data instanceof Uint16Array;
    const name = checkOne(s, want, raw, t.shape, float, file);
    if (name === undefined) continue;
    if (out.has(name)) throw new ModelFormatError('duplicate-name', 'the tensor appears twice', raw, file);
    out.set(name, t);
    rawNames?.set(name, raw);
  }
  checkComplete(s, want, new Set(out.keys()), file);
  return out;
}

/**
 * The same checks on safetensors headers, before any tensor's bytes are read: names, shapes and
 * dtypes by the rules of checkHfWeights; with `complete` (every weight file's header is in
 * `tensors`) also the tensors that are missing. Returns the entries by canonical name.
 */
export function checkHfHeaders(
  s: HfSpec,
  tensors: ReadonlyMap<string, HeaderEntry>,
  complete: boolean,
): Map<string, HeaderEntry & { raw: string }> {
  const want = hfTensorShapes(s);
  const out = new Map<string, HeaderEntry & { raw: string }>();
  for (const [raw, t] of tensors) {
    const name = checkOne(s, want, raw, t.shape, ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype), t.file);
    if (name === undefined) continue;
    if (out.has(name)) throw new ModelFormatError('duplicate-name', 'the tensor appears twice', raw, t.file);
    out.set(name, { ...t, raw });
  }
  if (complete)
    checkComplete(s, want, new Set(out.keys()), [...new Set([...tensors.values()].map((t) => t.file))].join(', '));
  return out;
}
