/**
 * The engine: models by handle, sampling / scoring / metrics requests with progress and
 * cancellation, on one backend. It is the same object in Node (used directly, no worker) and in the
 * browser's module worker (src/worker/sampler.worker.ts exposes it through Comlink).
 *
 * Cancellation: `cancel(requestId)` marks the request; the sampler's per-step callback sees the mark
 * after the model call in flight and throws `AbortError`, so a cancelled request settles within one
 * model call (the samplers free their buffers on the way out).
 *
 * Device loss: a request whose device is lost rejects with `DeviceLostError`; the engine keeps the
 * request and its last checkpoint (samplers hand one to every step; randomness is counter-based),
 * and `resume(requestId)` acquires a new device, reloads the models and continues from the last
 * completed step — giving exactly the samples of an uninterrupted run.
 */
import type { Backend, BackendInfo } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { createBackend } from '../backend/create.js';
import { WebGPUBackend } from '../backend/webgpu.js';
import {
  AbortError,
  DeviceLostError,
  ModelFormatError,
  OpInputError,
  SamplerConfigError,
  UnknownModelError,
} from '../errors.js';
import {
  loadClassifier,
  loadDenoiser,
  loadInterpolatedDenoiser,
  loadManifest,
  loadModel,
  loadRoleFiles,
  loadTextClassifier,
  type LoadOptions,
} from '../models/index.js';
import { siblingSource } from '../models/load.js';
import { nllLeftToRight } from '../metrics/nll.js';
import { computeReferenceSet, evaluateImages, evaluateText, type ReferenceSet } from '../sweep/evaluate.js';
import { runSweep } from '../sweep/run.js';
import type { SweepSpec } from '../sweep/spec.js';
import type { SweepRecord } from '../sweep/records.js';
import { marginalFormOf, type AnyManifest } from '../models/manifest.js';
import type { ClassifierModel, DenoiserModel, Model, TextClassifierModel, TokenRows } from '../models/model.js';
import { loadOnnxDenoiser, loadOnnxModel, type OnnxLoadOptions, type OnnxPlan } from '../models/onnx.js';
import { tokenizerOf } from '../models/tokenizer.js';
import { sampleSpeculative } from '../samplers/speculative.js';
import { knobOption } from '../knobs/registry.js';
import { sampleAsarm } from '../samplers/asarm.js';
import { sampleDiffusion } from '../samplers/diffusion.js';
import { logMarginals } from '../samplers/mam.js';
import { sampleMdm } from '../samplers/mdm.js';
import { decisionKey, memoryStore, type DecisionStore } from './path-decisions.js';
import type { SampleResult, SamplerCheckpoint } from '../samplers/common.js';
import type {
  BackendAvailability,
  BackendPreference,
  Classified,
  EngineApi,
  EngineLoadOptions,
  EvalOptions,
  ImageSampleRequest,
  ImageSampleResult,
  InterruptedRequest,
  MatmulRequest,
  MatmulResult,
  Metrics,
  ModelInfo,
  ModelPath,
  ModelSummary,
  ProgressFn,
  RequestOptions,
  SampleRequest,
  SweepOptions,
  TextSampleRequest,
  TextSampleResult,
} from './protocol.js';

type Loaded =
  | { kind: 'text'; model: Model; info: ModelInfo }
  | { kind: 'denoiser'; model: DenoiserModel; info: ModelInfo }
  | { kind: 'classifier'; model: ClassifierModel; info: ModelInfo }
  | { kind: 'text-classifier'; model: TextClassifierModel; info: ModelInfo };

let nextRequest = 0;

/** The adapter a decision was measured on (its description, or the backend's name). */
function adapterKey(be: Backend): string {
  const a = be.info.adapter;
  return a ? a.description || `${a.vendor} ${a.architecture}` : be.name;
}

/** How a model with an ONNX form loads (Engine.fastPath): whether to try the form, whether to measure (the key). */
interface FastPath {
  wanted: boolean;
  required: boolean;
  measure?: string;
  info: { path?: ModelInfo['path'] };
}

/** A model running as its ONNX form on the wasm EP: its thread count and why, into `info.path`. */
function threadsOf(info: { path?: ModelInfo['path'] }, m: Model | DenoiserModel): void {
  const t = (m as { plan?: OnnxPlan }).plan?.threads;
  if (!info.path || info.path.used !== 'onnx-wasm' || !t) return;
  info.path = { ...info.path, threads: t.threads, reason: `${info.path.reason}; ${t.reason}` };
}

/** One forward of a text model on an all-[MASK] row of its full length (the auto path's probe). */
async function probeText(m: Model): Promise<void> {
  const L = m.maxLength;
  const t = await m.forward({
    tokens: new Uint32Array(L).fill(m.maskId ?? 0),
    batch: 1,
    length: L,
    classes: new Uint32Array(1).fill(m.nullClass),
  });
  await m.backend.read(t);
  m.backend.free(t);
}

