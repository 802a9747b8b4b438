/**
 * models/<name>/manifest.json: what a model is (architecture, tokenizer, classes), which files make it
 * (with sha256), how it was trained and how well it does. Validated before anything else is read.
 */
import { ModelFormatError } from '../errors.js';
import { parseHfConfig } from './hf/config.js';
import {
  ONNX_EPS,
  ONNX_KINDS,
  ONNX_TIMESTEPS,
  rolesOf,
  type OnnxDenoiserInput,
  type OnnxEp,
  type OnnxKind,
  type OnnxTextInput,
  type OnnxTextKind,
  type OnnxTimestep,
} from './onnx/roles.js';

export interface ManifestFile {
  path: string;
  role: 'weights' | 'golden' | string;
  bytes: number;
  sha256: string;
}

export interface TransformerArchitecture {
  type: 'transformer';
  attention: 'bidirectional' | 'two-stream';
  norm: 'layernorm';
  activation: 'gelu_tanh';
  norm_eps: number;
  positional: 'rope-half-split';
  vocab_size: number;
  d_model: number;
  n_layers: number;
  n_heads: number;
  d_ff: number;
  max_len: number;
  n_classes: number;
  rope_base: number;
  two_stream: boolean;
  marginal_head: boolean;
  /**
   * The MaM head's form (training/model.py): 'mean-linear' (default; log p = w · mean_t LN_f(h)_t + b,
   * unconstrained) or 'observed-softplus' (log p = −Σ_{t observed} softplus(w · LN_f(h)_t + b): a
   * log-probability by construction, 0 with nothing observed, never positive).
   */
  marginal_form?: MarginalForm;
}

export const MARGINAL_FORMS = ['mean-linear', 'observed-softplus'] as const;
export type MarginalForm = (typeof MARGINAL_FORMS)[number];

/** DiT ε-prediction denoiser (training/image_models.py DiT). */
export interface DitArchitecture {
  type: 'dit';
  image_size: number;
  channels: number;
  patch: number;
  d_model: number;
  layers: number;
  heads: number;
  d_ff: number;
  n_classes: number;
  t_dim: number;
  norm_eps: number;
}

/** The digits CNN (training/image_models.py DigitsClassifier). */
export interface CnnArchitecture {
  type: 'cnn';
  c1: number;
  c2: number;
  hidden: number;
  n_classes: number;
  image_size: number;
  channels: number;
}

/** The character CNN text classifier (training/train_text_classifier.py TextCNN). */
export interface TextCnnArchitecture {
  type: 'textcnn';
  vocab_size: number;
  emb: number;
  channels: number;
  hidden: number;
  kernel: number;
  n_classes: number;
  length: number;
}

export interface DiffusionSpec {
  prediction: 'epsilon';
  timesteps: number;
  beta_schedule: 'linear';
  beta_start: number;
  beta_end: number;
  image_range: [number, number];
  null_class: number;
}

interface ManifestCommon {
  format: 'samplescope-model/1';
  name: string;
  family: string;
  description?: string;
  files: ManifestFile[];
  training?: unknown;
  metrics?: Record<string, unknown>;
  weights_dtype?: string;
  /** the sibling folder holding this model's ONNX form (same weights): the engine's fast CPU path runs it */
  onnx_form?: string;
}

export interface DitManifest extends ManifestCommon {
  architecture: DitArchitecture;
  diffusion: DiffusionSpec;
  classes: string[];
  null_class: number;
  /** a guidance-distilled student: its teacher and the scale s it reproduces in one pass (λ's default partner) */
  guidance_distilled?: { teacher: string; scale_s: number; w?: number };
}

export interface CnnManifest extends ManifestCommon {
  architecture: CnnArchitecture;
  classes: string[];
}

export interface TextCnnManifest extends ManifestCommon {
  architecture: TextCnnArchitecture;
  tokenizer: { type: 'char'; vocab: string[]; mask_id?: number };
  classes: string[];
}

