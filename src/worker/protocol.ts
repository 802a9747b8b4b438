/**
 * The one typed worker boundary: every type that crosses it, the `EngineApi` the engine implements
 * (`class Engine implements EngineApi`, src/worker/engine.ts) and `ENGINE_METHODS`, the one table
 * from which both sides are built — the worker's expose (src/worker/sampler.worker.ts) and the
 * main thread's proxy (src/worker/client.ts). Adding an engine call: declare it in `EngineApi`,
 * implement it on `Engine`, give it a row in `ENGINE_METHODS` (the compiler asks for each).
 *
 * Across the boundary: results' big arrays are transferred (each row's `transfer`), callbacks cross
 * as Comlink proxies (`callbacks`), a request's `signal` stays on the main thread and cancels by
 * request id (`request`), failures cross as the same typed Error subclasses (`installErrorTransfer`).
 * This file imports types only (and errors): nothing of the engine, the models or the GPU.
 */
import type { TokenizerSpec } from '../models/tokenizer.js';
import type { AnyManifest } from '../models/manifest.js';
import type { OrtThreads } from '../models/onnx/threads.js';
import type { MemoryEstimate } from '../models/weights.js';
import * as Comlink from 'comlink';
import * as errors from '../errors.js';
import type { BackendInfo } from '../backend/backend.js';
import type { SampleOptions } from '../ops/categorical.js';
import type { MarginalForm, MamCalibrationRecord } from '../models/manifest.js';
import type { AsarmOptions } from '../samplers/asarm.js';
import type { SampleResult, SamplerCheckpoint } from '../samplers/common.js';
import type { DiffusionOptions, DiffusionResult } from '../samplers/diffusion.js';
import type { MdmOptions } from '../samplers/mdm.js';
import type { SweepSpec } from '../sweep/spec.js';
import type { SweepRecord } from '../sweep/records.js';

export type { BackendInfo } from '../backend/backend.js';
/** ASSD's per-position marks in `EngineProgress.drafts` */
export { DRAFT_MARK } from '../samplers/draft-marks.js';
/** the main thread refuses a model URL of a foreign origin before posting it (the worker checks again) */
export { checkOrigin } from '../models/origin.js';
// the elements turn prompts into ids and samples into text with the model's tokenizer (a leaf module)
export { encodePrompt, tokenizerFromSpec, type TextTokenizer } from '../models/tokenizer.js';

export type BackendPreference = 'webgpu' | 'cpu' | 'auto';

export interface MatmulRequest {
  /** (M, K) row-major */
  a: Float32Array;
  /** (K, N) row-major */
  b: Float32Array;
  M: number;
  K: number;
  N: number;
}

export interface MatmulResult {
  /** (M, N) */
  c: Float32Array;
  /** wall time inside the worker, including readback */
  ms: number;
  backend: BackendInfo['name'];
}

export interface SampleRequest {
  /** (rows, V) */
  logits: Float32Array;
  rows: number;
  V: number;
  options: Omit<SampleOptions, 'out'>;
}

/**
 * How a native model whose manifest names an `onnx_form` (a sibling folder with the same weights as ONNX) runs:
 * 'native' — our kernels on the engine's backend (on the CPU backend, the f64 twins); 'onnx-wasm' — its ONNX form
 * on onnxruntime-web's wasm EP (the fast CPU path: measured 43–59× the twins' forward on text-mdm); 'auto' —
 * on the CPU backend 'onnx-wasm' when the form loads (else native, saying why); on WebGPU one forward of each is
 * timed at load and the faster kept (the decision is remembered per adapter and model for later loads).
 */
export type ModelPath = 'native' | 'onnx-wasm' | 'auto';

/** Options of `loadModel`. */
export interface EngineLoadOptions {
  id?: string;
  allowedOrigins?: string[];
  ep?: 'webgpu' | 'wasm' | 'auto';
  files?: ReadonlyMap<string, Blob>;
  path?: ModelPath;
  /**
   * The fast CPU path's threads (onnxruntime-web's wasm EP): a count or 'auto' (cores, up to 4); default 1.
   * Threads need a cross-origin-isolated page (COOP/COEP headers) or Node; elsewhere one thread runs and
   * `info.path.reason` says why. The first ONNX load of a worker fixes the count.
   */
  threads?: OrtThreads;
}