/** One forward of a denoiser on one zero image at the middle timestep (the auto path's probe). */
async function probeDenoiser(m: DenoiserModel): Promise<void> {
  const be = m.backend;
  const x = be.tensor(new Float32Array(m.imageSize * m.imageSize * m.channels), [
    1,
    m.imageSize,
    m.imageSize,
    m.channels,
  ]);
  const t = await m.forward({ x, t: new Uint32Array([m.timesteps >> 1]), classes: new Uint32Array([m.nullClass]) });
  await be.read(t);
  be.free(t);
  be.free(x);
}

/** A classifier's outputs read back; they (and `inputs`) are freed. */
async function readClassified(
  be: Backend,
  out: { features: Tensor; logits: Tensor },
  ...inputs: Tensor[]
): Promise<Classified> {
  try {
    return {
      features: (await be.read(out.features)) as Float32Array,
      logits: (await be.read(out.logits)) as Float32Array,
    };
  } finally {
    for (const t of [...inputs, out.features, out.logits]) be.free(t);
  }
}

/** The engine's kind of model a manifest describes (its architecture decides). */
function kindOf(m: AnyManifest): ModelInfo['kind'] {
  const t = m.architecture.type;
  if (t === 'onnx') return m.architecture.kind === 'denoiser' ? 'denoiser' : 'text';
  return t === 'dit' ? 'denoiser' : t === 'cnn' ? 'classifier' : t === 'textcnn' ? 'text-classifier' : 'text';
}

/** A text model's vocabulary as one string: models agree on what ids mean exactly when these are equal. */
function vocabularyOf(m: Extract<AnyManifest, { tokenizer: unknown }>): string {
  const t = m.tokenizer;
  if (t.type === 'char') return JSON.stringify(t.vocab);
  return `hf:${m.files.find((f) => f.path === t.file)?.sha256}`;
}

export class Engine implements EngineApi {
  private backend: Promise<Backend> | null = null;
  private readonly models = new Map<string, Loaded>();
  private readonly cancelled = new Set<string>();
  private readonly active = new Set<string>();
  /** how each loaded model was loaded, to reload after device loss */
  private readonly sources = new Map<
    string,
    { source: string; opts: LoadOptions; interpolate?: { b: string; lambda: number } }
  >();
  private prefer: BackendPreference = 'auto';
  /** auto path decisions measured on WebGPU, by adapter and model (src/worker/path-decisions.ts) */
  private readonly decisions: DecisionStore;
  /** what this engine decided or reused, by model handle (backends() lists them) */
  private readonly decided = new Map<string, { adapter: string; used: string; reason: string }>();

  /** how the webgpu backend reads f16 weights ('packed': never request shader-f16; AcquireOptions.f16) */
  private readonly f16: 'auto' | 'packed' | undefined;

  /**
   * `decisions`: where auto path decisions persist (default: this engine's memory); `f16`: 'packed'
   * forces the portable f16 read path (default 'auto', or SAMPLESCOPE_F16 in Node)
   */
  constructor(o: { decisions?: DecisionStore; f16?: 'auto' | 'packed' } = {}) {
    this.decisions = o.decisions ?? memoryStore();
    this.f16 = o.f16;
  }
  /** classifiers' real reference sets in their feature spaces, by classifier handle */
  private readonly references = new Map<string, Promise<ReferenceSet>>();
  /** requests interrupted by device loss: what they asked and how far they got */
  private readonly interrupted = new Map<string, InterruptedRequest>();

  /** Acquire the backend (once); returns which one is in use and why. */
  async init(prefer: BackendPreference = 'auto'): Promise<BackendInfo> {
    this.prefer = prefer;
    this.backend ??= createBackend({ prefer, f16: this.f16 });
    return (await this.backend).info;
  }

  /** the backend (acquired on first use with 'auto') */
  async be(): Promise<Backend> {
    return await (this.backend ??= createBackend({ prefer: this.prefer, f16: this.f16 }));
  }

