/**
 * Hugging Face `config.json` → the architecture our kernels run, for the published families we
 * support (one place: the converter, the manifest validator and the model classes all read it here).
 *
 *   llama    LlamaForCausalLM (also `qwen2` and `mistral`, whose checkpoints are LLaMA's with q/k/v
 *            bias or a sliding window — capped at the window, where it equals full attention): RMSNorm,
 *            SwiGLU, RoPE (rope_theta, half-split rotate_half), grouped-query attention, optional attention
 *            and MLP bias, tied or untied head. Two masked-diffusion LMs of this family, bidirectional by
 *            architecture: `llada` (LLaDA's OLMo-style config keys and tensor names, names.ts maps them) and
 *            `Dream` (Qwen2's keys and names; its head predicts position i + 1 from hidden state i, so the
 *            logits are shifted right by one — Dream's generation_utils — `logitShift`)
 *   gpt2     GPT2LMHeadModel: learned positions, pre-LN, Conv1D [in, out] weights with fused qkv,
 *            tanh GELU (gelu_new), tied head
 *   bert     BertForMaskedLM and `roberta` (RobertaForMaskedLM): absolute + token-type embeddings,
 *            post-LN, GELU, MLM transform, decoder tied to the embeddings with its own bias
 *
 * Everything else is refused with a ModelFormatError naming the file, the key and the rule; an
 * unknown `model_type` lists the supported ones. Nothing is read past the first error.
 */
import { ModelFormatError } from '../../errors.js';

/** `model_type`s we load, and the family (op graph) each runs as */
export const HF_MODEL_TYPES = {
  llama: 'llama',
  qwen2: 'llama',
  mistral: 'llama',
  llada: 'llama',
  Dream: 'llama',
  gpt2: 'gpt2',
  bert: 'bert',
  roberta: 'bert',
} as const;
export type HfModelType = keyof typeof HF_MODEL_TYPES;
export type HfFamily = (typeof HF_MODEL_TYPES)[HfModelType];

/** What a family computes, as our ops see it (normalised from config.json). */
export interface HfSpec {
  modelType: HfModelType;
  family: HfFamily;
  vocab: number;
  /** hidden size */
  d: number;
  layers: number;
  heads: number;
  /** key/value heads (GQA; = heads without grouping) */
  kvHeads: number;
  headDim: number;
  /** MLP inner size */
  ff: number;
  /** positions the model can take (RoBERTa: its table less the padding offset) */
  maxLen: number;
  normEps: number;
  activation: 'silu' | 'gelu_tanh' | 'gelu_erf';
  /** llama: RoPE base */
  ropeTheta: number;
  /** llama: config's rope_scaling that changes the frequencies (`ropeFrequencies` applies it) */
  ropeScaling?: RopeScaling;
  /** biases of the q/k/v projections, of the attention output, of the MLP (llama; always true for gpt2/bert) */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** the LM head is the token embedding (llama: tie_word_embeddings; gpt2 and bert always) */
  tied: boolean;
  /** bert: token-type vocabulary (type 0 is used) */
  typeVocab: number;
  /** bert: position ids start here (RoBERTa: padding_idx + 1; BERT 0) */
  positionOffset: number;
  bosId?: number;
  eosId?: number;
  padId?: number;
  /** config's mask_token_id (Dream/LLaDA-style configs name it) */
  maskId?: number;
  /** attention fixed by the architecture (gpt2: causal; bert, llada, Dream: bidirectional); llama: the manifest says */
  attention?: 'causal' | 'bidirectional';
  /** Dream: logits at position i come from hidden state i − 1 (position 0 from its own) */
  logitShift?: boolean;
}

/** rope_scaling kinds we run (HF modeling_rope_utils' formulas); `dynamic` is plain RoPE up to the original length */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; low: number; high: number; original: number }
  | {
      type: 'yarn';
      factor: number;
      original: number;
      attentionFactor?: number;
      betaFast: number;
      betaSlow: number;
      mscale?: number;
      mscaleAllDim?: number;
      truncate: boolean;
    };

type Json = Record<string, unknown>;

function fail(rule: string, msg: string, file: string): never {
  throw new ModelFormatError(rule, msg, undefined, file);
}

