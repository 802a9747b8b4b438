/**
 * The Model interface: all a sampler may use. Samplers never touch src/gpu; they hand token ids and
 * conditioning in, get logits (or log-marginals) back as backend tensors, and decide when to read.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import type { TextTokenizer } from './tokenizer.js';
import type { CnnManifest, DitManifest, OnnxDenoiserManifest, TextCnnManifest, TextManifest } from './manifest.js';
import { OpInputError } from '../errors.js';
import type { MemoryEstimate } from './weights.js';

/** Rows of token ids (batch, length) and the class they are conditioned on (default: none). */
export type TokenRows = [tokens: Uint32Array, batch: number, length: number, classId?: number];

export interface ForwardInput {
  /** (batch, length) token ids; [MASK] = `maskId` where the model has one */
  tokens: Uint32Array;
  batch: number;
  length: number;
  /** (batch) class ids; `nullClass` means "no class" (classifier-free guidance). Default: nullClass. */
  classes?: Uint32Array;
  /**
   * Two-stream models: (batch, length) order σ, a permutation of 0..length-1 per row
   * (order[i] = the position generated i-th). Default: left to right.
   */
  order?: Uint32Array;
  /**
   * Two-stream models, draft mode: (batch) prefix lengths n. The query stream at every position whose
   * rank in σ is ≥ n sees only the content at ranks < n, so one pass gives p(x_σ(j) | x_σ(<n)) for
   * all j ≥ n at once (any-subset parallel drafts). Default: ordinary σ-causal queries.
   */
  queryPrefix?: Uint32Array;
  /** Two-stream models: run only the first `layers` blocks, then the final norm and head (self-speculation drafts). */
  layers?: number;
}

/**
 * A KV cache for incremental decoding of a two-stream model under a fixed order: slot i of row b holds
 * the content stream's keys and values (every layer) of the i-th token decided in that row. Content at
 * rank i sees only ranks ≤ i, so a decided slot never changes; rows advance independently (ragged
 * batches). Allocated once by `Model.createCache`; nothing is allocated per token.
 */
export interface DecodeCache {
  readonly batch: number;
  /** slots per row */
  readonly capacity: number;
  /** layers it runs: the model's, or fewer (self-speculation: the model with its later layers skipped) */
  readonly layers: number;
  /** decided slots per row (a copy) */
  lengths(): Uint32Array;
  /** Roll row `b` back to `length` ≤ its current length: O(1), later slots are overwritten by the next append. */
  truncate(b: number, length: number): void;
  dispose(): void;
}

/** One decode pass: append tokens to every row, then predict at query positions (logits (batch, q, V)). */
export interface DecodeInput {
  /**
   * (batch, m) token ids appended at each row's current length; m may be 0 (queries only). A u32 tensor on
   * the model's backend (e.g. the draws of a categorical op) is used in place, without a readback; its
   * ids are not range-checked on the host (an id outside the vocabulary embeds as NaN on the GPU).
   */
  tokens: Uint32Array | Tensor;
  /** (batch, m) the sequence positions of those tokens (RoPE) */
  positions: Uint32Array;
  m: number;
  /** (batch, q) positions to predict, q ≥ 1 */
  queries: Uint32Array;
  q: number;
  /**
   * (batch, q) slots each query sees (after the append), ≤ the row's new length. Default: the queries
   * predict what follows the last q of the m + 1 prefixes — query j sees lengths[b] + m − q + 1 + j slots
   * (q = 1: the whole row; q = m + 1: slot counts lengths[b] … lengths[b] + m, a speculative verify).
   */
  visible?: Uint32Array;
  /** (batch) class ids; default the null class */
  classes?: Uint32Array;
}

export interface Model {
  readonly name: string;
  readonly manifest: TextManifest;
  readonly backend: Backend;
  readonly vocabSize: number;
  readonly maxLength: number;
  /** id of [MASK], if the vocabulary has one */
  readonly maskId: number | undefined;
  /** text ↔ ids (set by the loaders; absent: the manifest's character vocabulary, see tokenizerOf) */
  readonly tokenizer?: TextTokenizer;
  readonly numClasses: number;
  readonly nullClass: number;
  /**
   * 'bidirectional' (MDM): logits p(x_i | visible tokens); 'two-stream' (AS-ARM): p(x_σ(i) | x_σ(<i));
   * 'causal' (a causal LM, e.g. an ONNX graph): p(x_i | x_<i), σ left to right only (no other order, no query prefix)
   */
  readonly attention: 'bidirectional' | 'two-stream' | 'causal';
  readonly hasMarginalHead: boolean;

  /**
   * Throws LimitExceededError (naming the backend's binding limit) when a forward of `batch` rows of
   * `length` tokens would need a tensor larger than the backend holds; allocates nothing. Samplers
   * call it before their own host-side allocations, so an impossible request fails at once.
   */
  checkFits(batch: number, length: number): void;
  /**
   * Logits (batch, length, vocab) on `backend`. The caller frees the tensor. Native models return at
   * once (they only encode); a model run by another runtime (ONNX) returns a promise — callers await.
   */
  forward(input: ForwardInput): Tensor | Promise<Tensor>;
  /**
   * Two-stream models on the native runtime: a KV cache of `capacity` slots per row for `layers` ≤ the
   * model's layers (default all). Checks the size against the backend (LimitExceededError) before it
   * allocates. Absent on models without incremental decoding.
   */
  createCache?(batch: number, capacity: number, o?: { layers?: number }): DecodeCache;
  /**
   * One incremental pass over `cache` (created by this model): appends `input.tokens` to every row and
   * returns logits (batch, q, V) at the query positions; the rows' lengths grow by m. Equals the
   * full forward's logits for the same prefix and order (tested). The caller frees the tensor.
   */
  decode?(cache: DecodeCache, input: DecodeInput): Tensor;
  /**
   * Native models: bytes of the weights as uploaded and of the activations of one forward at
   * (batch, length) — an estimate of what the model takes on its backend (ModelInfo.memory).
   */
  memoryEstimate?(batch: number, length: number): MemoryEstimate;
  /** MaM head: log p(observed tokens), unobserved positions = [MASK]; (batch) on `backend`. */
  logMarginal(input: ForwardInput): Tensor;
  dispose(): void;
}

