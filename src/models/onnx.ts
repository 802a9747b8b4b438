/**
 * ONNX networks under samplescope's samplers (manifest architecture.type "onnx"): the graph runs in
 * onnxruntime-web, loaded on first use, and the adapter implements the same `Model` / `DenoiserModel`
 * interface the samplers use, so they run on it unchanged:
 * - 'masked-diffusion' graphs: FHS, ancestral, guidance, temperature, top-k/p, infill;
 * - 'causal' graphs (a causal LM, logits at i predicting token i + 1): the adapter feeds
 *   [bos, x_0 … x_{L−2}], so its logits at i are p(x_i | x_<i) — the two-stream model's left-to-right
 *   conditionals — for sequential sampling and left-to-right NLL; any other order is refused;
 * - 'denoiser' graphs (ε̂ of x_t at timestep t): DDPM, DDIM, guidance and its interval.
 *
 * The manifest maps the graph's inputs and outputs to roles (src/models/onnx/roles.ts, one table for
 * every kind); before the first run the loader checks the graph's declared inputs and outputs against
 * it — every graph input has a role, names exist, dtypes are ones we can feed, ranks are right, static
 * dims agree with the manifest — and says what is wrong with a ModelFormatError naming the input and
 * the rule.
 *
 * Execution provider (`ep`: load option, else the manifest's architecture.ep, else 'auto'):
 * - 'webgpu': onnxruntime's WebGPU EP on samplescope's own GPUDevice (the EP option `device` of the
 *   `onnxruntime-web/webgpu` build; `env.webgpu.device` is overwritten by the default build's JSEP),
 *   outputs kept on the GPU (`preferredOutputLocation: 'gpu-buffer'`) and copied device-to-device into a
 *   backend tensor, a denoiser's x_t passed in place (`Tensor.fromGpuBuffer`): no host readback per
 *   pass. Needs the webgpu backend and an onnxruntime-web build with the EP — the browser's; in Node the
 *   package resolves to its wasm-only build (and ORT 1.30's WebGPU EP bundle on the npm `webgpu` Dawn
 *   fails every run with "Invalid argument", measured), so Node stays on wasm. A graph the EP cannot
 *   load is a ModelFormatError 'onnx-ep' with onnxruntime's message.
 * - 'wasm': outputs are read back from the runtime and uploaded to the sampler's backend each pass (the
 *   categorical / diffusion_step kernels then run there as for native models); a denoiser's x_t is read
 *   from the backend to feed it.
 * - 'auto': 'webgpu' where it is available and loads the graph, else 'wasm'.
 */
import type * as OrtNs from 'onnxruntime-web';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import type { GpuTensor, WebGPUBackend } from '../backend/webgpu.js';
import { LimitExceededError, ModelFormatError, OpInputError } from '../errors.js';
import { loadManifest, loadRawFile, loadTextTokenizer, type LoadOptions } from './load.js';
import type { TextTokenizer } from './tokenizer.js';
import { linearAlphasCumprod } from './denoiser.js';
import {
  isOnnxDenoiserManifest,
  isOnnxManifest,
  type AnyManifest,
  type OnnxDenoiserManifest,
  type OnnxManifest,
} from './manifest.js';
import {
  checkForwardInput,
  checkLeftToRightOnly,
  type DenoiserInput,
  type DenoiserModel,
  type ForwardInput,
  type Model,
} from './model.js';
import { rolesOf, type OnnxAxis, type OnnxEp } from './onnx/roles.js';
import { ortThreads, type OrtThreadPlan, type OrtThreads } from './onnx/threads.js';

/**
 * Load options of an ONNX model: the execution provider overrides the manifest's `architecture.ep`; `threads`
 * the wasm EP's thread count (src/models/onnx/threads.ts; default 1, deterministic; the first load in a
 * page, worker or process fixes it).
 */
export interface OnnxLoadOptions extends LoadOptions {
  ep?: OnnxEp;
  threads?: OrtThreads;
}

type Ort = typeof OrtNs;
let ortP: Promise<Ort> | undefined;