  /**
   * Load a model folder / manifest URL; returns its handle and description. `opts.allowedOrigins`
   * extends the origins a URL may come from (default: the worker's own; OriginNotAllowedError before
   * any fetch otherwise); every file's sha256 is checked before parsing (IntegrityError, nothing loaded).
   */
  async loadModel(source: string, opts: OnnxLoadOptions & EngineLoadOptions = {}): Promise<ModelInfo> {
    // in a browser worker a relative URL means the page's; in Node it is a file path
    if (typeof location !== 'undefined') source = new URL(source, location.href).href;
    const be = await this.be();
    const manifest: AnyManifest = await loadManifest(source, opts);
    const kind = kindOf(manifest);
    const id = opts.id ?? manifest.name;
    const base = {
      id,
      name: manifest.name,
      family: manifest.family,
      kind,
      classes: manifest.classes,
      metrics: manifest.metrics as Record<string, unknown> | undefined,
      manifest,
    };
    let entry: Loaded;
    const fast = await this.fastPath(manifest, be, opts.path);
    if (kind === 'denoiser') {
      let m: DenoiserModel;
      if (manifest.architecture.type === 'onnx') m = await loadOnnxDenoiser(source, be, opts);
      else {
        const form = await this.onnxForm(fast, source, manifest, (s) =>
          loadOnnxDenoiser(s, be, { ...opts, ep: 'wasm' }).then((o) => {
            const ok =
              o.imageSize === (manifest.architecture as { image_size: number }).image_size &&
              o.timesteps === (manifest as { diffusion: { timesteps: number } }).diffusion.timesteps;
            return ok ? o : Promise.reject(new ModelFormatError('onnx-form', 'its image size or schedule differ'));
          }),
        );
        const native = !form || fast.measure ? await loadDenoiser(source, be, opts) : undefined;
        m = native ? await this.choosePath<DenoiserModel>(fast, native, form, probeDenoiser) : form!;
        threadsOf(fast.info, m);
      }
      const imageShape: [number, number, number] = [m.imageSize, m.imageSize, m.channels];
      entry = { kind, model: m, info: { ...base, imageShape, timesteps: m.timesteps, ...fast.info } };
    } else if (kind === 'classifier') {
      const m = await loadClassifier(source, be, opts);
      const imageShape: [number, number, number] = [m.imageSize, m.imageSize, m.manifest.architecture.channels];
      entry = { kind, model: m, info: { ...base, imageShape } };
    } else if (kind === 'text-classifier') {
      const m = await loadTextClassifier(source, be, opts);
      entry = { kind, model: m, info: { ...base, vocab: m.manifest.tokenizer.vocab, maxLength: m.length } };
    } else {
      // an ONNX graph (onnxruntime-web, imported only now) or our transformer: the same Model to the samplers
      let m: Model;
      if (manifest.architecture.type === 'onnx') m = await loadOnnxModel(source, be, opts);
      else {
        const form = await this.onnxForm(fast, source, manifest, (s) =>
          loadOnnxModel(s, be, { ...opts, ep: 'wasm' }).then((o) => {
            const a = manifest.architecture as { vocab_size: number; max_len: number; n_classes: number };
            const ok = o.vocabSize === a.vocab_size && o.maxLength === a.max_len && o.numClasses === a.n_classes;
            return ok
              ? o
              : Promise.reject(new ModelFormatError('onnx-form', 'its vocabulary, length or classes differ'));
          }),
        );
        const native = !form || fast.measure ? await loadModel(source, be, opts) : undefined;
        m = native ? await this.choosePath<Model>(fast, native, form, probeText) : form!;
        threadsOf(fast.info, m);
      }
      const tok = tokenizerOf(m);
      entry = {
        kind,
        model: m,
        info: {
          ...base,
          vocab: tok.tokenStrings(),
          tokenizer: tok.spec,
          maskId: m.maskId,
          maxLength: m.maxLength,
          attention: m.attention,
          hasMarginalHead: m.hasMarginalHead,
          ...(m.manifest.ising
            ? { ising: { L: m.manifest.ising.L, beta: m.manifest.ising.beta, logZ: m.manifest.ising.log_z } }
            : {}),
          ...(m.hasMarginalHead ? { marginalForm: marginalFormOf(m.manifest) } : {}),
          ...(m.manifest.calibration ? { calibration: m.manifest.calibration } : {}),
          ...(m.memoryEstimate ? { memory: m.memoryEstimate(1, m.maxLength) } : {}),
          ...fast.info,
        },
      };
    }
    // a model already under this handle is replaced only now: a load that fails (IntegrityError,
    // OriginNotAllowedError, …) leaves what was loaded as it was
    if (this.models.has(id)) this.unload(id);
    this.models.set(id, entry);
    this.sources.set(id, { source, opts });
    if (entry.info.path) this.decided.set(id, { adapter: adapterKey(be), ...entry.info.path });
    return entry.info;
  }