export interface ModelInfo {
  /** handle for later calls */
  id: string;
  name: string;
  kind: 'text' | 'denoiser' | 'classifier' | 'text-classifier';
  family: string;
  classes: string[];
  /** text: vocabulary and [MASK]; images: (H, W, C) */
  vocab?: string[];
  maskId?: number;
  /** text models: how to turn text into ids and back (src/models/tokenizer.ts tokenizerFromSpec) */
  tokenizer?: TokenizerSpec;
  /** the model's manifest as validated (what the "your model" page shows: roles, sizes, files) */
  manifest?: AnyManifest;
  maxLength?: number;
  attention?: 'bidirectional' | 'two-stream' | 'causal';
  hasMarginalHead?: boolean;
  imageShape?: [number, number, number];
  timesteps?: number;
  metrics?: Record<string, unknown>;
  /** Ising MaM models: lattice side L (tokens = L²), inverse temperature β and exact log Z */
  ising?: { L: number; beta: number; logZ: number };
  /**
   * MaM models: the marginal head's form — 'observed-softplus' is a log-probability by construction
   * (0 with nothing observed, never positive); 'mean-linear' is unconstrained
   */
  marginalForm?: MarginalForm;
  /** Text MaM models: the head's measured calibration, when the manifest records one (scripts/calibrate-mam.ts) */
  calibration?: MamCalibrationRecord;
  /**
   * Native text models: bytes of the weights as uploaded and of the activations of one forward at
   * batch 1 and full length (Model.memoryEstimate)
   */
  memory?: MemoryEstimate;
  /** models with an `onnx_form`: which path runs it and why (ModelPath) */
  path?: { used: 'native' | 'onnx-wasm'; reason: string; threads?: number };
}

/** What a model's manifest says, read without its weights: enough to list models and pair them. */
export interface ModelSummary {
  /** the source it was read from, as given */
  source: string;
  name: string;
  kind: ModelInfo['kind'];
  family: string;
  classes: string[];
  /** text models: which token ids mean what — the char vocabulary, or "hf:" + the tokenizer file's sha256 */
  vocabulary?: string;
}

/** A classifier's outputs: features (n, featureDim) and logits (n, classes). */
export interface Classified {
  features: Float32Array;
  logits: Float32Array;
}

/** Per-step progress of a request (cloneable: crosses the worker boundary). */
export interface EngineProgress {
  requestId: string;
  step: number;
  /** total steps when known in advance */
  steps?: number;
  nfe: number;
  /** text: current tokens (batch, length), [MASK] where undecided */
  tokens?: Uint32Array;
  /** text, ASSD: what the last round did at each position (batch, length), `DRAFT_MARK` values */
  drafts?: Uint8Array;
  /** images: x̂0 preview (batch, H, W, C) in [0, 1] */
  x0?: Float32Array;
}

export type ProgressFn = (p: EngineProgress) => void;

// `samples` > `batch`: continuous batching (AS-ARM, speculative); cancellation is the request's (its signal
// stays on this side), so the samplers' own `signal` does not cross
type TextKnobs = Omit<MdmOptions, 'onStep' | 'sampler'> & Omit<AsarmOptions, 'onStep' | 'sampler' | 'signal'>;

export interface TextSampleRequest {
  model: string;
  sampler: 'fhs' | 'ancestral' | 'sequential' | 'assd' | 'speculative';
  options: Omit<TextKnobs, 'prompt'> & {
    prompt?: Int32Array;
    /**
     * speculative: the draft — a loaded model's handle (same vocabulary and classes) or "self:N" (the target's
     * first N blocks). Default: a loaded model made for it (manifest `draft_for`), else self:⌈layers/3⌉.
     */
    draftModel?: string;
  };
}

export interface ImageSampleRequest {
  model: string;
  options: Omit<DiffusionOptions, 'onStep' | 'hybrid'> & {
    /**
     * λ ∈ [0, 1]: sample from the weights (1 − λ)·model + λ·partner (built once per λ and kept under the
     * handle "model×partner@λ"); 0 = the model itself
     */
    lambda?: number;
    /** λ's partner (a loaded denoiser's handle); default: a loaded one whose manifest says it is `model`'s student */
    lambdaModel?: string;
  };
  /** base → student switch: handle of the student denoiser */
  hybrid?: { student: string; baseSteps: number; studentSteps: number };
}

export type TextSampleResult = SampleResult & { texts: string[] };
export type ImageSampleResult = DiffusionResult;

/** A request that can be cancelled: by id (`cancel(requestId)`) or by aborting `signal`. */
export interface RequestOptions {
  /** request id (default: generated); `cancel(requestId)` and `resume(requestId)` name it */
  requestId?: string;
  /** aborting it cancels the request: it rejects with AbortError after the model call in flight */
  signal?: AbortSignal;
}