/** Any manifest this package loads; `architecture.type` tells them apart. */
export type AnyManifest =
  ModelManifest | DitManifest | CnnManifest | TextCnnManifest | OnnxManifest | OnnxDenoiserManifest | HfManifest;

/**
 * A published architecture from a Hugging Face folder (src/models/hf/; `samplescope convert` writes
 * it): `config` is the folder's config.json, read by src/models/hf/config.ts (model_type, sizes,
 * special ids); the weights are its safetensors under their HF names.
 */
export interface HfArchitecture {
  type: 'hf';
  config: Record<string, unknown>;
  /**
   * true: a causal LM (logits at i predict token i + 1; sampled left to right, the NLL evaluator);
   * false: a bidirectional masked-diffusion denoiser. config.json cannot say which for LLaMA-family
   * models (LLaDA/Dream are LLaMA without the causal mask); gpt2 is always true, bert/roberta false.
   */
  causal: boolean;
  /** config's vocab_size */
  vocab_size: number;
  /** ≤ the config's positions */
  max_len: number;
  n_classes: 0;
  /** causal: the id fed before x_0 (default: config's bos_token_id) */
  bos_id?: number;
}

export interface HfManifest extends Omit<ModelManifest, 'architecture'> {
  architecture: HfArchitecture;
}

/**
 * A network run by onnxruntime (architecture.type "onnx"): its graph is the file of role "onnx"; the
 * manifest maps the graph's inputs and outputs to roles by name (src/models/onnx/roles.ts: the roles of
 * each kind; training/export_onnx.py --folder writes one). Text kinds: 'masked-diffusion' (logits of
 * every position given tokens with [MASK]) and 'causal' (a causal LM: logits at i predict token i + 1).
 */
export interface OnnxArchitecture {
  type: 'onnx';
  kind: OnnxTextKind;
  vocab_size: number;
  max_len: number;
  n_classes: number;
  /** causal: the id fed before the first token (its logits predict x_0) */
  bos_id?: number;
  /** execution provider (default 'auto'; a load option overrides it) */
  ep?: OnnxEp;
  /** role → graph input name */
  inputs: Partial<Record<OnnxTextInput, string>> & { tokens: string };
  /** role → graph output name */
  outputs: { logits: string };
}

export interface OnnxManifest extends Omit<ModelManifest, 'architecture'> {
  architecture: OnnxArchitecture;
}

/** An ε-prediction image denoiser run by onnxruntime (kind 'denoiser'); its schedule is `diffusion`. */
export interface OnnxDenoiserArchitecture {
  type: 'onnx';
  kind: 'denoiser';
  image_size: number;
  channels: number;
  n_classes: number;
  /** what the timestep input carries: 'index' the integer step t ∈ [0, T), 'unit' t / T ∈ [0, 1) */
  timestep: OnnxTimestep;
  /** execution provider (default 'auto'; a load option overrides it) */
  ep?: OnnxEp;
  inputs: Partial<Record<OnnxDenoiserInput, string>> & { x: string; timestep: string };
  outputs: { eps: string };
}

export interface OnnxDenoiserManifest extends Omit<DitManifest, 'architecture'> {
  architecture: OnnxDenoiserArchitecture;
}

/** What a text Model's manifest can be: our transformer, an ONNX graph or a Hugging Face architecture. */
export type TextManifest = ModelManifest | OnnxManifest | HfManifest;

/** The marginal head's form of a text model (undefined: no head). */
export function marginalFormOf(m: TextManifest): MarginalForm | undefined {
  const a = m.architecture;
  return a.type === 'transformer' && a.marginal_head ? (a.marginal_form ?? 'mean-linear') : undefined;
}

export interface CharTokenizerManifest {
  type: 'char';
  vocab: string[];
  mask_id?: number;
  normalisation?: string;
}

/**
 * A Hugging Face tokenizer.json (BPE, WordPiece, Unigram; src/models/tokenizer.ts): `file` is listed in
 * `files` with role "tokenizer". The named special tokens must be tokens of it (checked on load);
 * `mask_id`, if given, must be the mask token's id (the loader fills it in otherwise).
 */