/** Input of an image denoiser: noisy images and their integer timesteps. */
export interface DenoiserInput {
  /** (batch, H, W, C) noisy images x_t on the model's backend */
  x: Tensor;
  /** (batch) timesteps in [0, timesteps) */
  t: Uint32Array;
  /** (batch) class ids; `nullClass` = no class (the unconditional model for guidance). Default: nullClass. */
  classes?: Uint32Array;
}

/** An ε-prediction image denoiser (DDPM family). What the diffusion samplers may use. */
export interface DenoiserModel {
  readonly kind: 'denoiser';
  readonly name: string;
  readonly manifest: DitManifest | OnnxDenoiserManifest;
  readonly backend: Backend;
  readonly imageSize: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly nullClass: number;
  /** training timesteps T and ᾱ_t for t = 0..T-1 (f64) */
  readonly timesteps: number;
  readonly alphasCumprod: Float64Array;
  /** As Model.checkFits: LimitExceededError when a forward of `batch` images cannot fit; allocates nothing. */
  checkFits(batch: number): void;
  /** ε̂(x_t, t, c) (batch, H, W, C) on `backend`. The caller frees it. Another runtime's (ONNX) returns a promise. */
  forward(input: DenoiserInput): Tensor | Promise<Tensor>;
  dispose(): void;
}

/** An image classifier whose penultimate layer serves as a feature space for metrics. */
export interface ClassifierModel {
  readonly kind: 'classifier';
  readonly name: string;
  readonly manifest: CnnManifest;
  readonly backend: Backend;
  readonly imageSize: number;
  readonly numClasses: number;
  readonly featureDim: number;
  /**
   * images (batch, H, W) or (batch, H, W, 1) in [0, 1] → features (batch, featureDim) and logits (batch, numClasses);
   * the caller frees both
   */
  run(images: Tensor): { features: Tensor; logits: Tensor };
  dispose(): void;
}

/** A text classifier whose penultimate layer serves as a feature space for text metrics. */
export interface TextClassifierModel {
  readonly kind: 'text-classifier';
  readonly name: string;
  readonly manifest: TextCnnManifest;
  readonly backend: Backend;
  /** the snippet length it reads */
  readonly length: number;
  readonly numClasses: number;
  readonly featureDim: number;
  /** token ids (batch, length) → features (batch, featureDim) and logits (batch, numClasses); the caller frees both */
  run(tokens: Uint32Array, batch: number): { features: Tensor; logits: Tensor };
  dispose(): void;
}

/**
 * The checks every text model's forward makes, in one place: a live model, batch and length in range,
 * the size against the backend (`checkFits`), token ids in the vocabulary, classes in range. Returns
 * the classes (default: the null class for every row).
 */
export function checkForwardInput(m: Model, input: ForwardInput, op: string, disposed: boolean): Uint32Array {
  if (disposed) throw new OpInputError(op, `model ${m.name} was disposed`);
  const { batch: B, length: T, tokens } = input;
  if (!Number.isInteger(B) || B < 1) throw new OpInputError(op, `batch must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1 || T > m.maxLength)
    throw new OpInputError(op, `length must be in [1, ${m.maxLength}], got ${T}`);
  m.checkFits(B, T);
  if (tokens.length !== B * T)
    throw new OpInputError(op, `tokens has ${tokens.length} ids, expected batch·length = ${B * T}`);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= m.vocabSize)
      throw new OpInputError(op, `token id ${tokens[i]} at ${i} is outside the vocabulary [0, ${m.vocabSize})`);
  }
  const classes = input.classes ?? new Uint32Array(B).fill(m.nullClass);
  if (classes.length !== B) throw new OpInputError(op, `classes has ${classes.length} entries, expected ${B}`);
  for (const c of classes)
    if (c > m.nullClass)
      throw new OpInputError(op, `class ${c} is outside [0, ${m.nullClass}] (${m.manifest.classes.join(', ')})`);
  return classes;
}

/**
 * What a model without a two-stream pass (an ONNX graph, a published architecture) refuses, in one
 * place: a query prefix, skipped layers, and any order but left to right — for a bidirectional model
 * any order at all. `what` names the model's kind in the message ("a causal graph", "a llama model").
 */
export function checkLeftToRightOnly(m: Model, input: ForwardInput, what: string): void {
  const causal = m.attention === 'causal';
  if (input.queryPrefix || input.layers !== undefined || (input.order && !causal))
    throw new OpInputError('forward', `${m.name} is ${what}: it has no any-order (two-stream) pass`);
  const { order, length: T } = input;
  if (order)
    for (let i = 0; i < order.length; i++)
      if (order[i] !== i % T)
        throw new OpInputError(
          'forward',
          `${m.name} is ${what}: it computes left-to-right conditionals only (order[${i}] = ${order[i]}, not ${i % T})`,
        );
}
