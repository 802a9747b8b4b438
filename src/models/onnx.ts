/**
 * ONNX networks under samplescope's samplers (manifest architecture.type "onnx"): the graph runs in
 * onnxruntime-web, loaded on first use, and the adapter implements the same `Model` interface the
 * samplers use, so FHS, ancestral, guidance, temperature, top-k/p and infill run on it unchanged.
 *
 * The manifest maps the graph's inputs and outputs to roles (src/models/manifest.ts OnnxArchitecture);
 * before the first run the loader checks the graph's declared inputs and outputs against it — every
 * graph input has a role, names exist, dtypes are ones we can feed, ranks are right, static dims agree
 * with the manifest — and says what is wrong with a ModelFormatError naming the input and the rule.
 *
 * Today: masked-diffusion graphs, on onnxruntime's wasm execution provider; the logits are read back
 * from the runtime and uploaded to the sampler's backend each pass (the categorical kernel then draws
 * on the GPU as for native models). The WebGPU EP on samplescope's own device (no readback) is not
 * built yet.
 */
import type * as OrtNs from 'onnxruntime-web';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { LimitExceededError, ModelFormatError, OpInputError } from '../errors.js';
import { loadManifest, loadRawFile, loadTextTokenizer, type LoadOptions } from './load.js';
import { isOnnxManifest, type OnnxManifest, type OnnxTextInput } from './manifest.js';
import type { TextTokenizer } from './tokenizer.js';
import { checkForwardInput, type ForwardInput, type Model } from './model.js';

type Ort = typeof OrtNs;
let ortP: Promise<Ort> | undefined;