  /**
   * Which path a native model with an `onnx_form` takes (ModelPath): `info.path` says which and why; `wanted`
   * is whether to try the ONNX form. Models without one, and ONNX models, have no path choice.
   */
  private async fastPath(manifest: AnyManifest, be: Backend, path: ModelPath = 'native'): Promise<FastPath> {
    if (!['native', 'onnx-wasm', 'auto'].includes(path))
      throw new OpInputError('loadModel', `path must be 'native', 'onnx-wasm' or 'auto', got ${JSON.stringify(path)}`);
    const form = manifest.architecture.type === 'onnx' ? undefined : manifest.onnx_form;
    if (!form) {
      if (path === 'onnx-wasm')
        throw new ModelFormatError('onnx-form', `${manifest.name} names no onnx_form (an ONNX form of its weights)`);
      return { wanted: false, required: false, info: {} };
    }
    // auto on WebGPU: a decision measured earlier for this adapter and model, else measure both at load
    const weights = manifest.files.find((f) => f.role === 'weights')?.sha256 ?? '';
    const key = decisionKey(adapterKey(be), manifest.name, weights.slice(0, 16));
    const cached = path === 'auto' && be.name !== 'cpu' ? await this.decisions.get(key) : undefined;
    const measure = path === 'auto' && be.name !== 'cpu' && !cached;
    const wanted =
      path === 'onnx-wasm' || (path === 'auto' && (be.name === 'cpu' || measure || cached?.used === 'onnx-wasm'));
    const reason =
      path === 'onnx-wasm'
        ? `asked for: its ONNX form ${form} on onnxruntime-web's wasm EP`
        : path === 'auto' && be.name === 'cpu'
          ? `the CPU backend: its ONNX form ${form} on onnxruntime-web's wasm EP instead of the f64 twins`
          : cached
            ? `${cached.reason} (measured at an earlier load on this adapter; kept in ${this.decisions.where})`
            : 'our kernels (path native)';
    return {
      wanted,
      required: path === 'onnx-wasm',
      measure: measure ? key : undefined,
      info: { path: cached ? { ...cached, reason } : { used: wanted && !measure ? 'onnx-wasm' : 'native', reason } },
    };
  }

  /**
   * auto on WebGPU: time one forward (after a warm-up) of the native model and of its ONNX form on the same
   * probe input, keep the faster, dispose the other, and remember the decision for this adapter and model.
   */
  private async choosePath<M extends Model | DenoiserModel>(
    fast: FastPath,
    native: M,
    onnx: M | undefined,
    probe: (m: M) => Promise<void>,
  ): Promise<M> {
    if (!fast.measure || !onnx) return onnx ?? native;
    const ms = { native: 0, 'onnx-wasm': 0 };
    for (const [p, m] of [
      ['native', native],
      ['onnx-wasm', onnx],
    ] as const) {
      await probe(m); // warm-up: pipelines compile, sessions allocate
      ms[p] = await this.timeForward(p, () => probe(m));
    }
    const used = ms['onnx-wasm'] < ms.native ? 'onnx-wasm' : 'native';
    (used === 'native' ? onnx : native).dispose();
    const be = native.backend;
    fast.info.path = {
      used,
      reason: `measured on ${be.name} (${adapterKey(be)}): one forward ${ms.native.toFixed(1)} ms with our kernels, ${ms['onnx-wasm'].toFixed(1)} ms with its ONNX form on the wasm EP`,
    };
    await this.decisions.set(fast.measure, fast.info.path);
    return used === 'native' ? native : onnx;
  }

  /** Milliseconds of one probe forward on a path (a hook: tests slow one path down to see the choice follow). */
  protected async timeForward(_path: 'native' | 'onnx-wasm', run: () => Promise<void>): Promise<number> {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  }

  /**
   * The ONNX form of a native model when `fast.wanted`: loaded and checked against the manifest by `load`;
   * undefined (native) when not wanted, or under 'auto' when it cannot load (`fast.info` then says why).
   */
  private async onnxForm<T>(
    fast: FastPath,
    source: string,
    manifest: AnyManifest,
    load: (source: string) => Promise<T>,
  ): Promise<T | undefined> {
    if (!fast.wanted) return undefined;
    try {
      return await load(siblingSource(source, manifest.onnx_form!));
    } catch (e) {
      if (fast.required) throw e;
      fast.info.path = {
        used: 'native',
        reason: `its ONNX form did not load (${(e as Error).message}); our kernels run it`,
      };
      return undefined;
    }
  }

  /**
   * The λ knob: a denoiser with weights (1 − λ)·A + λ·B of two loaded denoisers of the same
   * architecture and schedule (e.g. digits-diffusion and digits-fewstep), under a new handle
   * (default "A×B@λ"). Loading it again with another λ replaces nothing else.
   */
  async loadInterpolated(a: string, b: string, lambda: number, opts: { id?: string } = {}): Promise<ModelInfo> {
    const [sa, sb] = [a, b].map((x) => {
      const m = this.models.get(x);
      if (!m) throw new UnknownModelError(x, [...this.models.keys()]);
      if (m.kind !== 'denoiser')
        throw new OpInputError('loadInterpolated', `model "${x}" is a ${m.kind} model; only denoisers interpolate`);
      return this.sources.get(x)!;
    });
    return this.loadInterpolatedFrom(sa.source, sb.source, lambda, sa.opts, opts.id ?? `${a}×${b}@${lambda}`);
  }