export interface HfTokenizerManifest {
  type: 'hf';
  file: string;
  mask_token?: string;
  pad_token?: string;
  /** more special tokens the model relies on (each must exist) */
  special_tokens?: string[];
  mask_id?: number;
  /** decode with HF's clean-up of spaces before punctuation (tokenizer_config's field; default false) */
  clean_up_tokenization_spaces?: boolean;
}

/** A text transformer's manifest. */
export interface ModelManifest {
  format: 'samplescope-model/1';
  name: string;
  family: string;
  description?: string;
  architecture: TransformerArchitecture;
  tokenizer: CharTokenizerManifest | HfTokenizerManifest;
  classes: string[];
  null_class: number;
  files: ManifestFile[];
  training?: unknown;
  metrics?: Record<string, number>;
  weights_dtype?: string;
  /** Ising MaM models: the L×L lattice, inverse temperature and exact log Z (training/ising.py) */
  ising?: IsingSpec;
  /** Text MaM models: the measured calibration of the marginal head (scripts/calibrate-mam.ts) */
  calibration?: MamCalibrationRecord;
  /** Speculative drafts: the model this one was made to draft for (the engine's default draft for it) */
  draft_for?: string;
  /** the sibling folder holding this model's ONNX form (same weights): the engine's fast CPU path runs it */
  onnx_form?: string;
}

/** A MaM head's calibration figures (src/metrics/mam-calibration.ts says what each one measures). */
export interface MamCalibrationFigures {
  snippets: number;
  emptyAbsMax: number;
  maxLogp: number;
  padding: { meanAbsPerChar: number; maxAbsPerChar: number };
  vsExact: { spearman: number; meanAbsPerChar: number; meanSignedPerChar: number };
  shuffledAuc: number;
}

/** What scripts/calibrate-mam.ts records in a manifest (the fields read here are checked). */
export interface MamCalibrationRecord extends MamCalibrationFigures {
  evaluator: string;
  seed?: number;
  command?: string;
  /** the same measurement on the first `check.snippets` snippets only (what the test suite recomputes) */
  check?: MamCalibrationFigures;
}

export interface IsingSpec {
  L: number;
  beta: number;
  log_z: number;
}

/** Narrowing helpers. */
export const isTextManifest = (m: AnyManifest): m is ModelManifest => m.architecture.type === 'transformer';
export const isOnnxManifest = (m: AnyManifest): m is OnnxManifest =>
  m.architecture.type === 'onnx' && m.architecture.kind !== 'denoiser';
export const isOnnxDenoiserManifest = (m: AnyManifest): m is OnnxDenoiserManifest =>
  m.architecture.type === 'onnx' && m.architecture.kind === 'denoiser';
export const isHfManifest = (m: AnyManifest): m is HfManifest => m.architecture.type === 'hf';
export const isDitManifest = (m: AnyManifest): m is DitManifest => m.architecture.type === 'dit';
export const isCnnManifest = (m: AnyManifest): m is CnnManifest => m.architecture.type === 'cnn';
export const isTextCnnManifest = (m: AnyManifest): m is TextCnnManifest => m.architecture.type === 'textcnn';

const SHA = /^[0-9a-f]{64}$/;
const SAFE_PATH = /^[A-Za-z0-9._-]+$/;

/** A manifest file path's rule: a plain file name in the model's folder (no folders, no "..", nothing absolute). */
export function isPlainFileName(path: unknown): path is string {
  return typeof path === 'string' && SAFE_PATH.test(path) && path !== '.' && path !== '..';
}

function fail(rule: string, msg: string): never {
  throw new ModelFormatError(rule, msg, undefined, 'manifest.json');
}