export interface SweepOptions extends RequestOptions {
  /** run one shard: the settings whose index ≡ index (mod count) */
  shard?: { index: number; count: number };
  /** setting indices already done (a rerun skips them) */
  skip?: number[];
  /** refuse with AdapterRequirementError, before any setting runs, unless on WebGPU with a hardware adapter */
  requireHardware?: boolean;
}

export interface EvalOptions {
  /** engine handle of the classifier (digits-classifier / text-classifier) */
  classifier: string;
  /** text: engine handle of the AS-ARM model for NLL */
  evaluator?: string;
  /** PRDC k (default 5) */
  k?: number;
}

export type Metrics = Record<string, number>;

/** Requests interrupted by device loss keep what they asked and how far they got. */
export type InterruptedRequest =
  | { kind: 'text'; req: TextSampleRequest; checkpoint?: SamplerCheckpoint }
  | { kind: 'image'; req: ImageSampleRequest; checkpoint?: SamplerCheckpoint };

export interface BackendAvailability {
  /** 'onnx-wasm': the fast CPU path (a model's ONNX form on onnxruntime-web's wasm EP) */
  name: 'webgpu' | 'cpu' | 'onnx-wasm';
  available: boolean;
  detail: string;
  /** whether something runs on it: the engine's backend, or a loaded model on the fast CPU path */
  active: boolean;
  /** webgpu: a CPU (software) adapter — SwiftShader, lavapipe */
  software?: boolean;
  /** webgpu: how f16 weights are read there — 'native' (shader-f16) or 'packed' (BackendInfo.f16) */
  f16?: 'native' | 'packed';
  /** the loaded models with a path choice that run here, and why (ModelInfo.path) */
  models?: { id: string; reason: string }[];
}

/**
 * The engine's calls. Implemented by `Engine` (used directly in Node, and inside the worker); the
 * main thread's `EngineClient` has the same calls, each returning a Promise.
 */