  private async loadInterpolatedFrom(
    a: string,
    b: string,
    lambda: number,
    opts: LoadOptions,
    id: string,
  ): Promise<ModelInfo> {
    const be = await this.be();
    const m = await loadInterpolatedDenoiser(a, b, lambda, be, opts);
    if (this.models.has(id)) this.unload(id);
    const info: ModelInfo = {
      id,
      name: m.name,
      family: m.manifest.family,
      kind: 'denoiser',
      classes: m.manifest.classes,
      imageShape: [m.imageSize, m.imageSize, m.channels],
      timesteps: m.timesteps,
    };
    this.models.set(id, { kind: 'denoiser', model: m, info });
    this.sources.set(id, { source: a, opts, interpolate: { b, lambda } });
    return info;
  }

  async describeModels(sources: string[], opts: LoadOptions = {}): Promise<ModelSummary[]> {
    const read = await Promise.all(
      sources.map((source) =>
        loadManifest(typeof location !== 'undefined' ? new URL(source, location.href).href : source, opts).then(
          (m): ModelSummary => ({
            source,
            name: m.name,
            kind: kindOf(m),
            family: m.family,
            classes: m.classes,
            ...('tokenizer' in m ? { vocabulary: vocabularyOf(m) } : {}),
          }),
          () => undefined,
        ),
      ),
    );
    return read.filter((m) => m !== undefined);
  }

  listModels(): ModelInfo[] {
    return [...this.models.values()].map((m) => m.info);
  }

  unload(id: string): void {
    const m = this.models.get(id);
    if (!m) return;
    m.model.dispose();
    this.models.delete(id);
    this.sources.delete(id);
    this.references.delete(id);
    this.decided.delete(id);
  }

  /** The description of a loaded model. */
  modelInfo(id: string): ModelInfo {
    const m = this.models.get(id);
    if (!m) throw new UnknownModelError(id, [...this.models.keys()]);
    return m.info;
  }

  private get<K extends Loaded['kind']>(id: string, kind: K): Extract<Loaded, { kind: K }> {
    const m = this.models.get(id);
    if (!m) throw new UnknownModelError(id, [...this.models.keys()]);
    if (m.kind !== kind)
      throw new OpInputError('engine', `model "${id}" is a ${m.kind} model, this call needs a ${kind} model`);
    return m as Extract<Loaded, { kind: K }>;
  }

  /** Cancel a running request: it rejects with AbortError after the model call in flight. */
  cancel(requestId: string): void {
    if (this.active.has(requestId)) this.cancelled.add(requestId);
  }

  /** cancelled: the request itself, or the request it is part of ("parent/child" ids, e.g. a sweep's sampler calls) */
  private isCancelled(id: string): boolean {
    if (this.cancelled.has(id)) return true;
    const slash = id.indexOf('/');
    return slash > 0 && this.cancelled.has(id.slice(0, slash));
  }

  private async run<T>(
    o: RequestOptions,
    f: (check: (step: number) => void, id: string) => Promise<T>,
    prefix = 'r',
  ): Promise<T> {
    const id = o.requestId ?? `${prefix}${++nextRequest}`;
    this.active.add(id);
    const abort = () => this.cancel(id);
    if (o.signal?.aborted) abort();
    o.signal?.addEventListener('abort', abort, { once: true });
    try {
      return await f((step) => {
        if (this.isCancelled(id)) throw new AbortError(id, step);
      }, id);
    } finally {
      o.signal?.removeEventListener('abort', abort);
      this.active.delete(id);
      this.cancelled.delete(id);
    }
  }

  /** The device died under a request: forget the backend and the models' device copies (sources are kept). */
  private onLost(rid: string, entry: InterruptedRequest): void {
    this.interrupted.set(rid, entry);
    this.backend = null;
    this.models.clear();
    this.references.clear();
  }

  /** After device loss: a new backend and every model reloaded under its handle. */
  private async recover(): Promise<void> {
    if (this.backend && this.models.size === this.sources.size) return;
    await this.be();
    for (const [id, { source, opts, interpolate }] of [...this.sources]) {
      if (this.models.has(id)) continue;
      if (interpolate) await this.loadInterpolatedFrom(source, interpolate.b, interpolate.lambda, opts, id);
      else await this.loadModel(source, { ...opts, id });
    }
  }

  /** Continue a request interrupted by device loss from its last completed step. */
  async resume(requestId: string, onProgress?: ProgressFn): Promise<TextSampleResult | ImageSampleResult> {
    const it = this.interrupted.get(requestId);
    if (!it)
      throw new OpInputError(
        'resume',
        `no interrupted request "${requestId}" (interrupted: ${[...this.interrupted.keys()].join(', ') || 'none'})`,
      );
    await this.recover();
    this.interrupted.delete(requestId);
    if (it.kind === 'text')
      return this.sampleText({ ...it.req, options: { ...it.req.options, resume: it.checkpoint } }, onProgress, {
        requestId,
      });
    return this.sampleImage({ ...it.req, options: { ...it.req.options, resume: it.checkpoint } }, onProgress, {
      requestId,
    });
  }