function posInt(v: unknown, name: string, max = 1 << 20): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > max)
    fail('manifest-architecture', `${name} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
  return v as number;
}

function validateFiles(o: Record<string, unknown>, weightsRole = 'weights'): void {
  if (!Array.isArray(o.files) || o.files.length === 0) fail('manifest-files', 'files must be a non-empty list');
  for (const f of o.files as Record<string, unknown>[]) {
    if (typeof f !== 'object' || f === null || Array.isArray(f))
      fail('manifest-files', `files entries must be objects, got ${JSON.stringify(f)}`);
    // "." and ".." match SAFE_PATH but name folders (this one, its parent), not files
    if (!isPlainFileName(f.path))
      fail('manifest-files', `file path ${JSON.stringify(f.path)} must be a plain file name (no folders, no "..")`);
    if (typeof f.sha256 !== 'string' || !SHA.test(f.sha256))
      fail('manifest-files', `${f.path}: sha256 must be 64 lowercase hex digits`);
    if (!Number.isSafeInteger(f.bytes) || (f.bytes as number) < 0)
      fail('manifest-files', `${f.path}: bytes must be a non-negative integer`);
  }
  if (!(o.files as ManifestFile[]).some((f) => f.role === weightsRole))
    fail('manifest-files', `no file has role "${weightsRole}"`);
}

function validateClasses(o: Record<string, unknown>, n: number, withNull: boolean): void {
  const want = withNull ? n + 1 : n;
  if (!Array.isArray(o.classes) || o.classes.length !== want || o.classes.some((c) => typeof c !== 'string')) {
    fail('manifest-classes', `classes must list ${want} names${withNull ? ' (the last is "no class")' : ''}`);
  }
  if (withNull && o.null_class !== n) fail('manifest-classes', `null_class must be n_classes (${n})`);
}

function validateDit(o: Record<string, unknown>, a: Record<string, unknown>): DitManifest {
  for (const k of ['image_size', 'channels', 'patch', 'd_model', 'layers', 'heads', 'd_ff', 'n_classes', 't_dim'])
    posInt(a[k], `architecture.${k}`, 4096);
  if ((a.image_size as number) % (a.patch as number) !== 0)
    fail('manifest-architecture', `image_size ${a.image_size} must be a multiple of patch ${a.patch}`);
  if ((a.d_model as number) % (a.heads as number) !== 0)
    fail('manifest-architecture', 'd_model must be a multiple of heads');
  if ((a.t_dim as number) % 2 !== 0) fail('manifest-architecture', 't_dim must be even');
  if (a.norm_eps !== undefined && (typeof a.norm_eps !== 'number' || !(a.norm_eps > 0)))
    fail('manifest-architecture', 'norm_eps must be a positive number');
  a.norm_eps ??= 1e-5;
  validateDiffusion(o, a.n_classes as number);
  validateFiles(o);
  return o as unknown as DitManifest;
}

/** A denoiser's schedule (diffusion) and its classes with the null class. */
function validateDiffusion(o: Record<string, unknown>, nClasses: number): void {
  const d = o.diffusion as Record<string, unknown> | undefined;
  if (!d || d.prediction !== 'epsilon' || d.beta_schedule !== 'linear')
    fail('manifest-diffusion', 'diffusion must be {prediction: "epsilon", beta_schedule: "linear", ...}');
  posInt(d.timesteps, 'diffusion.timesteps', 100000);
  const b0 = d.beta_start as number,
    b1 = d.beta_end as number;
  if (typeof b0 !== 'number' || typeof b1 !== 'number' || !(b0 > 0 && b0 <= b1 && b1 < 1))
    fail('manifest-diffusion', `need 0 < beta_start ≤ beta_end < 1, got ${JSON.stringify(b0)}, ${JSON.stringify(b1)}`);
  validateClasses(o, nClasses, true);
  if (d.null_class !== o.null_class) fail('manifest-diffusion', 'diffusion.null_class must equal null_class');
}

function validateCnn(o: Record<string, unknown>, a: Record<string, unknown>): CnnManifest {
  for (const k of ['c1', 'c2', 'hidden', 'n_classes', 'image_size', 'channels'])
    posInt(a[k], `architecture.${k}`, 4096);
  if ((a.image_size as number) % 4 !== 0)
    fail('manifest-architecture', `image_size ${a.image_size} must be a multiple of 4 (two 2×2 pools)`);
  validateClasses(o, a.n_classes as number, false);
  validateFiles(o);
  return o as unknown as CnnManifest;
}

function validateTextCnn(o: Record<string, unknown>, a: Record<string, unknown>): TextCnnManifest {
  for (const k of ['vocab_size', 'emb', 'channels', 'hidden', 'kernel', 'n_classes', 'length'])
    posInt(a[k], `architecture.${k}`, 1 << 16);
  if ((a.length as number) < 2 * (a.kernel as number) - 1)
    fail('manifest-architecture', `length ${a.length} is too short for two valid convolutions of width ${a.kernel}`);
  const tok = o.tokenizer as Record<string, unknown> | undefined;
  if (
    !tok ||
    tok.type !== 'char' ||
    !Array.isArray(tok.vocab) ||
    tok.vocab.length !== a.vocab_size ||
    tok.vocab.some((c) => typeof c !== 'string')
  ) {
    fail('manifest-tokenizer', `tokenizer must be {type: "char", vocab: string[${a.vocab_size}]}`);
  }
  validateClasses(o, a.n_classes as number, false);
  validateFiles(o);
  return o as unknown as TextCnnManifest;
}

/** Validate a parsed manifest of any model type; returns it typed. */
export function validateManifest(m: unknown): AnyManifest {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('manifest-json', 'manifest is not a JSON object');
  const o = m as Record<string, unknown>;
  if (o.format !== 'samplescope-model/1')
    fail('manifest-format', `format must be "samplescope-model/1", got ${JSON.stringify(o.format)}`);
  if (typeof o.name !== 'string' || !o.name) fail('manifest-name', 'name must be a non-empty string');
  if (
    o.onnx_form !== undefined &&
    (typeof o.onnx_form !== 'string' || !/^[A-Za-z0-9._-]+$/.test(o.onnx_form) || /^\.\.?$/.test(o.onnx_form))
  )
    fail('manifest-onnx-form', 'onnx_form must be the name of a sibling model folder (no separators)');
  const a = o.architecture as Record<string, unknown> | undefined;
  if (a && typeof a === 'object' && a.type === 'dit') return validateDit(o, a);
  if (a && typeof a === 'object' && a.type === 'cnn') return validateCnn(o, a);
  if (a && typeof a === 'object' && a.type === 'textcnn') return validateTextCnn(o, a);
  if (a && typeof a === 'object' && a.type === 'onnx') return validateOnnx(o, a);
  if (a && typeof a === 'object' && a.type === 'hf') return validateHf(o, a);
  if (!a || a.type !== 'transformer')
    fail('manifest-architecture', 'architecture.type must be "transformer", "onnx", "hf", "dit", "cnn" or "textcnn"');
  for (const k of ['vocab_size', 'd_model', 'n_layers', 'n_heads', 'd_ff', 'max_len'])
    posInt(a[k], `architecture.${k}`);
  if (!Number.isSafeInteger(a.n_classes) || (a.n_classes as number) < 0)
    fail('manifest-architecture', 'architecture.n_classes must be an integer ≥ 0');
  if ((a.d_model as number) % (a.n_heads as number) !== 0)
    fail('manifest-architecture', 'd_model must be a multiple of n_heads');
  const D = (a.d_model as number) / (a.n_heads as number);
  if (D % 2 !== 0 || D > 128) fail('manifest-architecture', `head dim ${D} must be even and ≤ 128`);
  if (a.attention !== 'bidirectional' && a.attention !== 'two-stream')
    fail('manifest-architecture', `attention must be "bidirectional" or "two-stream"`);
  if (a.norm !== 'layernorm' || a.activation !== 'gelu_tanh' || a.positional !== 'rope-half-split') {
    fail('manifest-architecture', 'only layernorm / gelu_tanh / rope-half-split transformers are supported');
  }
  if (typeof a.norm_eps !== 'number' || !(a.norm_eps > 0))
    fail('manifest-architecture', 'norm_eps must be a positive number');
  if (typeof a.rope_base !== 'number' || !(a.rope_base > 1)) fail('manifest-architecture', 'rope_base must be > 1');
  if (a.marginal_form !== undefined) {
    if (!a.marginal_head) fail('manifest-architecture', 'marginal_form is set but marginal_head is false');
    if (!(MARGINAL_FORMS as readonly unknown[]).includes(a.marginal_form))
      fail(
        'manifest-architecture',
        `marginal_form must be one of ${MARGINAL_FORMS.join(', ')}, got ${JSON.stringify(a.marginal_form)}`,
      );
  }
  const tok = validateTextTokenizer(o, a.vocab_size);
  if (
    tok.mask_id !== undefined &&
    (!Number.isSafeInteger(tok.mask_id) ||
      (tok.mask_id as number) < 0 ||
      (tok.mask_id as number) >= (a.vocab_size as number))
  )
    fail('manifest-tokenizer', 'mask_id out of range');
  if (a.marginal_form === 'observed-softplus' && tok.mask_id === undefined && tok.mask_token === undefined)
    fail(
      'manifest-tokenizer',
      'an observed-softplus marginal head needs tokenizer.mask_id (it sums over the observed positions)',
    );
  validateClasses(o, a.n_classes as number, true);
  validateFiles(o);
  if (o.calibration !== undefined) validateCalibration(o.calibration);
  if (o.draft_for !== undefined && (typeof o.draft_for !== 'string' || !o.draft_for))
    fail('manifest-draft', 'draft_for must be the name of the model this one drafts for');
  if (o.ising !== undefined) {
    const g = o.ising as Record<string, unknown>;
    if (typeof g !== 'object' || g === null || Array.isArray(g))
      fail('manifest-ising', 'ising must be an object {L, beta, log_z}');
    if (!Number.isSafeInteger(g.L) || (g.L as number) < 1)
      fail('manifest-ising', `ising.L must be a positive integer, got ${JSON.stringify(g.L)}`);
    if ((g.L as number) ** 2 !== a.max_len)
      fail('manifest-ising', `ising.L² = ${(g.L as number) ** 2} must equal max_len ${a.max_len}`);
    for (const k of ['beta', 'log_z'])
      if (typeof g[k] !== 'number' || !Number.isFinite(g[k]))
        fail('manifest-ising', `ising.${k} must be a finite number`);
  }
  return o as unknown as ModelManifest;
}

function validateCalibration(c: unknown): void {
  const r = calibrationObject(c, 'calibration');
  validateFigures(r, 'calibration');
  if (typeof r.evaluator !== 'string' || !r.evaluator)
    fail('manifest-calibration', 'calibration.evaluator must be a model name');
  if (r.check !== undefined) validateFigures(calibrationObject(r.check, 'calibration.check'), 'calibration.check');
}

function calibrationObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail('manifest-calibration', `${what} must be an object (scripts/calibrate-mam.ts)`);
  return v as Record<string, unknown>;
}

function validateFigures(r: Record<string, unknown>, at: string): void {
  const bad = (what: string) => fail('manifest-calibration', `${at}.${what}`);
  const num = (v: unknown, what: string, lo = -Infinity, hi = Infinity) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
      bad(`${what} must be a finite number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  };
  const obj = (v: unknown, what: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
    return v as Record<string, unknown>;
  };
  if (!Number.isSafeInteger(r.snippets) || (r.snippets as number) < 1)
    bad(`snippets must be a positive integer, got ${JSON.stringify(r.snippets)}`);
  num(r.emptyAbsMax, 'emptyAbsMax', 0);
  num(r.maxLogp, 'maxLogp');
  const p = obj(r.padding, 'padding');
  num(p.meanAbsPerChar, 'padding.meanAbsPerChar', 0);
  num(p.maxAbsPerChar, 'padding.maxAbsPerChar', 0);
  const v = obj(r.vsExact, 'vsExact');
  num(v.spearman, 'vsExact.spearman', -1, 1);
  num(v.meanAbsPerChar, 'vsExact.meanAbsPerChar', 0);
  num(v.meanSignedPerChar, 'vsExact.meanSignedPerChar');
  num(r.shuffledAuc, 'shuffledAuc', 0, 1);
}

