/**
 * Checked access to a model's loaded weights: every tensor the architecture needs must exist with
 * exactly the expected shape and a floating-point dtype, else a ModelFormatError naming it.
 * Uploads go to one backend and are owned here (freed by `dispose`). Matrices (what a matmul reads
 * as B, an embedding as its table) are uploaded in the model's weight precision (`matrix`); all
 * else in f32 (`need`).
 */
import type { Backend } from '../backend/backend.js';
import { fromF16, toF16 } from '../backend/f16.js';
import { storageBytes, type DType, type HostArray, type Tensor } from '../backend/tensor.js';
import { LimitExceededError, ModelFormatError, OpInputError } from '../errors.js';
import type { LoadedTensor, LoadOptions } from './load.js';

/** What a model build takes from LoadOptions: the matrices' dtype and the memory budget. */
export type WeightOptions = Pick<LoadOptions, 'weights' | 'memoryBudget'>;

/** A model's memory on its backend: weights, and the activations of a forward at (batch, length). */
export interface MemoryEstimate {
  /** bytes of the weights as uploaded (f16 matrices at 2 bytes per value) */
  weights: number;
  /**
   * bytes of the tensors live at the peak of one forward at (batch, length); the buffer pool rounds
   * each up to its size class (≤ 1.25×) and may hand a request a free buffer up to twice its size
   */
  activations: number;
  batch: number;
  length: number;
}

/**
 * f32 weight values as f16 bits (round to nearest even); a value beyond f16's range is a
 * ModelFormatError naming the weight, its file and the index (rule "f16-range"), never clamped.
 */
export function narrowToF16(values: Float32Array, name: string, file?: string): Uint16Array {
  const h = toF16(values);
  if (h instanceof Uint16Array) return h;
  throw new ModelFormatError(
    'f16-range',
    `value ${h.value} at index ${h.index} is beyond f16's range (±65504); load with weights: 'f32'`,
    name,
    file,
  );
}

/** A weight as it will be uploaded: its name, shape, dtype on the backend and element count. */
export interface PlannedWeight {
  name: string;
  shape: readonly number[];
  dtype: DType;
  elements: number;
}

/**
 * Refuse a model that cannot fit on `backend`, before anything is uploaded: a weight whose one row
 * (the smallest block a split keeps) or whose whole vector exceeds a storage binding, or weights plus
 * `activations` bytes over `budget`. The LimitExceededError names the model, its bytes, the limit and
 * the adapter. Used on weights in hand (WeightSet.admit) and on a streamed checkpoint's headers.
 */
export function admitWeights(
  be: Backend,
  model: string,
  weights: readonly PlannedWeight[],
  activations: number,
  budget?: number,
): void {
  const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.device || 'webgpu' : be.name;
  const bytes = weights.reduce((a, w) => a + storageBytes(w.dtype, w.elements), 0);
  const ctx = `model ${model} (${bytes} bytes of weights, ${activations} of activations) on ${adapter}`;
  const bound = be.maxTensor;
  for (const { name, shape, dtype, elements: n } of weights) {
    const unit = shape.length >= 2 ? n / Math.max(1, shape[0]) : n;
    const need = storageBytes(dtype, unit);
    if (need > bound.bytes)
      throw new LimitExceededError(
        bound.limit,
        need,
        bound.bytes,
        `${ctx}: ${shape.length >= 2 ? 'one row of ' : ''}weight "${name}" [${shape.join(', ')}]`,
      );
  }
  if (budget !== undefined && bytes + activations > budget)
    throw new LimitExceededError('memoryBudget', bytes + activations, budget, ctx);
}

export class WeightSet {
  private readonly owned = new Map<string, Tensor>();

  constructor(
    private readonly weights: Map<string, LoadedTensor>,
    private readonly backend: Backend,
    private readonly o: WeightOptions = {},
  ) {}

  /** The weight precision when the model states one (WeightOptions.weights). */
  get matrixPrecision(): 'f16' | 'f32' | undefined {
    return this.o.weights;
  }

  /** The dtype a loaded floating tensor takes as a matrix: the option, else as its file stores it. */
  private matrixDtype(data: LoadedTensor['data']): 'f16' | 'f32' {
    return this.o.weights ?? (data instanceof Uint16Array ? 'f16' : 'f32');
  }

  private plannedDtype(t: LoadedTensor): DType {
    if (t.tensor) return t.tensor.dtype;
    return t.shape.length >= 2 ? this.matrixDtype(t.data) : 'f32';
  }