  /** ids of requests interrupted by device loss (resumable) */
  interruptedRequests(): string[] {
    return [...this.interrupted.keys()];
  }

  /**
   * Fault injection for tests: destroy the current WebGPU device, as a driver reset would lose it.
   * A request in flight then rejects with DeviceLostError at its next GPU read and can be resumed.
   */
  async loseDeviceForTest(): Promise<void> {
    const be = await this.backend;
    if (!(be instanceof WebGPUBackend))
      throw new OpInputError(
        'loseDeviceForTest',
        `needs a webgpu backend (current: ${be ? be.name : 'none acquired'})`,
      );
    be.runtime.device.destroy();
  }

  async sampleText(req: TextSampleRequest, onProgress?: ProgressFn, o: RequestOptions = {}): Promise<TextSampleResult> {
    const { model } = this.get(req.model, 'text');
    return this.run(o, async (check, rid) => {
      let checkpoint: SamplerCheckpoint | undefined = req.options.resume;
      const onStep = (p: {
        step: number;
        nfe: number;
        tokens: Uint32Array;
        drafts?: Uint8Array;
        checkpoint?: SamplerCheckpoint;
      }) => {
        checkpoint = p.checkpoint ?? checkpoint;
        check(p.step);
        onProgress?.({ requestId: rid, step: p.step, nfe: p.nfe, tokens: p.tokens, drafts: p.drafts });
      };
      let res: SampleResult;
      try {
        res = await this.textSample(model, req, onStep);
      } catch (e) {
        if (e instanceof DeviceLostError) this.onLost(rid, { kind: 'text', req, checkpoint });
        throw e;
      }
      const tok = tokenizerOf(model);
      const texts = Array.from({ length: res.batch }, (_, b) =>
        tok.decode(res.samples.subarray(b * res.length, (b + 1) * res.length), '_'),
      );
      return { ...res, texts };
    });
  }

  /** The draft of a speculative request: a loaded model by handle, "self:N", or the default (see the protocol). */
  private draftFor(target: Model, spec: string | undefined): Model | { layers: number } {
    const loaded = () => [...this.models.keys()].join(', ') || 'none';
    if (spec === undefined) {
      for (const e of this.models.values())
        if (e.kind === 'text' && e.model !== target && e.model.manifest.draft_for === target.name) return e.model;
      const a = target.manifest.architecture;
      if (a.type !== 'transformer')
        throw new SamplerConfigError('draftModel', `a draft for ${target.name} (it has no layers to skip)`, spec);
      return { layers: Math.max(1, Math.ceil(a.n_layers / 3)) };
    }
    const self = /^self:(\d+)$/.exec(spec);
    if (self) return { layers: Number(self[1]) };
    const e = this.models.get(spec);
    if (!e || e.kind !== 'text')
      throw new SamplerConfigError('draftModel', `a loaded text model's handle or self:N (loaded: ${loaded()})`, spec);
    return e.model;
  }

  private textSample(
    model: Model,
    req: TextSampleRequest,
    onStep: (p: {
      step: number;
      nfe: number;
      tokens: Uint32Array;
      drafts?: Uint8Array;
      checkpoint?: SamplerCheckpoint;
    }) => void,
  ): Promise<SampleResult> {
    if (req.sampler === 'fhs' || req.sampler === 'ancestral')
      return sampleMdm(model, { ...req.options, sampler: req.sampler, onStep });
    if (req.sampler === 'speculative') {
      const { draftModel, ...rest } = req.options;
      return sampleSpeculative(model, { ...rest, draftModel: this.draftFor(model, draftModel), onStep });
    }
    if (req.sampler === 'sequential' || req.sampler === 'assd') {
      const { resume, ...rest } = req.options;
      if (resume) throw new OpInputError('resume', 'AS-ARM samplers restart from the beginning (no checkpoints yet)');
      return sampleAsarm(model, { ...rest, sampler: req.sampler, onStep });
    }
    throw new OpInputError(
      'engine',
      `unknown text sampler "${String(req.sampler)}" (fhs, ancestral, sequential, assd, speculative)`,
    );
  }