function validateOnnx(o: Record<string, unknown>, a: Record<string, unknown>): OnnxManifest | OnnxDenoiserManifest {
  if (!ONNX_KINDS.includes(a.kind as OnnxKind))
    fail(
      'manifest-architecture',
      `an ONNX model's kind must be ${ONNX_KINDS.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(a.kind)}`,
    );
  const kind = a.kind as OnnxKind;
  if (!Number.isSafeInteger(a.n_classes) || (a.n_classes as number) < 0)
    fail('manifest-architecture', 'architecture.n_classes must be an integer ≥ 0');
  // role → graph name maps, against the kind's roles (src/models/onnx/roles.ts)
  const names = (side: 'inputs' | 'outputs'): Record<string, string> => {
    const v = a[side];
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      fail('manifest-onnx-io', `architecture.${side} must map roles to graph names`);
    const r = v as Record<string, unknown>,
      roles = rolesOf(kind, side);
    for (const [k, n] of Object.entries(r)) {
      if (!(k in roles))
        fail(
          'manifest-onnx-io',
          `architecture.${side}.${k}: unknown role for a ${kind} graph (known: ${Object.keys(roles).join(', ')})`,
        );
      if (typeof n !== 'string' || !n)
        fail('manifest-onnx-io', `architecture.${side}.${k} must be a graph ${side.slice(0, -1)} name`);
    }
    for (const [k, spec] of Object.entries(roles))
      if (spec.required && typeof r[k] !== 'string') fail('manifest-onnx-io', `architecture.${side}.${k} is required`);
    if (new Set(Object.values(r)).size !== Object.values(r).length)
      fail('manifest-onnx-io', `two ${side.slice(0, -1)} roles name the same graph ${side.slice(0, -1)}`);
    return r as Record<string, string>;
  };
  const inputs = names('inputs');
  names('outputs');
  if (a.ep !== undefined && !ONNX_EPS.includes(a.ep as OnnxEp))
    fail('manifest-architecture', `architecture.ep must be ${ONNX_EPS.map((e) => `"${e}"`).join(', ')}`);
  if ((a.n_classes as number) > 0 && !inputs.class)
    fail('manifest-onnx-io', `a model with ${a.n_classes} classes needs architecture.inputs.class`);
  validateFiles(o, 'onnx');
  if ((o.files as { role: string }[]).filter((f) => f.role === 'onnx').length !== 1)
    fail('manifest-files', 'an ONNX model lists exactly one file of role "onnx"');
  if (kind === 'denoiser') {
    for (const k of ['image_size', 'channels']) posInt(a[k], `architecture.${k}`, 4096);
    if (!ONNX_TIMESTEPS.includes(a.timestep as OnnxTimestep))
      fail(
        'manifest-architecture',
        `architecture.timestep must be "index" (the integer step) or "unit" (t / T in [0, 1))`,
      );
    validateDiffusion(o, a.n_classes as number);
    return o as unknown as OnnxDenoiserManifest;
  }
  for (const k of ['vocab_size', 'max_len']) posInt(a[k], `architecture.${k}`);
  const tok = validateTextTokenizer(o, a.vocab_size);
  const inVocab = (v: unknown) =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < (a.vocab_size as number);
  if (kind === 'masked-diffusion' && tok.type === 'hf' && typeof tok.mask_token !== 'string')
    fail('manifest-tokenizer', 'a masked-diffusion model needs tokenizer.mask_token (a token of its tokenizer.json)');
  else if (kind === 'masked-diffusion' && tok.type === 'char' && !inVocab(tok.mask_id))
    fail('manifest-tokenizer', 'a masked-diffusion model needs tokenizer.mask_id in the vocabulary');
  if (kind === 'causal' && !inVocab(a.bos_id))
    fail(
      'manifest-architecture',
      'a causal model needs architecture.bos_id in the vocabulary (the token fed before x_0)',
    );
  validateClasses(o, a.n_classes as number, true);
  return o as unknown as OnnxManifest;
}