/** Whether this runtime has WebGPU for onnxruntime (browsers; Node's Dawn is not reached through navigator). */
const hasNavigatorGpu = () => !!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;

/**
 * onnxruntime-web, imported the first time an ONNX model loads (native models never pull it in): where
 * WebGPU exists its `webgpu` build (ORT's WebGPU EP, which takes a GPUDevice per session; the default
 * build's JSEP always requests a device of its own), else the default one (Node: wasm only). Its wasm EP
 * runs on `threads.threads` threads (the plan fixed by the first load, ortThreads).
 */
export function loadOrt(threads: OrtThreadPlan = ortThreads()): Promise<Ort> {
  ortP ??= (hasNavigatorGpu() ? import('onnxruntime-web/webgpu') : import('onnxruntime-web')).then((ort) => {
    ort.env.logLevel = 'error';
    ort.env.wasm.numThreads = threads.threads;
    return ort;
  });
  return ortP;
}

type IdType = 'int32' | 'int64';
interface Feed {
  name: string;
  dtype: IdType | 'bool' | 'float32';
}

/** What the graph declares, checked against the manifest: the feeds to build and its fixed dims. */
export interface OnnxPlan {
  /** input role → graph input (only the roles the manifest maps) */
  feeds: Record<string, Feed>;
  /** output role → graph output name */
  outputs: Record<string, string>;
  /** a static batch or length the graph was exported with (null: dynamic) */
  fixedBatch: number | null;
  fixedLength: number | null;
  /** the execution provider the session was created on */
  ep: 'webgpu' | 'wasm';
  /** the wasm EP's threads and why (set at load; the WebGPU EP runs on the GPU) */
  threads?: OrtThreadPlan;
}

/** Check a session's declared inputs/outputs against the manifest and the kind's roles (exported for tests). */
export function planOnnx(
  m: OnnxManifest | OnnxDenoiserManifest,
  session: Pick<OrtNs.InferenceSession, 'inputMetadata' | 'outputMetadata'>,
  file: string,
  ep: 'webgpu' | 'wasm' = 'wasm',
): OnnxPlan {
  const fail = (rule: string, msg: string, name?: string): never => {
    throw new ModelFormatError(rule, msg, name, file);
  };
  const a = m.architecture;
  // the value a static dim must have, per axis (batch and length: only that graph tensors agree)
  const want: Partial<Record<OnnxAxis, number>> =
    a.kind === 'denoiser'
      ? { height: a.image_size, width: a.image_size, channels: a.channels }
      : { vocab: a.vocab_size };
  const fixed: { batch: number | null; length: number | null } = { batch: null, length: null };
  const dim = (d: number | string | undefined) => (typeof d === 'number' && d >= 0 ? d : null);
  const check = (side: 'inputs' | 'outputs', declared: readonly OrtNs.InferenceSession.ValueMetadata[]) => {
    const byName = new Map(declared.map((v) => [v.name, v]));
    const out: Record<string, Feed> = {};
    for (const [role, name] of Object.entries(a[side] as Record<string, string>)) {
      const spec = rolesOf(a.kind, side)[role];
      const what = `graph ${side.slice(0, -1)} "${name}" (${role})`;
      const v = byName.get(name);
      if (!v)
        fail(
          'onnx-io',
          `architecture.${side}.${role} names "${name}", which the graph does not have (its ${side}: ${[...byName.keys()].join(', ')})`,
          name,
        );
      if (!v!.isTensor) fail('onnx-io', `${what} is not a tensor`, name);
      const t = v as OrtNs.InferenceSession.TensorValueMetadata;
      if (!spec.dtypes.includes(t.type))
        fail('onnx-dtype', `${what} is ${t.type}; expected ${spec.dtypes.join(' or ')}`, name);
      if (t.shape.length !== spec.axes.length)
        fail(
          'onnx-shape',
          `${what} has rank ${t.shape.length}; expected ${spec.axes.length} (${spec.axes.join(', ')})`,
          name,
        );
      spec.axes.forEach((axis, i) => {
        const d = dim(t.shape[i]);
        if (d === null) return;
        if (axis === 'batch' || axis === 'length') {
          if (axis === 'length' && a.kind !== 'denoiser' && d > a.max_len)
            fail('onnx-shape', `${what} has a fixed length ${d} over the manifest's max_len ${a.max_len}`, name);
          if (fixed[axis] !== null && fixed[axis] !== d)
            fail('onnx-shape', `graph tensors disagree on the ${axis} (${fixed[axis]} vs ${d})`, name);
          fixed[axis] = d;
        } else if (want[axis] !== undefined && d !== want[axis]) {
          fail('onnx-shape', `${what} has ${axis} ${d}; the manifest says ${want[axis]}`, name);
        }
      });
      out[role] = { name, dtype: t.type as Feed['dtype'] };
    }
    return out;
  };
  const roles = new Set(Object.values(a.inputs as Record<string, string>));
  for (const v of session.inputMetadata)
    if (!roles.has(v.name))
      fail('onnx-io', `the graph's input "${v.name}" has no role in the manifest (architecture.inputs)`, v.name);
  const feeds = check('inputs', session.inputMetadata);
  const outputs = Object.fromEntries(
    Object.entries(check('outputs', session.outputMetadata)).map(([r, f]) => [r, f.name]),
  );
  return { feeds, outputs, fixedBatch: fixed.batch, fixedLength: fixed.length, ep };
}