/** onnxruntime-web, imported the first time an ONNX model loads (native models never pull it in). */
export function loadOrt(): Promise<Ort> {
  ortP ??= import('onnxruntime-web').then((ort) => {
    ort.env.logLevel = 'error';
    // deterministic, and no SharedArrayBuffer needed (pages need not be cross-origin isolated)
    ort.env.wasm.numThreads = 1;
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
  feeds: Partial<Record<OnnxTextInput, Feed>>;
  logits: string;
  /** a static batch or length the graph was exported with (null: dynamic) */
  fixedBatch: number | null;
  fixedLength: number | null;
}

const ID_TYPES = ['int32', 'int64'];
const RANK: Record<OnnxTextInput, number> = { tokens: 2, class: 1, attention_mask: 2, position_ids: 2 };
const DTYPES: Record<OnnxTextInput, string[]> = {
  tokens: ID_TYPES,
  class: ID_TYPES,
  attention_mask: [...ID_TYPES, 'bool', 'float32'],
  position_ids: ID_TYPES,
};

/** Check a session's declared inputs/outputs against the manifest (exported for tests). */
export function planOnnx(
  m: OnnxManifest,
  session: Pick<OrtNs.InferenceSession, 'inputMetadata' | 'outputMetadata'>,
  file: string,
): OnnxPlan {
  const fail = (rule: string, msg: string, name?: string): never => {
    throw new ModelFormatError(rule, msg, name, file);
  };
  const a = m.architecture;
  const byName = new Map(session.inputMetadata.map((v) => [v.name, v]));
  const roleOf = new Map(Object.entries(a.inputs).map(([role, name]) => [name, role]));
  for (const v of session.inputMetadata) {
    if (!roleOf.has(v.name))
      fail('onnx-io', `the graph's input "${v.name}" has no role in the manifest (architecture.inputs)`, v.name);
  }
  const feeds: OnnxPlan['feeds'] = {};
  let fixedBatch: number | null = null,
    fixedLength: number | null = null;
  const dim = (d: number | string | undefined) => (typeof d === 'number' && d >= 0 ? d : null);
  for (const [role, name] of Object.entries(a.inputs) as [OnnxTextInput, string][]) {
    const v = byName.get(name);
    if (!v)
      fail(
        'onnx-io',
        `architecture.inputs.${role} names "${name}", which the graph does not have (its inputs: ${[...byName.keys()].join(', ')})`,
        name,
      );
    if (!v!.isTensor) fail('onnx-io', `graph input "${name}" (${role}) is not a tensor`, name);
    const t = v as OrtNs.InferenceSession.TensorValueMetadata;
    if (!DTYPES[role].includes(t.type))
      fail('onnx-dtype', `graph input "${name}" (${role}) is ${t.type}; expected ${DTYPES[role].join(' or ')}`, name);
    if (t.shape.length !== RANK[role])
      fail('onnx-shape', `graph input "${name}" (${role}) has rank ${t.shape.length}; expected ${RANK[role]}`, name);
    const b = dim(t.shape[0]);
    if (b !== null) {
      if (fixedBatch !== null && b !== fixedBatch)
        fail('onnx-shape', `graph inputs disagree on the batch (${fixedBatch} vs ${b})`, name);
      fixedBatch = b;
    }
    if (RANK[role] === 2) {
      const l = dim(t.shape[1]);
      if (l !== null) {
        if (l > a.max_len)
          fail(
            'onnx-shape',
            `graph input "${name}" has a fixed length ${l} over the manifest's max_len ${a.max_len}`,
            name,
          );
        if (fixedLength !== null && l !== fixedLength)
          fail('onnx-shape', `graph inputs disagree on the length (${fixedLength} vs ${l})`, name);
        fixedLength = l;
      }
    }
    feeds[role] = { name, dtype: t.type as Feed['dtype'] };
  }
  const out = session.outputMetadata.find((v) => v.name === a.outputs.logits);
  if (!out)
    fail(
      'onnx-io',
      `architecture.outputs.logits names "${a.outputs.logits}", which the graph does not output (its outputs: ${session.outputMetadata.map((v) => v.name).join(', ')})`,
      a.outputs.logits,
    );
  const o = out as OrtNs.InferenceSession.TensorValueMetadata;
  if (!o.isTensor || o.type !== 'float32')
    fail(
      'onnx-dtype',
      `graph output "${o.name}" (logits) must be a float32 tensor, is ${o.isTensor ? o.type : 'not a tensor'}`,
      o.name,
    );
  if (o.shape.length !== 3)
    fail(
      'onnx-shape',
      `graph output "${o.name}" (logits) has rank ${o.shape.length}; expected 3 (batch, length, vocab)`,
      o.name,
    );
  const V = dim(o.shape[2]);
  if (V !== null && V !== a.vocab_size)
    fail(
      'onnx-shape',
      `graph output "${o.name}" has ${V} logits per position; the manifest's vocab_size is ${a.vocab_size}`,
      o.name,
    );
  return { feeds, logits: o.name, fixedBatch, fixedLength };
}

export class OnnxTextModel implements Model {
  /** set by loadOnnxModel */
  tokenizer?: TextTokenizer;
  readonly name: string;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly maskId: number | undefined;
  readonly numClasses: number;
  readonly nullClass: number;
  readonly attention = 'bidirectional' as const;
  readonly hasMarginalHead = false;
  private disposed = false;

  constructor(
    readonly manifest: OnnxManifest,
    private readonly ort: Ort,
    private readonly session: OrtNs.InferenceSession,
    readonly plan: OnnxPlan,
    readonly backend: Backend,
  ) {
    const a = manifest.architecture;
    this.name = manifest.name;
    this.vocabSize = a.vocab_size;
    this.maxLength = plan.fixedLength ?? a.max_len;
    this.maskId = manifest.tokenizer.mask_id;
    this.numClasses = a.n_classes;
    this.nullClass = manifest.null_class;
  }

  checkFits(batch: number, length: number): void {
    if (this.plan.fixedBatch !== null && batch !== this.plan.fixedBatch) {
      throw new OpInputError(
        this.name,
        `the graph was exported with a fixed batch of ${this.plan.fixedBatch}, not ${batch}`,
      );
    }
    if (this.plan.fixedLength !== null && length !== this.plan.fixedLength) {
      throw new OpInputError(
        this.name,
        `the graph was exported with a fixed length of ${this.plan.fixedLength}, not ${length}`,
      );
    }
    const bytes = batch * length * this.vocabSize * 4,
      max = this.backend.maxTensor;
    if (!(bytes <= max.bytes))
      throw new LimitExceededError(
        max.limit,
        bytes,
        max.bytes,
        `${this.name}: logits of batch ${batch} × length ${length}`,
      );
  }

  async forward(input: ForwardInput): Promise<Tensor> {
    if (input.order || input.queryPrefix)
      throw new OpInputError(
        'forward',
        `${this.name} is a masked-diffusion graph: it has no any-order (two-stream) pass`,
      );
    const classes = checkForwardInput(this, input, 'forward', this.disposed);
    const { batch: B, length: T, tokens } = input;
    const { ort, plan } = this;
    const ids = (f: Feed, a: ArrayLike<number>, dims: number[]) =>
      f.dtype === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(a as Uint32Array, (v) => BigInt(v)),
            dims,
          )
        : new ort.Tensor('int32', Int32Array.from(a as Uint32Array), dims);
    const feeds: Record<string, OrtNs.Tensor> = { [plan.feeds.tokens!.name]: ids(plan.feeds.tokens!, tokens, [B, T]) };
    if (plan.feeds.class) feeds[plan.feeds.class.name] = ids(plan.feeds.class, classes, [B]);
    if (plan.feeds.position_ids)
      feeds[plan.feeds.position_ids.name] = ids(
        plan.feeds.position_ids,
        Uint32Array.from({ length: B * T }, (_, i) => i % T),
        [B, T],
      );
    const am = plan.feeds.attention_mask;
    if (am) {
      feeds[am.name] =
        am.dtype === 'bool'
          ? new ort.Tensor('bool', new Uint8Array(B * T).fill(1), [B, T])
          : am.dtype === 'float32'
            ? new ort.Tensor('float32', new Float32Array(B * T).fill(1), [B, T])
            : ids(am, new Uint32Array(B * T).fill(1), [B, T]);
    }
    let out: OrtNs.Tensor;
    try {
      out = (await this.session.run(feeds))[plan.logits];
    } catch (e) {
      throw new ModelFormatError(
        'onnx-run',
        `onnxruntime could not run the graph: ${(e as Error).message}`,
        undefined,
        this.name,
      );
    }
    try {
      const dims = [...out.dims];
      if (dims.length !== 3 || dims[0] !== B || dims[1] !== T || dims[2] !== this.vocabSize) {
        throw new ModelFormatError(
          'onnx-shape',
          `the graph returned logits of shape [${dims.join(', ')}], expected [${B}, ${T}, ${this.vocabSize}]`,
          plan.logits,
          this.name,
        );
      }
      return this.backend.tensor(out.data as Float32Array, [B, T, this.vocabSize]);
    } finally {
      out.dispose();
    }
  }

  logMarginal(): Tensor {
    throw new OpInputError('logMarginal', `model ${this.name} has no marginal head`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release();
  }
}

/** Load an ONNX model folder/URL (manifest + graph, sha256-checked, origin allowlist) onto `backend`. */
export async function loadOnnxModel(source: string, backend: Backend, opts: LoadOptions = {}): Promise<OnnxTextModel> {
  const manifest = await loadManifest(source, opts);
  if (!isOnnxManifest(manifest)) {
    throw new ModelFormatError(
      'model-kind',
      `${manifest.name} is a ${manifest.architecture.type} model, not an ONNX graph; load it with loadModel`,
      undefined,
      'manifest.json',
    );
  }
  const { path, bytes } = await loadRawFile(source, manifest, 'onnx', opts);
  // before the model is built: an hf tokenizer fills in the manifest's mask_id
  const tokenizer = await loadTextTokenizer(source, manifest, opts);
  const ort = await loadOrt();
  let session: OrtNs.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new ModelFormatError(
      'onnx-graph',
      `onnxruntime could not load the graph: ${(e as Error).message}`,
      undefined,
      path,
    );
  }
  try {
    const m = new OnnxTextModel(manifest, ort, session, planOnnx(manifest, session, path), backend);
    m.tokenizer = tokenizer;
    return m;
  } catch (e) {
    void session.release();
    throw e;
  }
}