/** A Hugging Face architecture: its config parses (src/models/hf/config.ts) and the manifest's sizes agree with it. */
function validateHf(o: Record<string, unknown>, a: Record<string, unknown>): HfManifest {
  const spec = parseHfConfig(a.config, 'manifest.json architecture.config');
  if (typeof a.causal !== 'boolean') fail('manifest-architecture', 'architecture.causal must be true or false');
  if (spec.attention && a.causal !== (spec.attention === 'causal'))
    fail(
      'manifest-architecture',
      `a ${spec.modelType} model is ${spec.attention} (architecture.causal ${spec.attention === 'causal'})`,
    );
  if (a.vocab_size !== spec.vocab)
    fail('manifest-architecture', `architecture.vocab_size ${a.vocab_size} contradicts config's ${spec.vocab}`);
  posInt(a.max_len, 'architecture.max_len', spec.maxLen);
  if (a.n_classes !== 0) fail('manifest-architecture', 'architecture.n_classes must be 0 (unconditional)');
  const bos = a.bos_id ?? spec.bosId;
  if (a.causal && (!Number.isSafeInteger(bos) || (bos as number) < 0 || (bos as number) >= spec.vocab))
    fail(
      'manifest-architecture',
      'a causal model needs architecture.bos_id (or config bos_token_id) in the vocabulary',
    );
  validateTextTokenizer(o, a.vocab_size);
  validateClasses(o, 0, true);
  validateFiles(o);
  return o as unknown as HfManifest;
}