/** Reads the keys of one config with the file name for messages. */
class Keys {
  constructor(
    readonly c: Json,
    readonly file: string,
    readonly modelType: string,
  ) {}

  int(key: string, dflt?: number, min = 1): number {
    const v = this.c[key] ?? dflt;
    if (v === undefined) fail('hf-config-key', `${this.modelType} needs "${key}" (missing)`, this.file);
    if (!Number.isSafeInteger(v) || (v as number) < min)
      fail('hf-config-key', `"${key}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, this.file);
    return v as number;
  }

  /** an optional integer id (null or absent: undefined) */
  id(key: string): number | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    // some configs list several eos ids; the first is the one we need
    const x = Array.isArray(v) ? v[0] : v;
    if (!Number.isSafeInteger(x) || (x as number) < 0)
      fail('hf-config-key', `"${key}" must be a token id, got ${JSON.stringify(v)}`, this.file);
    return x as number;
  }

  num(key: string, dflt?: number): number {
    const v = this.c[key] ?? dflt;
    if (v === undefined) fail('hf-config-key', `${this.modelType} needs "${key}" (missing)`, this.file);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      fail('hf-config-key', `"${key}" must be a positive number, got ${JSON.stringify(v)}`, this.file);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.c[key] ?? dflt;
    if (typeof v !== 'boolean')
      fail('hf-config-key', `"${key}" must be true or false, got ${JSON.stringify(v)}`, this.file);
    return v;
  }

  /** a key whose value we cannot run unless it is one of `ok` (absent = `dflt`) */
  oneOf<T>(key: string, ok: readonly T[], dflt: T, why: string): T {
    const v = (this.c[key] ?? dflt) as T;
    if (!ok.includes(v))
      fail(
        'hf-config-unsupported',
        `"${key}" = ${JSON.stringify(v)} is not supported (${why}; supported: ${ok.map((x) => JSON.stringify(x)).join(', ')})`,
        this.file,
      );
    return v;
  }
}

function activationOf(k: Keys, key: string, dflt: string): HfSpec['activation'] {
  const a = k.oneOf(
    key,
    ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish'],
    dflt,
    'an activation our kernels run',
  );
  return a === 'gelu' ? 'gelu_erf' : a === 'silu' || a === 'swish' ? 'silu' : 'gelu_tanh';
}

function heads(k: Keys, d: number, h: number, kv: number, headDimKey?: string): number {
  const hd = headDimKey && k.c[headDimKey] != null ? k.int(headDimKey) : d / h;
  if (!(headDimKey && k.c[headDimKey] != null) && d % h !== 0)
    fail('hf-config-heads', `hidden size ${d} is not divisible by ${h} attention heads`, k.file);
  if (h % kv !== 0)
    fail(
      'hf-config-heads',
      `${kv} key/value heads do not divide ${h} attention heads (grouped-query attention)`,
      k.file,
    );
  if (hd % 2 !== 0 && k.modelType !== 'gpt2' && k.modelType !== 'bert' && k.modelType !== 'roberta')
    fail('hf-config-heads', `head dim ${hd} must be even for RoPE`, k.file);
  if (hd > 128) fail('hf-config-heads', `head dim ${hd} exceeds the attention kernel's 128`, k.file);
  return hd;
}

/**
 * config's rope_scaling: none / "default"; "linear", "llama3", "yarn" (frequencies by `ropeFrequencies`);
 * "dynamic" (NTK) equals plain RoPE up to max_position_embeddings and only changes past it, so the model is capped
 * there. Anything else is refused with the list.
 */
function ropeScaling(k: Keys): { scaling?: RopeScaling; dynamicCap?: number } {
  const r = k.c.rope_scaling;
  if (r == null) return {};
  const where = `"rope_scaling"`;
  if (typeof r !== 'object' || Array.isArray(r)) fail('hf-config-key', `${where} must be an object or null`, k.file);
  const rk = new Keys(r as Json, k.file, `${k.modelType} ${where}`);
  const type = (r as Json).rope_type ?? (r as Json).type;
  const kinds = ['default', 'linear', 'dynamic', 'llama3', 'yarn'];
  if (typeof type !== 'string' || !kinds.includes(type))
    fail(
      'hf-config-unsupported',
      `${where} type ${JSON.stringify(type)} is not supported (supported: ${kinds.join(', ')})`,
      k.file,
    );
  if (type === 'default') return {};
  const factor = rk.num('factor');
  if (type === 'dynamic') return { dynamicCap: k.int('max_position_embeddings') };
  if (type === 'linear') return { scaling: { type, factor } };
  const original = rk.int(
    'original_max_position_embeddings',
    type === 'yarn' ? k.int('max_position_embeddings') : undefined,
  );
  if (type === 'llama3') {
    const low = rk.num('low_freq_factor'),
      high = rk.num('high_freq_factor');
    if (!(high > low)) fail('hf-config-key', `${where}: high_freq_factor must exceed low_freq_factor`, k.file);
    return { scaling: { type, factor, low, high, original } };
  }
  const opt = (key: string) => ((r as Json)[key] == null ? undefined : rk.num(key));
  return {
    scaling: {
      type: 'yarn',
      factor,
      original,
      attentionFactor: opt('attention_factor'),
      betaFast: opt('beta_fast') ?? 32,
      betaSlow: opt('beta_slow') ?? 1,
      mscale: opt('mscale'),
      mscaleAllDim: opt('mscale_all_dim'),
      truncate: rk.bool('truncate', true),
    },
  };
}

/**
 * A LLaMA-family model's RoPE frequencies (headDim / 2) and cos/sin factor, with its rope_scaling applied as
 * transformers' modeling_rope_utils computes them (linear: /factor; llama3: low frequencies /factor, a smooth
 * ramp between the bands; yarn: interpolation blended by a linear ramp over the correction range, cos/sin scaled
 * by the attention factor). Plain RoPE: undefined frequencies (ropeTable's default).
 */
export function ropeFrequencies(s: HfSpec): { invFreq?: Float64Array; scale?: number } {
  const r = s.ropeScaling;
  if (!r) return {};
  const dim = s.headDim,
    half = dim / 2;
  const base = Float64Array.from({ length: half }, (_, j) => Math.pow(s.ropeTheta, (-2 * j) / dim));
  if (r.type === 'linear') return { invFreq: base.map((f) => f / r.factor) };
  if (r.type === 'llama3') {
    const lowWave = r.original / r.low,
      highWave = r.original / r.high;
    return {
      invFreq: base.map((f) => {
        const wave = (2 * Math.PI) / f;
        if (wave < highWave) return f;
        if (wave > lowWave) return f / r.factor;
        const smooth = (r.original / wave - r.low) / (r.high - r.low);
        return ((1 - smooth) * f) / r.factor + smooth * f;
      }),
    };
  }
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  const attention =
    r.attentionFactor ??
    (r.mscale && r.mscaleAllDim ? mscale(r.factor, r.mscale) / mscale(r.factor, r.mscaleAllDim) : mscale(r.factor));
  const corr = (rot: number) => (dim * Math.log(r.original / (rot * 2 * Math.PI))) / (2 * Math.log(s.ropeTheta));
  let low = corr(r.betaFast),
    high = corr(r.betaSlow);
  if (r.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001;
  return {
    invFreq: base.map((f, j) => {
      const extrapolate = 1 - Math.min(1, Math.max(0, (j - low) / (high - low)));
      return (f / r.factor) * (1 - extrapolate) + f * extrapolate;
    }),
    scale: attention,
  };
}

/** the config's special token ids (LLaMA family) */
function specialIds(k: Keys): Pick<HfSpec, 'bosId' | 'eosId' | 'padId' | 'maskId'> {
  return {
    bosId: k.id('bos_token_id'),
    eosId: k.id('eos_token_id'),
    padId: k.id('pad_token_id'),
    maskId: k.id('mask_token_id'),
  };
}

function llama(k: Keys, t: HfModelType): HfSpec {
  const d = k.int('hidden_size'),
    h = k.int('num_attention_heads');
  const kv = k.int('num_key_value_heads', h);
  const headDim = heads(k, d, h, kv, 'head_dim');
  k.oneOf('hidden_act', ['silu'], 'silu', 'LLaMA-family MLPs are SwiGLU');
  k.oneOf('partial_rotary_factor', [1], 1, 'RoPE on the whole head');
  const { scaling, dynamicCap } = ropeScaling(k);
  // sliding-window attention (Mistral; Qwen2 with use_sliding_window) equals full attention on sequences
  // no longer than the window: the model is capped there rather than refused
  const windowed =
    (t === 'mistral' || (t === 'qwen2' && k.bool('use_sliding_window', false))) && k.c.sliding_window != null;
  const maxLen = Math.min(
    k.int('max_position_embeddings'),
    windowed ? k.int('sliding_window') : Infinity,
    dynamicCap ?? Infinity,
  );
  const qwen = t === 'qwen2' || t === 'Dream';
  const attnBias = qwen ? true : k.bool('attention_bias', false);
  return {
    modelType: t,
    family: 'llama',
    vocab: k.int('vocab_size'),
    d,
    layers: k.int('num_hidden_layers'),
    heads: h,
    kvHeads: kv,
    headDim,
    ff: k.int('intermediate_size'),
    maxLen,
    normEps: k.num('rms_norm_eps', 1e-6),
    activation: 'silu',
    ropeTheta: k.num('rope_theta', 10000),
    ...(scaling ? { ropeScaling: scaling } : {}),
    qkvBias: attnBias,
    oBias: qwen ? false : attnBias,
    mlpBias: k.bool('mlp_bias', false),
    tied: k.bool('tie_word_embeddings', false),
    typeVocab: 0,
    positionOffset: 0,
    ...specialIds(k),
    ...(t === 'Dream' ? { attention: 'bidirectional' as const, logitShift: true } : {}),
  };
}

/**
 * LLaDA (model_type "llada"): OLMo's config keys for a LLaMA block (`block_type` "llama": RMSNorm, SwiGLU with
 * ff_proj as the gate, RoPE, no biases unless include_qkv_bias), bidirectional. Options LLaDA's released models
 * do not use are refused by name rather than run wrongly.
 */
function llada(k: Keys): HfSpec {
  const d = k.int('d_model'),
    h = k.int('n_heads');
  const kv = k.bool('multi_query_attention', false) ? 1 : k.int('n_kv_heads', h);
  const headDim = heads(k, d, h, kv);
  const why = "LLaDA's LLaMA block as released";
  k.oneOf('block_type', ['llama'], 'sequential', why);
  k.oneOf('activation_type', ['silu'], 'swiglu', `${why} (ff_proj gated by SiLU, times up_proj)`);
  k.oneOf('layer_norm_type', ['rms'], 'default', `${why} (RMSNorm)`);
  k.oneOf('rope', [true], false, 'rotary positions');
  for (const [key, dflt] of [
    ['alibi', false],
    ['attention_layer_norm', false],
    ['input_emb_norm', false],
    ['include_bias', false],
    ['scale_logits', false],
  ] as const)
    k.oneOf(key, [false], dflt, why);
  k.oneOf('layer_norm_with_affine', [true], true, `${why} (norms with a weight)`);
  k.oneOf('block_group_size', [1], 1, 'one block per layer (tensor names model.transformer.blocks.N)');
  const vocab = k.int('vocab_size');
  if (k.c.embedding_size != null && k.int('embedding_size') !== vocab)
    fail(
      'hf-config-unsupported',
      `"embedding_size" ${k.int('embedding_size')} ≠ "vocab_size" ${vocab}: padded embedding rows are not supported`,
      k.file,
    );
  return {
    modelType: 'llada',
    family: 'llama',
    attention: 'bidirectional',
    vocab,
    d,
    layers: k.int('n_layers'),
    heads: h,
    kvHeads: kv,
    headDim,
    ff: k.c.mlp_hidden_size != null ? k.int('mlp_hidden_size') : k.int('mlp_ratio', 4) * d,
    maxLen: k.int('max_sequence_length'),
    normEps: k.num('rms_norm_eps', 1e-5),
    activation: 'silu',
    ropeTheta: k.num('rope_theta', 10000),
    qkvBias: k.bool('include_qkv_bias', false),
    oBias: false,
    mlpBias: false,
    tied: k.bool('weight_tying', true),
    typeVocab: 0,
    positionOffset: 0,
    ...specialIds(k),
  };
}

function gpt2(k: Keys): HfSpec {
  const d = k.int('n_embd'),
    h = k.int('n_head');
  const headDim = heads(k, d, h, h);
  if (k.bool('add_cross_attention', false))
    fail('hf-config-unsupported', '"add_cross_attention" = true (an encoder-decoder GPT-2) is not supported', k.file);
  k.oneOf('scale_attn_weights', [true], true, 'attention scaled by 1/√head_dim');
  k.oneOf('scale_attn_by_inverse_layer_idx', [false], false, 'one attention scale for every layer');
  return {
    modelType: 'gpt2',
    family: 'gpt2',
    attention: 'causal',
    vocab: k.int('vocab_size'),
    d,
    layers: k.int('n_layer'),
    heads: h,
    kvHeads: h,
    headDim,
    ff: k.c.n_inner == null ? 4 * d : k.int('n_inner'),
    maxLen: k.int('n_positions'),
    normEps: k.num('layer_norm_epsilon', 1e-5),
    activation: activationOf(k, 'activation_function', 'gelu_new'),
    ropeTheta: 0,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    tied: true,
    typeVocab: 0,
    positionOffset: 0,
    bosId: k.id('bos_token_id'),
    eosId: k.id('eos_token_id'),
    padId: k.id('pad_token_id'),
  };
}

function bert(k: Keys, t: HfModelType): HfSpec {
  const d = k.int('hidden_size'),
    h = k.int('num_attention_heads');
  const headDim = heads(k, d, h, h);
  k.oneOf('position_embedding_type', ['absolute'], 'absolute', 'learned absolute positions');
  if (k.bool('is_decoder', false)) fail('hf-config-unsupported', '"is_decoder" = true is not a masked LM', k.file);
  const table = k.int('max_position_embeddings');
  const padId = k.id('pad_token_id') ?? (t === 'roberta' ? 1 : 0);
  // RoBERTa numbers positions from padding_idx + 1 (its create_position_ids_from_input_ids)
  const positionOffset = t === 'roberta' ? padId + 1 : 0;
  if (table <= positionOffset)
    fail(
      'hf-config-key',
      `max_position_embeddings ${table} leaves no position after RoBERTa's offset ${positionOffset}`,
      k.file,
    );
  return {
    modelType: t,
    family: 'bert',
    attention: 'bidirectional',
    vocab: k.int('vocab_size'),
    d,
    layers: k.int('num_hidden_layers'),
    heads: h,
    kvHeads: h,
    headDim,
    ff: k.int('intermediate_size'),
    maxLen: table - positionOffset,
    normEps: k.num('layer_norm_eps', 1e-12),
    activation: activationOf(k, 'hidden_act', 'gelu'),
    ropeTheta: 0,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    tied: true,
    typeVocab: k.int('type_vocab_size', 2),
    positionOffset,
    bosId: k.id('bos_token_id'),
    eosId: k.id('eos_token_id'),
    padId,
  };
}

/** config.json (parsed JSON) → HfSpec, or a ModelFormatError naming `file`, the key and the rule. */
export function parseHfConfig(json: unknown, file = 'config.json'): HfSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('hf-config', 'config.json must be a JSON object', file);
  const c = json as Json;
  const supported = Object.keys(HF_MODEL_TYPES).join(', ');
  const t = c.model_type;
  if (typeof t !== 'string')
    fail('hf-architecture', `"model_type" is missing; supported architectures: ${supported}`, file);
  if (!Object.hasOwn(HF_MODEL_TYPES, t))
    fail(
      'hf-architecture',
      `model_type ${JSON.stringify(t)} is not supported; supported architectures: ${supported}`,
      file,
    );
  const k = new Keys(c, file, t);
  const type = t as HfModelType;
  const spec =
    type === 'llada'
      ? llada(k)
      : HF_MODEL_TYPES[type] === 'llama'
        ? llama(k, type)
        : type === 'gpt2'
          ? gpt2(k)
          : bert(k, type);
  for (const [name, id] of [
    ['bos_token_id', spec.bosId],
    ['eos_token_id', spec.eosId],
    ['pad_token_id', spec.padId],
    ['mask_token_id', spec.maskId],
  ] as const)
    if (id !== undefined && id >= spec.vocab)
      fail('hf-config-key', `"${name}" ${id} is outside the vocabulary [0, ${spec.vocab})`, file);
  return spec;
}
