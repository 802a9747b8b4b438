/**
 * The one typed worker boundary. `EngineApi` is what the worker exposes (Comlink.expose) and what the
 * main thread gets back from `createEngine()` (Comlink.wrap). Typed arrays cross with
 * Comlink.transfer; failures cross as the same typed Error subclasses (see `installErrorTransfer`).
 */
import * as Comlink from 'comlink';
import * as errors from '../errors.js';
import type { BackendInfo } from '../backend/backend.js';
import type { SampleOptions } from '../backend/shapes.js';
import type { ImageSampleRequest, ImageSampleResult, ModelInfo, ProgressFn, TextSampleRequest, TextSampleResult } from './engine.js';
import type { SweepRecord, SweepSpec } from '../metrics/sweep.js';
import type { EvalOptions, Metrics } from './sweep.js';

export type { EngineProgress, ImageSampleRequest, ImageSampleResult, ModelInfo, ProgressFn, TextSampleRequest, TextSampleResult } from './engine.js';

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

export interface EngineApi {
  /** Acquire a backend (once); returns which one is in use and why. */
  init(prefer?: BackendPreference): Promise<BackendInfo>;
  info(): Promise<BackendInfo>;
  /** the backends available here (webgpu with its adapter or the reason it is missing; cpu) */
  backends(): Promise<{ name: 'webgpu' | 'cpu'; available: boolean; detail: string; active: boolean }[]>;
  /** kernel-level calls (the kernel demo) */
  matmul(req: MatmulRequest): Promise<MatmulResult>;
  sample(req: SampleRequest): Promise<Uint32Array>;
  /** models by handle (see src/worker/engine.ts) */
  /** `allowedOrigins`: origins the model URL may come from besides the worker's own (OriginNotAllowedError otherwise) */
  loadModel(source: string, opts?: { id?: string; allowedOrigins?: string[] }): Promise<ModelInfo>;
  listModels(): Promise<ModelInfo[]>;
  /** the λ knob: weights (1 − λ)·A + λ·B of two loaded denoisers, under a new handle */
  loadInterpolated(a: string, b: string, lambda: number, opts?: { id?: string }): Promise<ModelInfo>;
  unload(id: string): Promise<void>;
  sampleText(req: TextSampleRequest, onProgress?: ProgressFn, requestId?: string): Promise<TextSampleResult>;
  sampleImage(req: ImageSampleRequest, onProgress?: ProgressFn, requestId?: string): Promise<ImageSampleResult>;
  score(model: string, tokens: Uint32Array, batch: number, length: number, classId?: number): Promise<Float32Array>;
  classify(model: string, images: Float32Array, n: number): Promise<{ features: Float32Array; logits: Float32Array }>;
  classifyText(model: string, tokens: Uint32Array, batch: number): Promise<{ features: Float32Array; logits: Float32Array }>;
  /** left-to-right NLL per token of each row under a two-stream (AS-ARM) model */
  nll(model: string, tokens: Uint32Array, batch: number, length: number, classId?: number): Promise<Float64Array>;
  /** every metric (consistency, Vendi, PRDC vs the classifier's reference set, entropy, distinct-2, NLL) of samples */
  evaluateText(tokens: Uint32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics>;
  evaluateImages(images: Float32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics>;
  /** run a sweep (or a shard of it); every finished setting reaches onRecord; cancel(requestId) stops it */
  sweep(spec: SweepSpec, opts?: { shard?: { index: number; count: number }; skip?: number[] }, onRecord?: (r: SweepRecord) => void, requestId?: string): Promise<SweepRecord[]>;
  /** continue a request that failed with DeviceLostError from its last completed step (new device, models reloaded) */
  resume(requestId: string, onProgress?: ProgressFn): Promise<TextSampleResult | ImageSampleResult>;
  interruptedRequests(): Promise<string[]>;
  /** cancel a running request by id: it rejects with AbortError after the model call in flight */
  cancel(requestId: string): Promise<void>;
  /** fault injection for tests: throw an uncaught error inside the worker after `ms` */
  crashForTest(ms: number): Promise<void>;
  /** fault injection for tests: destroy the worker's WebGPU device (OpInputError on the cpu backend) */
  loseDeviceForTest(): Promise<void>;
}

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