/** A text model's tokenizer: a character vocabulary or a Hugging Face tokenizer.json listed in files. */
function validateTextTokenizer(o: Record<string, unknown>, vocabSize: unknown): Record<string, unknown> {
  const tok = o.tokenizer as Record<string, unknown> | undefined;
  if (!tok || tok.type !== 'hf') return validateCharTokenizer(o, vocabSize);
  const files = Array.isArray(o.files) ? (o.files as Record<string, unknown>[]) : [];
  if (typeof tok.file !== 'string' || !files.some((f) => f?.path === tok.file && f?.role === 'tokenizer'))
    fail('manifest-tokenizer', 'tokenizer.file must name a file listed in files with role "tokenizer"');
  for (const k of ['mask_token', 'pad_token'])
    if (tok[k] !== undefined && (typeof tok[k] !== 'string' || !tok[k]))
      fail('manifest-tokenizer', `tokenizer.${k} must be a token's text`);
  if (
    tok.special_tokens !== undefined &&
    (!Array.isArray(tok.special_tokens) || tok.special_tokens.some((t) => typeof t !== 'string' || !t))
  )
    fail('manifest-tokenizer', "tokenizer.special_tokens must be a list of tokens' texts");
  if (tok.mask_id !== undefined && tok.mask_token === undefined)
    fail('manifest-tokenizer', 'tokenizer.mask_id needs tokenizer.mask_token (it is checked against it)');
  if (tok.clean_up_tokenization_spaces !== undefined && typeof tok.clean_up_tokenization_spaces !== 'boolean')
    fail('manifest-tokenizer', 'tokenizer.clean_up_tokenization_spaces must be true or false');
  return tok;
}

/** A character tokenizer whose vocabulary has the architecture's vocab_size entries. */
function validateCharTokenizer(o: Record<string, unknown>, vocabSize: unknown): Record<string, unknown> {
  const tok = o.tokenizer as Record<string, unknown> | undefined;
  if (!tok || tok.type !== 'char' || !Array.isArray(tok.vocab) || tok.vocab.some((c) => typeof c !== 'string'))
    fail(
      'manifest-tokenizer',
      'tokenizer must be {type: "char", vocab: string[]} or {type: "hf", file: "tokenizer.json"}',
    );
  if ((tok.vocab as string[]).length !== vocabSize)
    fail(
      'manifest-tokenizer',
      `tokenizer has ${(tok.vocab as string[]).length} entries but vocab_size is ${vocabSize}`,
    );
  return tok;
}