/** An ort tensor of ids in the graph's id dtype. */
function idTensor(ort: Ort, f: Feed, a: ArrayLike<number>, dims: number[]): OrtNs.Tensor {
  return f.dtype === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(a as Uint32Array, (v) => BigInt(v)),
        dims,
      )
    : f.dtype === 'float32'
      ? new ort.Tensor('float32', Float32Array.from(a as Uint32Array), dims)
      : new ort.Tensor('int32', Int32Array.from(a as Uint32Array), dims);
}

/** Run the session; its failure is a ModelFormatError naming the model; returns the output of `role`. */
async function runGraph(
  session: OrtNs.InferenceSession,
  feeds: Record<string, OrtNs.Tensor>,
  output: string,
  model: string,
): Promise<OrtNs.Tensor> {
  try {
    return (await session.run(feeds))[output];
  } catch (e) {
    throw new ModelFormatError(
      'onnx-run',
      `onnxruntime could not run the graph: ${(e as Error).message}`,
      undefined,
      model,
    );
  }
}

/** Copy an output of the expected dims onto `backend` and release it (ModelFormatError on other dims). */
function adopt(out: OrtNs.Tensor, dims: number[], backend: Backend, output: string, model: string): Tensor {
  try {
    const got = [...out.dims];
    if (got.length !== dims.length || got.some((d, i) => d !== dims[i]))
      throw new ModelFormatError(
        'onnx-shape',
        `the graph returned ${output} of shape [${got.join(', ')}], expected [${dims.join(', ')}]`,
        output,
        model,
      );
    if (out.location !== 'gpu-buffer') return backend.tensor(out.data as Float32Array, dims);
    // WebGPU EP on our device: one device-side copy into a backend tensor, submitted before ORT may reuse its buffer
    const be = backend as WebGPUBackend;
    const t = be.empty(dims) as GpuTensor;
    be.runtime.copy(out.gpuBuffer, 0, t.buffer, 0, t.size * 4);
    be.runtime.submit();
    return t;
  } finally {
    out.dispose();
  }
}

/** What both adapters share: the manifest, the session and its plan, the size checks, release. */
abstract class OnnxGraph<M extends OnnxManifest | OnnxDenoiserManifest> {
  readonly name: string;
  protected disposed = false;

  constructor(
    readonly manifest: M,
    protected readonly ort: Ort,
    protected readonly session: OrtNs.InferenceSession,
    readonly plan: OnnxPlan,
    readonly backend: Backend,
  ) {
    this.name = manifest.name;
  }

  /** A batch the graph takes, and an output of `bytes` the backend can hold (LimitExceededError). */
  protected checkSize(batch: number, bytes: number, what: string): void {
    if (this.plan.fixedBatch !== null && batch !== this.plan.fixedBatch)
      throw new OpInputError(
        this.name,
        `the graph was exported with a fixed batch of ${this.plan.fixedBatch}, not ${batch}`,
      );
    const max = this.backend.maxTensor;
    if (!(bytes <= max.bytes)) throw new LimitExceededError(max.limit, bytes, max.bytes, `${this.name}: ${what}`);
  }