  async sampleImage(
    req: ImageSampleRequest,
    onProgress?: ProgressFn,
    o: RequestOptions = {},
  ): Promise<ImageSampleResult> {
    const { lambda, lambdaModel, ...options } = req.options;
    const mix = await this.interpolatedFor(req.model, lambda, lambdaModel);
    const { model } = this.get(mix.handle, 'denoiser');
    const hybrid = req.hybrid ? { ...req.hybrid, student: this.get(req.hybrid.student, 'denoiser').model } : undefined;
    return this.run(o, async (check, rid) => {
      let checkpoint: SamplerCheckpoint | undefined = req.options.resume;
      try {
        const res = await sampleDiffusion(model, {
          ...options,
          hybrid,
          checkpoint: true,
          onStep: (p) => {
            checkpoint = p.checkpoint ?? checkpoint;
            check(p.step);
            onProgress?.({ requestId: rid, step: p.step, steps: p.steps, nfe: p.nfe, x0: p.x0 });
          },
        });
        return mix.partner ? { ...res, knobs: { ...res.knobs, lambda: mix.lambda, lambdaModel: mix.partner } } : res;
      } catch (e) {
        if (e instanceof DeviceLostError) this.onLost(rid, { kind: 'image', req, checkpoint });
        throw e;
      }
    });
  }

  /**
   * The λ knob: the handle of the weights (1 − λ)·model + λ·partner, built on first use and kept (a sweep over
   * samples reuses it); `model` itself for λ = 0. The partner defaults to a loaded denoiser whose manifest
   * says `guidance_distilled.teacher` is this model.
   */
  private async interpolatedFor(
    id: string,
    lambda: number | undefined,
    partner: string | undefined,
  ): Promise<{ handle: string; lambda: number; partner?: string }> {
    const l = knobOption('lambda', lambda, 'image', 'ddim');
    if (l === 0) return { handle: id, lambda: 0 };
    const base = this.get(id, 'denoiser').model;
    const other =
      partner ??
      [...this.models.entries()].find(
        ([, e]) => e.kind === 'denoiser' && e.model.manifest.guidance_distilled?.teacher === base.name,
      )?.[0];
    if (other === undefined || this.models.get(other)?.kind !== 'denoiser')
      throw new SamplerConfigError(
        'lambdaModel',
        `a loaded denoiser to mix into ${id} (none loaded is distilled from it; loaded: ${[...this.models.keys()].join(', ')})`,
        other,
      );
    const handle = `${id}×${other}@${l}`;
    if (!this.models.has(handle)) await this.loadInterpolated(id, other, l, { id: handle });
    return { handle, lambda: l, partner: this.models.get(other)!.info.name };
  }

  /** MaM: log p of partial texts (unknown characters = maskId) in one pass; (batch). */
  async score(modelId: string, ...rows: TokenRows): Promise<Float32Array> {
    return logMarginals(this.get(modelId, 'text').model, ...rows);
  }

  /** Left-to-right NLL per token (nats) of each row under a two-stream (AS-ARM) model; (batch). */
  async nll(modelId: string, ...rows: TokenRows): Promise<Float64Array> {
    return nllLeftToRight(this.get(modelId, 'text').model, ...rows);
  }

  /** A classifier's real reference set (its manifest's "reference" file) in its feature space; computed once. */
  referenceSet(classifierId: string): Promise<ReferenceSet> {
    const m = this.models.get(classifierId);
    if (!m) return Promise.reject(new UnknownModelError(classifierId, [...this.models.keys()]));
    if (m.kind !== 'classifier' && m.kind !== 'text-classifier')
      return Promise.reject(
        new OpInputError(
          'engine',
          `model "${classifierId}" is a ${m.kind} model; reference sets belong to classifiers`,
        ),
      );
    let r = this.references.get(classifierId);
    if (!r) {
      const { source, opts } = this.sources.get(classifierId)!;
      r = loadRoleFiles(source, 'reference', opts).then((files) => computeReferenceSet(this, classifierId, files));
      r.catch(() => this.references.delete(classifierId));
      this.references.set(classifierId, r);
    }
    return r;
  }