  private elements(t: LoadedTensor): number {
    return t.tensor ? t.tensor.size : t.data.length;
  }

  /**
   * Refuse a model that cannot fit, before anything is uploaded: a weight whose one row (the
   * smallest block a split keeps) or whose whole vector exceeds a storage binding, or weights plus
   * `activations` bytes over the memory budget. The LimitExceededError names the model, its bytes,
   * the limit and the adapter.
   */
  admit(model: string, activations: number): void {
    const planned = [...this.weights].map(([name, t]) => ({
      name,
      shape: t.shape,
      dtype: this.plannedDtype(t),
      elements: this.elements(t),
    }));
    admitWeights(this.backend, model, planned, activations, this.o.memoryBudget);
  }

  /** A weight's entry, checked: present, with exactly the expected shape. */
  private entry(name: string, shape: readonly number[]): LoadedTensor {
    const t = this.weights.get(name);
    if (!t) throw new ModelFormatError('missing-weight', 'the architecture needs it but the weights lack it', name);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new ModelFormatError('weight-shape', `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Uint16Array))
      throw new ModelFormatError('weight-dtype', 'weights must be floating point', name);
    return t;
  }

  /** A streamed weight, already on the backend: the model takes ownership (dtype as streamed). */
  private adopt(name: string, t: LoadedTensor, dtype?: 'f32'): Tensor {
    const g = t.tensor!;
    if (dtype && g.dtype !== dtype)
      throw new ModelFormatError(
        'streamed-weight',
        `streamed as ${g.dtype}, but its op reads f32: load this architecture with weights: 'f32' or stream: false`,
        name,
      );
    t.adopted = true;
    return this.put(name, g);
  }

  /** A weight's loaded values, checked: f32, or f16 bits as the file stored them. */
  stored(name: string, shape: readonly number[]): Float32Array | Uint16Array {
    const t = this.entry(name, shape);
    if (t.tensor)
      throw new ModelFormatError(
        'streamed-weight',
        'this architecture reads it on the host, but it was streamed to the backend: load with stream: false',
        name,
      );
    return t.data as Float32Array | Uint16Array;
  }

  /** The host data of a weight as f32, checked. */
  host(name: string, shape: readonly number[]): Float32Array {
    const d = this.stored(name, shape);
    return d instanceof Uint16Array ? fromF16(d) : d;
  }

  /**
   * A weight uploaded to the backend in f32, checked. Ops other than matmul's B and embedding's
   * table read one binding, so it must fit one (LimitExceededError, before the upload).
   */
  need(name: string, shape: readonly number[]): Tensor {
    const t = this.entry(name, shape);
    const bound = this.backend.maxTensor;
    const bytes = 4 * (t.tensor ? t.tensor.size : t.data.length);
    if (bytes > bound.bytes)
      throw new LimitExceededError(bound.limit, bytes, bound.bytes, `weight "${name}" (read whole by its op)`);
    if (t.tensor) return this.adopt(name, t, 'f32');
    return this.upload(name, this.host(name, shape), shape);
  }

  /** A weight matrix (matmul B, embedding table, head) uploaded in the model's weight precision, checked. */
  matrix(name: string, shape: readonly number[]): Tensor {
    const t = this.entry(name, shape);
    if (t.tensor) return this.adopt(name, t);
    return this.uploadMatrix(name, this.stored(name, shape), shape);
  }

  /**
   * Upload a derived matrix (e.g. a row block of a fused weight) in the weight precision; f32 values
   * beyond f16's range are a ModelFormatError naming the weight and index (never clamped).
   */
  uploadMatrix(name: string, data: Float32Array | Uint16Array, shape: readonly number[]): Tensor {
    return this.put(name, this.matrixTensor(name, data, shape));
  }

  /** A matrix on the backend in the weight precision, not yet owned. */
  private matrixTensor(name: string, data: Float32Array | Uint16Array, shape: readonly number[]): Tensor {
    const want = this.matrixDtype(data);
    let d = data;
    if (want === 'f32' && d instanceof Uint16Array) d = fromF16(d);
    if (want === 'f16' && d instanceof Float32Array) d = narrowToF16(d, name);
    return this.backend.tensor(d, shape, { weight: true });
  }

  /**
   * A loaded weight (checked by the caller) on the backend, owned here: a streamed one adopted as it is
   * (a vector must have streamed as f32), else uploaded — a matrix in the weight precision, a vector in f32.
   */
  take(name: string, t: LoadedTensor, as: 'matrix' | 'vector'): Tensor {
    if (t.tensor) return this.adopt(name, t, as === 'vector' ? 'f32' : undefined);
    const d = t.data as Float32Array | Uint16Array;
    if (as === 'matrix') return this.uploadMatrix(name, d, t.shape);
    return this.upload(name, d instanceof Uint16Array ? fromF16(d) : d, t.shape);
  }

  /**
   * A loaded weight (checked by the caller) as parts owned under `names` (GPT-2's c_attn as q, k, v):
   * parts streamed as such (LoadedTensor.parts) adopted as they are, else `split` of its loaded values
   * uploaded — matrices in the weight precision, vectors in f32.
   */
  takeParts(
    names: readonly string[],
    t: LoadedTensor,
    as: 'matrix' | 'vector',
    split: (data: HostArray, shape: readonly number[]) => { data: HostArray; shape: number[] }[],
  ): Tensor[] {
    if (t.parts) {
      t.adopted = true;
      return t.parts.map((g, i) => this.put(names[i], g));
    }
    return split(t.data, t.shape).map(({ data, shape }, i) => {
      const d = data as Float32Array | Uint16Array;
      if (as === 'matrix') return this.uploadMatrix(names[i], d, shape);
      return this.upload(names[i], d instanceof Uint16Array ? fromF16(d) : d, shape);
    });
  }

  /**
   * Loaded matrices (checked by the caller) stacked along dimension 0 as one weight `name`
   * (Backend.stack: zero copy on webgpu), streamed ones adopted, the others uploaded first.
   */
  stack(name: string, parts: readonly [string, LoadedTensor][]): Tensor {
    const ts = parts.map(([n, t]) => {
      if (!t.tensor) return this.matrixTensor(n, t.data as Float32Array | Uint16Array, t.shape);
      t.adopted = true;
      return t.tensor;
    });
    return this.put(name, this.backend.stack(ts));
  }

  /** Upload derived data (a slice of a weight, a constant) under a name; owned here. */
  upload(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    return this.put(name, this.backend.tensor(data, shape));
  }

  private put(name: string, g: Tensor): Tensor {
    const old = this.owned.get(name);
    if (old) this.backend.free(old);
    this.owned.set(name, g);
    return g;
  }

  /** Bytes the uploaded weights hold on the backend, by dtype (f16 packed two per 4-byte word). */
  bytes(): { f16: number; f32: number; total: number } {
    const out = { f16: 0, f32: 0, total: 0 };
    for (const t of this.owned.values()) {
      const b = storageBytes(t.dtype, t.size);
      if (t.dtype === 'f16') out.f16 += b;
      else out.f32 += b;
      out.total += b;
    }
    return out;
  }

  get(name: string): Tensor {
    const t = this.owned.get(name);
    if (!t) throw new ModelFormatError('missing-weight', 'not uploaded', name);
    return t;
  }

  dispose(): void {
    for (const t of this.owned.values()) this.backend.free(t);
    this.owned.clear();
  }
}

/**
 * What every model over the backend's ops shares: its manifest and backend, its weights (checked and
 * uploaded through a WeightSet, freed by `dispose`) and the refusal to run once disposed.
 */
export abstract class WeightedModel<M extends { name: string }> {
  readonly name: string;
  protected readonly w: WeightSet;
  protected disposed = false;

  constructor(
    readonly manifest: M,
    weights: Map<string, LoadedTensor>,
    readonly backend: Backend,
    o: WeightOptions = {},
  ) {
    this.name = manifest.name;
    this.w = new WeightSet(weights, backend, o);
  }

  /**
   * Refuse the model before its first upload if it cannot fit (WeightSet.admit); `activations`: the
   * bytes of one forward at batch 1 and full length.
   */
  protected admit(activations: number): void {
    this.w.admit(this.name, activations);
  }

  /** Bytes the model's weights hold on its backend, by dtype. */
  weightBytes(): { f16: number; f32: number; total: number } {
    return this.w.bytes();
  }

  /** LimitExceededError (naming the backend's limit) when one tensor of `bytes` cannot be held. */
  protected checkBytes(bytes: number, what: string): void {
    const max = this.backend.maxTensor;
    if (!(bytes <= max.bytes)) throw new LimitExceededError(max.limit, bytes, max.bytes, `${this.name}: ${what}`);
  }

  /** Throws OpInputError (naming `op`) once the model is disposed. */
  protected live(op: string): void {
    if (this.disposed) throw new OpInputError(op, `model ${this.name} was disposed`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.w.dispose();
  }
}