  /** The execution provider the session runs on. */
  get ep(): 'webgpu' | 'wasm' {
    return this.plan.ep;
  }

  /**
   * A backend tensor as a graph input: on the WebGPU EP its buffer itself (the pending GPU work that
   * writes it is submitted first), on wasm its contents read back.
   */
  protected async input(t: Tensor, dims: number[]): Promise<OrtNs.Tensor> {
    if (this.plan.ep === 'webgpu') {
      (this.backend as WebGPUBackend).runtime.submit();
      return this.ort.Tensor.fromGpuBuffer((t as GpuTensor).buffer, { dataType: 'float32', dims });
    }
    return new this.ort.Tensor('float32', (await this.backend.read(t)) as Float32Array, dims);
  }

  /** Run the graph and put its output `role` on the backend, checked against `dims`. */
  protected async run(feeds: Record<string, OrtNs.Tensor>, role: string, dims: number[]): Promise<Tensor> {
    const output = this.plan.outputs[role];
    return adopt(await runGraph(this.session, feeds, output, this.name), dims, this.backend, output, this.name);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release();
  }
}

export class OnnxTextModel extends OnnxGraph<OnnxManifest> implements Model {
  /** set by loadOnnxModel */
  tokenizer?: TextTokenizer;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly maskId: number | undefined;
  readonly numClasses: number;
  readonly nullClass: number;
  /** masked-diffusion graphs: bidirectional; causal graphs: left-to-right conditionals only */
  readonly attention: 'bidirectional' | 'causal';
  readonly hasMarginalHead = false;

  constructor(manifest: OnnxManifest, ort: Ort, session: OrtNs.InferenceSession, plan: OnnxPlan, backend: Backend) {
    super(manifest, ort, session, plan, backend);
    const a = manifest.architecture;
    this.vocabSize = a.vocab_size;
    this.maxLength = plan.fixedLength ?? a.max_len;
    this.maskId = manifest.tokenizer.mask_id;
    this.numClasses = a.n_classes;
    this.nullClass = manifest.null_class;
    this.attention = a.kind === 'causal' ? 'causal' : 'bidirectional';
  }

  checkFits(batch: number, length: number): void {
    if (this.plan.fixedLength !== null && length !== this.plan.fixedLength)
      throw new OpInputError(
        this.name,
        `the graph was exported with a fixed length of ${this.plan.fixedLength}, not ${length}`,
      );
    this.checkSize(batch, batch * length * this.vocabSize * 4, `logits of batch ${batch} × length ${length}`);
  }

  async forward(input: ForwardInput): Promise<Tensor> {
    checkLeftToRightOnly(this, input, `a ${this.manifest.architecture.kind} graph`);
    const classes = checkForwardInput(this, input, 'forward', this.disposed);
    const { batch: B, length: T, tokens } = input;
    const { ort, plan } = this;
    const f = plan.feeds;
    let ids: ArrayLike<number> = tokens;
    if (this.attention === 'causal') {
      // [bos, x_0 … x_{T−2}] per row: the logits at i then predict x_i from x_<i
      const shifted = new Uint32Array(B * T);
      for (let b = 0; b < B; b++) {
        shifted[b * T] = this.manifest.architecture.bos_id!;
        shifted.set(tokens.subarray(b * T, (b + 1) * T - 1), b * T + 1);
      }
      ids = shifted;
    }
    const feeds: Record<string, OrtNs.Tensor> = { [f.tokens.name]: idTensor(ort, f.tokens, ids, [B, T]) };
    if (f.class) feeds[f.class.name] = idTensor(ort, f.class, classes, [B]);
    if (f.position_ids)
      feeds[f.position_ids.name] = idTensor(
        ort,
        f.position_ids,
        Uint32Array.from({ length: B * T }, (_, i) => i % T),
        [B, T],
      );
    const am = f.attention_mask;
    if (am)
      feeds[am.name] =
        am.dtype === 'bool'
          ? new ort.Tensor('bool', new Uint8Array(B * T).fill(1), [B, T])
          : idTensor(ort, am, new Uint32Array(B * T).fill(1), [B, T]);
    return this.run(feeds, 'logits', [B, T, this.vocabSize]);
  }