  /** Every metric of token rows (n, L), row i asked for class requested[i] (see src/sweep/evaluate.ts). */
  evaluateText(tokens: Uint32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics> {
    return evaluateText(this, tokens, n, requested, o);
  }

  /** Every metric of images (n, H, W, C) in [0, 1], image i asked for class requested[i]. */
  evaluateImages(images: Float32Array, n: number, requested: Uint32Array, o: EvalOptions): Promise<Metrics> {
    return evaluateImages(this, images, n, requested, o);
  }

  /**
   * Run a sweep (or one shard of it): each finished setting goes to `onRecord` (a JSON line's worth)
   * and the list is returned. Cancel with `cancel(requestId)`: it stops after the model call in flight.
   */
  async sweep(spec: SweepSpec, opts: SweepOptions = {}, onRecord?: (r: SweepRecord) => void): Promise<SweepRecord[]> {
    return this.run(
      opts,
      async (check, id) => {
        let calls = 0;
        return runSweep(this, spec, {
          shard: opts.shard,
          skip: opts.skip,
          requireHardware: opts.requireHardware,
          onRecord: (r) => {
            check(r.index);
            onRecord?.(r);
          },
          childId: () => `${id}/${++calls}`,
        });
      },
      'sweep',
    );
  }

  /** Classifier features and logits of images (n, H, W) in [0, 1]. */
  async classify(modelId: string, images: Float32Array, n: number): Promise<Classified> {
    const { model } = this.get(modelId, 'classifier');
    const be = model.backend;
    const x = be.tensor(images, [n, model.imageSize, model.imageSize, model.manifest.architecture.channels]);
    return readClassified(be, model.run(x), x);
  }

  /** Text classifier features and logits of token rows (batch, its length). */
  async classifyText(modelId: string, tokens: Uint32Array, batch: number): Promise<Classified> {
    const { model } = this.get(modelId, 'text-classifier');
    const be = model.backend;
    return readClassified(be, model.run(tokens, batch));
  }

  /** Kernel-level call (the kernel demo): c = a·b on the engine's backend, timed including readback. */
  async matmul({ a, b, M, K, N }: MatmulRequest): Promise<MatmulResult> {
    if (a.length !== M * K || b.length !== K * N)
      throw new OpInputError('matmul', `a must hold M·K = ${M * K} and b K·N = ${K * N} values`);
    const be = await this.be();
    const t0 = performance.now();
    const ta = be.tensor(a, [M, K]),
      tb = be.tensor(b, [K, N]);
    const tc = be.matmul(ta, tb);
    const c = (await be.read(tc)) as Float32Array;
    const ms = performance.now() - t0;
    for (const t of [ta, tb, tc]) be.free(t);
    return { c, ms, backend: be.name };
  }

  /** Kernel-level call: one categorical draw per row of logits (rows, V). */
  async sample({ logits, rows, V, options }: SampleRequest): Promise<Uint32Array> {
    const be = await this.be();
    const t = be.tensor(logits, [rows, V]);
    const s = be.categorical(t, options);
    try {
      return (await be.read(s)) as Uint32Array;
    } finally {
      be.free(t);
      be.free(s);
    }
  }

  /** Fault injection for tests: an uncaught error in this thread after `ms` (in the browser, the worker dies). */
  crashForTest(ms: number): void {
    setTimeout(() => {
      throw new Error('injected worker crash');
    }, ms);
  }

  async info(): Promise<BackendInfo> {
    return (await this.be()).info;
  }

  /**
   * The backends this engine could run on: webgpu (with its adapter, or why not — probed once with a
   * throw-away device when the engine runs on cpu by choice; `software` for CPU adapters), cpu (always), and the
   * fast CPU path (onnxruntime-web's wasm EP, for models with an ONNX form), each with the loaded models that
   * run on it and why (path 'auto': which path measured faster on this adapter, or was measured before).
   */
  async backends(): Promise<BackendAvailability[]> {
    const cur = await this.be();
    let gpu: { available: boolean; detail: string; software?: boolean; f16?: 'native' | 'packed' };
    const describe = (b: Backend) => ({
      available: true,
      detail: b.info.adapter?.description || b.info.adapter?.vendor || 'adapter',
      software: !!b.info.adapter?.software,
      f16: b.info.f16,
    });
    if (cur.name === 'webgpu') gpu = describe(cur);
    else if (cur.info.fallbackReason) gpu = { available: false, detail: cur.info.fallbackReason };
    else {
      try {
        const probe = await createBackend({ prefer: 'webgpu', f16: this.f16 });
        gpu = describe(probe);
        probe.destroy();
      } catch (e) {
        gpu = { available: false, detail: (e as Error).message };
      }
    }
    const onWasm = [...this.decided].filter(([, d]) => d.used === 'onnx-wasm');
    const onOurs = [...this.decided].filter(([, d]) => d.used === 'native');
    const models = (l: typeof onWasm) => l.map(([id, d]) => ({ id, reason: d.reason }));
    return [
      { name: 'webgpu', ...gpu, active: cur.name === 'webgpu', models: cur.name === 'webgpu' ? models(onOurs) : [] },
      {
        name: 'cpu',
        available: true,
        detail: 'the f64 reference twins (src/reference)',
        active: cur.name === 'cpu',
        models: cur.name === 'cpu' ? models(onOurs) : [],
      },
      {
        name: 'onnx-wasm',
        available: true,
        detail:
          "a model's ONNX form on onnxruntime-web's wasm EP (the fast CPU path; models whose manifest names an onnx_form)",
        active: onWasm.length > 0,
        models: models(onWasm),
      },
    ];
  }

  dispose(): void {
    for (const id of [...this.models.keys()]) this.unload(id);
    void this.backend?.then((b) => b.destroy());
    this.backend = null;
  }
}
