/**
 * Checked access to a model's loaded weights: every tensor the architecture needs must exist with
 * exactly the expected shape and a floating-point dtype, else a ModelFormatError naming it.
 * Uploads go to one backend and are owned here (freed by `dispose`). Matrices (what a matmul reads
 * as B, an embedding as its table) are uploaded in the model's weight precision (`matrix`); all
 * else in f32 (`need`).
 */
import type { Backend } from '../backend/backend.js';
import { fromF16, toF16 } from '../backend/f16.js';
import { storageBytes, type Tensor } from '../backend/tensor.js';
import { ModelFormatError, OpInputError } from '../errors.js';
import type { LoadedTensor, WeightPrecision } from './load.js';

export interface WeightOptions {
  /** the matrices' dtype (LoadOptions.weights); default: each as its file stores it */
  weights?: WeightPrecision;
}

export class WeightSet {
  private readonly owned = new Map<string, Tensor>();

  constructor(
    private readonly weights: Map<string, LoadedTensor>,
    private readonly backend: Backend,
    private readonly o: WeightOptions = {},
  ) {}

  /** A weight's loaded values, checked: f32, or f16 bits as the file stored them. */
  stored(name: string, shape: readonly number[]): Float32Array | Uint16Array {
    const t = this.weights.get(name);
    if (!t) throw new ModelFormatError('missing-weight', 'the architecture needs it but the weights lack it', name);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new ModelFormatError('weight-shape', `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Uint16Array))
      throw new ModelFormatError('weight-dtype', 'weights must be floating point', name);
    return t.data;
  }

  /** The host data of a weight as f32, checked. */
  host(name: string, shape: readonly number[]): Float32Array {
    const d = this.stored(name, shape);
    return d instanceof Uint16Array ? fromF16(d) : d;
  }

  /** A weight uploaded to the backend in f32, checked. */
  need(name: string, shape: readonly number[]): Tensor {
    return this.upload(name, this.host(name, shape), shape);
  }

  /** A weight matrix (matmul B, embedding table, head) uploaded in the model's weight precision, checked. */
  matrix(name: string, shape: readonly number[]): Tensor {
    return this.uploadMatrix(name, this.stored(name, shape), shape);
  }

  /**
   * Upload a derived matrix (e.g. a row block of a fused weight) in the weight precision; f32 values
   * beyond f16's range are a ModelFormatError naming the weight and index (never clamped).
   */
  uploadMatrix(name: string, data: Float32Array | Uint16Array, shape: readonly number[]): Tensor {
    const want = this.o.weights ?? (data instanceof Uint16Array ? 'f16' : 'f32');
    let d = data;
    if (want === 'f32' && d instanceof Uint16Array) d = fromF16(d);
    if (want === 'f16' && d instanceof Float32Array) {
      const h = toF16(d);
      if (!(h instanceof Uint16Array))
        throw new ModelFormatError(
          'f16-range',
          `value ${h.value} at index ${h.index} is beyond f16's range (±65504); load with weights: 'f32'`,
          name,
        );
      d = h;
    }
    return this.put(name, this.backend.tensor(d, shape));
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

  /** Bytes the model's weights hold on its backend, by dtype. */
  weightBytes(): { f16: number; f32: number; total: number } {
    return this.w.bytes();
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