  logMarginal(): Tensor {
    throw new OpInputError('logMarginal', `model ${this.name} has no marginal head`);
  }
}

/**
 * An ε-prediction denoiser graph under the diffusion samplers (DDPM, DDIM, guidance, guidance
 * interval): the schedule is the manifest's `diffusion`, as for the native DiT.
 */
export class OnnxDenoiser extends OnnxGraph<OnnxDenoiserManifest> implements DenoiserModel {
  readonly kind = 'denoiser' as const;
  readonly imageSize: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly nullClass: number;
  readonly timesteps: number;
  readonly alphasCumprod: Float64Array;

  constructor(
    manifest: OnnxDenoiserManifest,
    ort: Ort,
    session: OrtNs.InferenceSession,
    plan: OnnxPlan,
    backend: Backend,
  ) {
    super(manifest, ort, session, plan, backend);
    const a = manifest.architecture,
      d = manifest.diffusion;
    this.imageSize = a.image_size;
    this.channels = a.channels;
    this.numClasses = a.n_classes;
    this.nullClass = manifest.null_class;
    this.timesteps = d.timesteps;
    this.alphasCumprod = linearAlphasCumprod(d.timesteps, d.beta_start, d.beta_end);
  }

  checkFits(batch: number): void {
    this.checkSize(batch, batch * this.imageSize * this.imageSize * this.channels * 4, `ε̂ of batch ${batch}`);
  }

  async forward(input: DenoiserInput): Promise<Tensor> {
    if (this.disposed) throw new OpInputError('forward', `model ${this.name} was disposed`);
    const { x, t } = input;
    const B = t.length,
      S = this.imageSize,
      dims = [B, S, S, this.channels];
    if (B < 1) throw new OpInputError('forward', 'need at least one timestep');
    if (x.shape.length !== 4 || x.shape.some((d, i) => d !== dims[i]))
      throw new OpInputError('forward', `x has shape [${x.shape.join(', ')}], expected [${dims.join(', ')}]`);
    this.checkFits(B);
    for (const v of t)
      if (v >= this.timesteps) throw new OpInputError('forward', `timestep ${v} is outside [0, ${this.timesteps})`);
    const classes = input.classes ?? new Uint32Array(B).fill(this.nullClass);
    if (classes.length !== B) throw new OpInputError('forward', `classes has ${classes.length} entries, expected ${B}`);
    for (const c of classes)
      if (c > this.nullClass) throw new OpInputError('forward', `class ${c} is outside [0, ${this.nullClass}]`);
    const { ort, plan } = this;
    const f = plan.feeds;
    const ts = this.manifest.architecture.timestep === 'unit' ? Float32Array.from(t, (v) => v / this.timesteps) : t;
    const feeds: Record<string, OrtNs.Tensor> = {
      [f.x.name]: await this.input(x, dims),
      [f.timestep.name]:
        f.timestep.dtype === 'float32'
          ? new ort.Tensor('float32', Float32Array.from(ts), [B])
          : idTensor(ort, f.timestep, ts, [B]),
    };
    if (f.class) feeds[f.class.name] = idTensor(ort, f.class, classes, [B]);
    return this.run(feeds, 'eps', dims);
  }
}

/** Why the WebGPU EP cannot run for `backend` here (undefined: it can). */
function webgpuUnavailable(backend: Backend): string | undefined {
  if (backend.name !== 'webgpu') return `the sampler's backend is ${backend.name}, not webgpu`;
  if (!hasNavigatorGpu()) return "this runtime's onnxruntime-web has no WebGPU EP (Node: the wasm-only build)";
  return undefined;
}