export interface EngineApi {
  /** Acquire a backend (once); returns which one is in use and why. */
  init(prefer?: BackendPreference): Promise<BackendInfo>;
  info(): Promise<BackendInfo>;
  /** the backends available here (webgpu with its adapter or the reason it is missing; cpu) */
  backends(): Promise<BackendAvailability[]>;
  /** kernel-level calls (the kernel demo) */
  matmul(req: MatmulRequest): Promise<MatmulResult>;
  sample(req: SampleRequest): Promise<Uint32Array>;
  /**
   * Load a model folder / manifest URL under a handle. `allowedOrigins`: origins the URL may come
   * from besides the page's own (OriginNotAllowedError otherwise, before any fetch). `ep`: an ONNX
   * model's execution provider (over its manifest's; 'auto' by default). `files`: the model's files as Blobs by
   * path (a dropped folder), read instead of fetched, checked the same way. `path`: how a native model whose
   * manifest names an `onnx_form` runs (ModelPath; default 'native').
   */
  loadModel(source: string, opts?: EngineLoadOptions): Promise<ModelInfo>;
  listModels(): ModelInfo[] | Promise<ModelInfo[]>;
  /**
   * Read the manifests of model folders / manifest URLs (no weights, nothing loaded): what each model
   * is. A source whose manifest cannot be read is left out of the list.
   */
  describeModels(sources: string[], opts?: { allowedOrigins?: string[] }): Promise<ModelSummary[]>;
  /** the λ knob: weights (1 − λ)·A + λ·B of two loaded denoisers, under a new handle */
  loadInterpolated(a: string, b: string, lambda: number, opts?: { id?: string }): Promise<ModelInfo>;
  unload(id: string): void | Promise<void>;
  sampleText(req: TextSampleRequest, onProgress?: ProgressFn, o?: RequestOptions): Promise<TextSampleResult>;
  sampleImage(req: ImageSampleRequest, onProgress?: ProgressFn, o?: RequestOptions): Promise<ImageSampleResult>;
  /** MaM: log p of partial texts (unknown characters = maskId) in one pass; (batch) */
  score(model: string, tokens: Uint32Array, batch: number, length: number, classId?: number): Promise<Float32Array>;
  classify(model: string, images: Float32Array, n: number): Promise<Classified>;
  classifyText(model: string, tokens: Uint32Array, batch: number): Promise<Classified>;
  /** left-to-right NLL per token of each row under a two-stream (AS-ARM) model */
  nll(model: string, tokens: Uint32Array, batch: number, length: number, classId?: number): Promise<Float64Array>;
  /** every metric (consistency, Vendi, PRDC vs the classifier's reference set, entropy, distinct-2, NLL) of samples */
  evaluateText(tokens: Uint32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics>;
  evaluateImages(images: Float32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics>;
  /** run a sweep (or a shard of it); every finished setting reaches onRecord; cancel by id or signal */
  sweep(spec: SweepSpec, o?: SweepOptions, onRecord?: (r: SweepRecord) => void): Promise<SweepRecord[]>;
  /** continue a request that failed with DeviceLostError from its last completed step (new device, models reloaded) */
  resume(requestId: string, onProgress?: ProgressFn): Promise<TextSampleResult | ImageSampleResult>;
  interruptedRequests(): string[] | Promise<string[]>;
  /** cancel a running request by id: it rejects with AbortError after the model call in flight */
  cancel(requestId: string): void | Promise<void>;
  /** fault injection for tests: throw an uncaught error in the engine's thread after `ms` (the worker dies) */
  crashForTest(ms: number): void | Promise<void>;
  /** fault injection for tests: destroy the engine's WebGPU device (OpInputError on the cpu backend) */
  loseDeviceForTest(): Promise<void>;
}

type Result<K extends keyof EngineApi> = Awaited<ReturnType<EngineApi[K]>>;

/** How one engine call crosses the boundary. */
export interface MethodSpec<K extends keyof EngineApi> {
  /** argument positions holding callbacks: they cross as Comlink proxies */
  callbacks?: number[];
  /** position of the `RequestOptions` argument: its signal stays here and cancels the request by id */
  request?: number;
  /** the result's buffers, transferred (not copied) to the caller */
  transfer?: (r: Result<K>) => Transferable[];
}

const buffers = (...xs: ArrayBufferView[]): ArrayBuffer[] => xs.map((x) => x.buffer as ArrayBuffer);

/** Every engine call and how it crosses the worker boundary; both sides are built from this table. */
export const ENGINE_METHODS: { [K in keyof EngineApi]-?: MethodSpec<K> } = {
  init: {},
  info: {},
  backends: {},
  matmul: { transfer: (r) => buffers(r.c) },
  sample: { transfer: (r) => buffers(r) },
  loadModel: {},
  listModels: {},
  describeModels: {},
  loadInterpolated: {},
  unload: {},
  sampleText: { callbacks: [1], request: 2, transfer: (r) => buffers(r.samples) },
  sampleImage: { callbacks: [1], request: 2, transfer: (r) => buffers(r.images) },
  score: { transfer: (r) => buffers(r) },
  classify: { transfer: (r) => buffers(r.features, r.logits) },
  classifyText: { transfer: (r) => buffers(r.features, r.logits) },
  nll: { transfer: (r) => buffers(r) },
  evaluateText: {},
  evaluateImages: {},
  sweep: { callbacks: [2], request: 1 },
  resume: { callbacks: [1], transfer: (r) => buffers('images' in r ? r.images : r.samples) },
  interruptedRequests: {},
  cancel: {},
  crashForTest: {},
  loseDeviceForTest: {},
};

/** The main thread's view of the engine: every call of `EngineApi`, each returning a Promise. */
export type EngineCalls = { [K in keyof EngineApi]: (...args: Parameters<EngineApi[K]>) => Promise<Result<K>> };

type ErrorClass = new (...args: never[]) => Error;
const ERROR_CLASSES: Record<string, ErrorClass> = {};
for (const [name, value] of Object.entries(errors)) {
  if (typeof value === 'function' && value.prototype instanceof Error) ERROR_CLASSES[name] = value as ErrorClass;
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

/** Rebuild a typed error from its serialised form (unknown names become plain Errors). */
export function reviveError(s: SerializedError): Error {
  const cls = ERROR_CLASSES[s.name];
  const e: Error = cls ? Object.create(cls.prototype) : new Error(s.message);
  Object.assign(e, s.fields, { name: s.name, message: s.message, stack: s.stack });
  return e;
}

export function serializeError(e: Error): SerializedError {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    try {
      structuredClone(v);
      fields[k] = v;
    } catch {
      fields[k] = String(v);
    }
  }
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

let installed = false;

/**
 * Make thrown SamplescopeErrors cross the boundary with their class and fields (Comlink's default
 * keeps only name/message/stack). Call on both sides; idempotent.
 */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const base = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown: unknown) {
      const value = (thrown as { value: unknown }).value;
      if (value instanceof errors.SamplescopeError) return [{ typed: true, error: serializeError(value) }, []];
      return base.serialize(thrown);
    },
    deserialize(data: unknown) {
      const d = data as { typed?: boolean; error?: SerializedError };
      if (d && d.typed && d.error) throw reviveError(d.error);
      return base.deserialize(data);
    },
  });
}
