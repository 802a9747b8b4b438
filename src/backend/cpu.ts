/** The CPU backend: every op is its reference twin (src/reference), run eagerly. */
import { LimitExceededError, OpInputError } from '../errors.js';
import { attentionRef } from '../reference/attention.js';
import { categoricalRef } from '../reference/categorical.js';
import { conv2dRef } from '../reference/conv2d.js';
import { diffusionStepRef } from '../reference/diffusion_step.js';
import { gatedAddRef, modulateRef } from '../reference/modulate.js';
import { patchifyRef, unpatchifyRef } from '../reference/patchify.js';
import { pool2dRef } from '../reference/pool2d.js';
import { elementwiseRef } from '../reference/elementwise.js';
import { swigluRef } from '../reference/swiglu.js';
import { planSwiglu } from '../ops/swiglu.js';
import { embeddingRef } from '../reference/embedding.js';
import { layerNormRef } from '../reference/layer_norm.js';
import { matmulRef } from '../reference/matmul.js';
import { rmsNormRef } from '../reference/rms_norm.js';
import { rngRef } from '../reference/rng.js';
import { seedToKey } from '../rng.js';
import { ropeRef } from '../reference/rope.js';
import { softmaxRef } from '../reference/softmax.js';
import type { Backend, BackendInfo, OutOption, TensorBound } from './backend.js';
import { ElementwiseShorthands } from './shorthands.js';
import { expectOut, planReshape, planRows, planStack, planWrite } from './shapes.js';
import { planAttention, type AttentionOptions } from '../ops/attention.js';
import { checkSamples, planCategorical, type SampleOptions } from '../ops/categorical.js';
import { planConv2d, type Conv2dOptions } from '../ops/conv2d.js';
import { planElementwise, type ElementwiseOp, type ElementwiseOptions } from '../ops/elementwise.js';
import { planRng, type RngOptions } from '../ops/rng.js';
import { planRope } from '../ops/rope.js';
import { planDiffusionStep, type DiffusionStepOptions } from '../ops/diffusion_step.js';
import { planLayerNorm, type NormOptions } from '../ops/layer_norm.js';
import { planMatmul, type MatmulOptions } from '../ops/matmul.js';
import { planEmbedding } from '../ops/embedding.js';
import { planKvWrite } from '../ops/kv_write.js';
import { planSpecVerify, type SpecVerifyOptions } from '../ops/spec_verify.js';
import { specVerifyRef } from '../reference/spec_verify.js';
import { kvWriteRef } from '../reference/kv_write.js';
import { planModulate } from '../ops/modulate.js';
import { planPatch, type UnpatchifyOptions } from '../ops/patchify.js';
import { planPool2d, type Pool2dOptions } from '../ops/pool2d.js';
import { planRmsNorm } from '../ops/rms_norm.js';
import type { SoftmaxOptions } from '../ops/softmax.js';
import type { DType, HostArray, Tensor } from './tensor.js';
import { assertLive, checkShape, dtypeOf, hostArray, sizeOf, storageBytes } from './tensor.js';

export class CpuTensor implements Tensor {
  readonly backend = 'cpu' as const;
  readonly size: number;
  freed = false;
  view = false;
  constructor(
    readonly data: HostArray,
    readonly shape: readonly number[],
    readonly dtype: DType,
    public role?: 'samples',
  ) {
    this.size = sizeOf(shape);
  }
}