/** A session on the requested EP: 'auto' tries WebGPU and falls back to wasm; 'webgpu' fails typed instead. */
async function createSession(
  ort: Ort,
  bytes: Uint8Array,
  backend: Backend,
  want: OnnxEp,
  path: string,
): Promise<{ session: OrtNs.InferenceSession; ep: 'webgpu' | 'wasm' }> {
  const fail = (rule: string, msg: string): never => {
    throw new ModelFormatError(rule, msg, undefined, path);
  };
  if (want !== 'wasm') {
    const why = webgpuUnavailable(backend);
    if (why && want === 'webgpu') fail('onnx-ep', `the WebGPU execution provider is unavailable: ${why}`);
    if (!why) {
      try {
        // the EP option `device` (ORT's WebGPU EP build; not in the published option type)
        const webgpu = { name: 'webgpu', device: (backend as WebGPUBackend).runtime.device };
        const session = await ort.InferenceSession.create(bytes, {
          executionProviders: [webgpu as OrtNs.InferenceSession.ExecutionProviderConfig],
          preferredOutputLocation: 'gpu-buffer',
          graphOptimizationLevel: 'all',
        });
        return { session, ep: 'webgpu' };
      } catch (e) {
        if (want === 'webgpu')
          fail('onnx-ep', `onnxruntime's WebGPU execution provider could not load the graph: ${(e as Error).message}`);
      }
    }
  }
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    return { session, ep: 'wasm' };
  } catch (e) {
    return fail('onnx-graph', `onnxruntime could not load the graph: ${(e as Error).message}`);
  }
}

/** The manifest and a checked session for an ONNX folder/URL (sha256, origin allowlist); nothing kept on failure. */
async function openOnnx<M extends OnnxManifest | OnnxDenoiserManifest>(
  source: string,
  backend: Backend,
  opts: OnnxLoadOptions,
  is: (m: AnyManifest) => m is M,
  want: string,
): Promise<{ manifest: M; ort: Ort; session: OrtNs.InferenceSession; plan: OnnxPlan }> {
  const manifest = await loadManifest(source, opts);
  if (!is(manifest)) {
    const a = manifest.architecture;
    throw new ModelFormatError(
      'model-kind',
      `${manifest.name} is ${a.type === 'onnx' ? `a ${a.kind} ONNX graph` : `a ${a.type} model`}, not ${want}`,
      undefined,
      'manifest.json',
    );
  }
  const { path, bytes } = await loadRawFile(source, manifest, 'onnx', opts);
  const threads = ortThreads(opts.threads ?? 1);
  const ort = await loadOrt(threads);
  const ep0 = opts.ep ?? manifest.architecture.ep ?? 'auto';
  const { session, ep } = await createSession(ort, bytes, backend, ep0, path);
  try {
    return { manifest, ort, session, plan: { ...planOnnx(manifest, session, path, ep), threads } };
  } catch (e) {
    void session.release();
    throw e;
  }
}

/** Load an ONNX text model folder/URL (masked-diffusion or causal graph; manifest + graph) onto `backend`. */
export async function loadOnnxModel(
  source: string,
  backend: Backend,
  opts: OnnxLoadOptions = {},
): Promise<OnnxTextModel> {
  const o = await openOnnx(
    source,
    backend,
    opts,
    isOnnxManifest,
    'an ONNX text graph (load denoisers with loadOnnxDenoiser)',
  );
  try {
    // before the model is built: an hf tokenizer fills in the manifest's mask_id
    const tokenizer = await loadTextTokenizer(source, o.manifest, opts);
    const m = new OnnxTextModel(o.manifest, o.ort, o.session, o.plan, backend);
    m.tokenizer = tokenizer;
    return m;
  } catch (e) {
    void o.session.release();
    throw e;
  }
}

/** Load an ONNX ε-prediction denoiser folder/URL (manifest + graph) onto `backend`. */
export async function loadOnnxDenoiser(
  source: string,
  backend: Backend,
  opts: OnnxLoadOptions = {},
): Promise<OnnxDenoiser> {
  const o = await openOnnx(source, backend, opts, isOnnxDenoiserManifest, 'an ONNX denoiser graph');
  return new OnnxDenoiser(o.manifest, o.ort, o.session, o.plan, backend);
}