/**
 * A macrotask turn (setImmediate in Node; a MessageChannel round trip in browsers and workers, unclamped
 * unlike setTimeout).
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const c = new MessageChannel();
    c.port1.onmessage = () => {
      c.port1.close();
      r();
    };
    c.port2.postMessage(null);
  });
}

export class CpuBackend extends ElementwiseShorthands implements Backend {
  readonly name = 'cpu' as const;
  readonly info: BackendInfo;
  readonly maxTensor: TensorBound;

  /** `maxTensorBytes`: the per-tensor budget (default 2 GiB), checked before any allocation it can see. */
  constructor(fallbackReason?: string, o: { maxTensorBytes?: number } = {}) {
    super();
    this.info = { name: 'cpu', fallbackReason };
    this.maxTensor = { bytes: o.maxTensorBytes ?? 2 ** 31, limit: 'cpuMaxTensorBytes' };
  }

  private fits(elements: number, what: string, dtype: DType = 'f32'): void {
    const bytes = storageBytes(dtype, elements);
    if (!(bytes <= this.maxTensor.bytes))
      throw new LimitExceededError(this.maxTensor.limit, bytes, this.maxTensor.bytes, what);
  }

  private data(t: Tensor): HostArray {
    return (t as CpuTensor).data;
  }

  private emit(data: HostArray, shape: readonly number[], out?: Tensor, role?: 'samples'): Tensor {
    if (!out) this.fits(data.length, 'cpu op output');
    if (out) {
      (out as CpuTensor).data.set(data);
      if (role) (out as { role?: 'samples' }).role = role;
      return out;
    }
    return new CpuTensor(data, [...shape], dtypeOf(data), role);
  }

  tensor(data: HostArray, shape: readonly number[]): Tensor {
    checkShape(shape);
    this.fits(sizeOf(shape), 'tensor', dtypeOf(data));
    if (sizeOf(shape) !== data.length)
      throw new OpInputError(
        'tensor',
        `shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, data has ${data.length}`,
      );
    return new CpuTensor(data.slice(), [...shape], dtypeOf(data));
  }

  stack(parts: readonly Tensor[]): Tensor {
    const shape = planStack(parts, 'cpu');
    if (parts.length === 1) return parts[0];
    this.fits(sizeOf(shape), 'stack', parts[0].dtype);
    const out = hostArray(parts[0].dtype, sizeOf(shape));
    let at = 0;
    for (const p of parts) {
      out.set(this.data(p), at);
      at += p.size;
      this.free(p);
    }
    return new CpuTensor(out, shape, parts[0].dtype);
  }

  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    checkShape(shape);
    this.fits(sizeOf(shape), 'empty', dtype);
    return new CpuTensor(hostArray(dtype, sizeOf(shape)), [...shape], dtype);
  }

  write(t: Tensor, data: HostArray): void {
    planWrite(t, data, 'cpu');
    (t as CpuTensor).data.set(data);
  }

  async read(t: Tensor): Promise<HostArray> {
    assertLive(t, 'read');
    // a read is where samplers wait once per step: let the event loop run here, or a cancel that
    // arrives as a message (the worker's Comlink call) or a signal (the CLI's Ctrl-C) would wait until
    // the whole run had finished — every op on this backend is synchronous, so nothing else yields
    await yieldToEventLoop();
    const d = this.data(t).slice();
    return checkSamples(t, d);
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    planReshape(t, shape, 'cpu');
    const v = new CpuTensor((t as CpuTensor).data, [...shape], t.dtype, t.role);
    v.view = true;
    return v;
  }

  free(t: Tensor): void {
    if ((t as CpuTensor).view) return;
    (t as CpuTensor).freed = true;
  }

  /** CPU tensors are garbage-collected host arrays: nothing to release when `f` throws. */
  scoped<T>(f: () => T): T {
    return f();
  }

  async flush(): Promise<void> {}

  matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
    const p = planMatmul(a, b, o, 'cpu');
    const c = matmulRef(
      this.data(a) as Float32Array,
      this.data(b) as Float32Array | Uint16Array,
      { batch: p.batch, M: p.M, K: p.K, N: p.N, transB: o.transB, bBatched: p.bBatched, activation: o.activation },
      o.bias ? (this.data(o.bias) as Float32Array) : null,
    );
    return this.emit(c, p.outShape, o.out);
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, o: NormOptions = {}): Tensor {
    const { rows, C, eps } = planLayerNorm(x, gamma, beta, o, 'cpu');
    return this.emit(
      layerNormRef(
        this.data(x) as Float32Array,
        rows,
        C,
        this.data(gamma) as Float32Array,
        this.data(beta) as Float32Array,
        eps,
      ),
      x.shape,
      o.out,
    );
  }

  rmsNorm(x: Tensor, gamma: Tensor, o: NormOptions = {}): Tensor {
    const { rows, C, eps } = planRmsNorm(x, gamma, o, 'cpu');
    return this.emit(
      rmsNormRef(this.data(x) as Float32Array, rows, C, this.data(gamma) as Float32Array, eps),
      x.shape,
      o.out,
    );
  }

  softmax(x: Tensor, o: SoftmaxOptions & OutOption = {}): Tensor {
    const { rows, C } = planRows('softmax', x, 'cpu');
    expectOut('softmax', o.out, x.shape, 'f32', 'cpu');
    return this.emit(softmaxRef(this.data(x) as Float32Array, rows, C, !!o.log), x.shape, o.out);
  }

  embedding(ids: Tensor, table: Tensor, o: OutOption = {}): Tensor {
    const p = planEmbedding(ids, table, 'cpu');
    expectOut('embedding', o.out, p.outShape, 'f32', 'cpu');
    return this.emit(
      embeddingRef(this.data(ids) as Uint32Array, this.data(table) as Float32Array | Uint16Array, p.V, p.C),
      p.outShape,
      o.out,
    );
  }

  kvWrite(cache: Tensor, src: Tensor, offsets: Tensor): void {
    const p = planKvWrite(cache, src, offsets, 'cpu');
    const off = this.data(offsets) as Uint32Array;
    kvWriteRef(this.data(cache) as Float32Array | Uint32Array, this.data(src) as Float32Array, off, p.B, p.M, p.S, p.W);
  }

  rope(x: Tensor, positions: Tensor, table: Tensor, o: OutOption = {}): Tensor {
    const p = planRope(x, positions, table, o, 'cpu');
    return this.emit(
      ropeRef(
        this.data(x) as Float32Array,
        this.data(positions) as Uint32Array,
        p.H,
        p.D,
        this.data(table) as Float32Array,
      ),
      x.shape,
      o.out,
    );
  }

  attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, o: AttentionOptions = {}): Tensor {
    const p = planAttention(q, k, v, mask, o, 'cpu');
    const r = attentionRef(
      this.data(q) as Float32Array,
      this.data(k) as Float32Array,
      this.data(v) as Float32Array,
      this.data(mask) as Uint32Array,
      p,
    );
    return this.emit(r, q.shape, o.out);
  }

  elementwise(op: ElementwiseOp, a: Tensor, b: Tensor | null, o: ElementwiseOptions = {}): Tensor {
    planElementwise(op, a, b, o, 'cpu');
    return this.emit(
      elementwiseRef(op, this.data(a) as Float32Array, b ? (this.data(b) as Float32Array) : null, o.scalar),
      a.shape,
      o.out,
    );
  }

  swiglu(x: Tensor, o: OutOption = {}): Tensor {
    const p = planSwiglu(x, o, 'cpu');
    return this.emit(swigluRef(this.data(x) as Float32Array, p.rows, p.F), p.outShape, o.out);
  }

  rng(o: RngOptions): Tensor {
    const p = planRng(o, 'cpu');
    const r = rngRef(p);
    return this.emit(r, p.outShape, o.out);
  }

  conv2d(x: Tensor, w: Tensor, o: Conv2dOptions & OutOption = {}): Tensor {
    const p = planConv2d(x, w, o, 'cpu');
    const y = conv2dRef(
      this.data(x) as Float32Array,
      this.data(w) as Float32Array,
      o.bias ? (this.data(o.bias) as Float32Array) : null,
      p,
      p.activation,
    );
    return this.emit(y, p.outShape, o.out);
  }

  pool2d(x: Tensor, o: Pool2dOptions & OutOption): Tensor {
    const p = planPool2d(x, o, 'cpu');
    expectOut('pool2d', o.out, p.outShape, 'f32', 'cpu');
    return this.emit(pool2dRef(this.data(x) as Float32Array, p, p.kind), p.outShape, o.out);
  }

  patchify(x: Tensor, p: number, o: OutOption = {}): Tensor {
    const s = planPatch(x, { p }, false, 'cpu');
    expectOut('patchify', o.out, s.outShape, 'f32', 'cpu');
    return this.emit(patchifyRef(this.data(x) as Float32Array, s), s.outShape, o.out);
  }

  unpatchify(t: Tensor, o: UnpatchifyOptions & OutOption): Tensor {
    const s = planPatch(t, o, true, 'cpu');
    expectOut('unpatchify', o.out, s.outShape, 'f32', 'cpu');
    return this.emit(unpatchifyRef(this.data(t) as Float32Array, s), s.outShape, o.out);
  }

  modulate(x: Tensor, shift: Tensor, scale: Tensor, o: OutOption = {}): Tensor {
    const { T, C } = planModulate('modulate', x, null, shift, scale, 'cpu');
    expectOut('modulate', o.out, x.shape, 'f32', 'cpu');
    return this.emit(
      modulateRef(
        this.data(x) as Float32Array,
        this.data(shift) as Float32Array,
        this.data(scale) as Float32Array,
        T,
        C,
      ),
      x.shape,
      o.out,
    );
  }

  gatedAdd(res: Tensor, y: Tensor, gate: Tensor, o: OutOption = {}): Tensor {
    const { T, C } = planModulate('gatedAdd', res, y, gate, null, 'cpu');
    expectOut('gatedAdd', o.out, res.shape, 'f32', 'cpu');
    return this.emit(
      gatedAddRef(this.data(res) as Float32Array, this.data(y) as Float32Array, this.data(gate) as Float32Array, T, C),
      res.shape,
      o.out,
    );
  }

  diffusionStep(x: Tensor, eps: Tensor, o: DiffusionStepOptions): void {
    const { cfg } = planDiffusionStep(x, eps, o, 'cpu');
    const r = diffusionStepRef(this.data(x) as Float32Array, this.data(eps) as Float32Array, {
      seed: o.seed,
      step: o.step,
      w: o.guidance ?? 0,
      cfg,
      clip: o.clip,
      s0: o.s0,
      s1: o.s1,
      cX0: o.cX0,
      cX: o.cX,
      cE: o.cE,
      sigma: o.sigma,
    });
    (this.data(o.out) as Float32Array).set(r.x);
    (this.data(o.x0Out) as Float32Array).set(r.x0);
    if (o.dupOut) {
      const d = this.data(o.dupOut) as Float32Array;
      d.set(r.x);
      d.set(r.x, r.x.length);
    }
  }

  specVerify(logits: Tensor, drafts: Tensor, counts: Tensor, o: SpecVerifyOptions): Tensor {
    const p = planSpecVerify(logits, drafts, counts, o, 'cpu');
    const r = specVerifyRef(
      this.data(logits) as Float32Array,
      this.data(drafts) as Uint32Array,
      this.data(counts) as Uint32Array,
      {
        ...p,
        key: seedToKey(o.seed),
        counter: o.counter,
        residual: o.residual ?? true,
        streams: o.streams && (this.data(o.streams) as Uint32Array),
      },
    );
    return this.emit(r, p.outShape, o.out, 'samples');
  }

  categorical(logits: Tensor, o: SampleOptions): Tensor {
    const p = planCategorical(logits, o, 'cpu');
    const r = categoricalRef(this.data(logits) as Float32Array, p.rows, p.V, {
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      precision: p.precision,
      key: p.key,
      counter: p.counter,
      streams: o.streams && (this.data(o.streams) as Uint32Array),
    });
    return this.emit(r, [p.rows], o.out, 'samples');
  }

  stats(): { buffersCreated: number } {
    return { buffersCreated: 0 };
  }

  destroy(): void {}
}
