/**
 * Checked access to a model's loaded weights: every tensor the architecture needs must exist with
 * exactly the expected shape and a floating-point dtype, else a ModelFormatError naming it.
 * Uploads go to one backend and are owned here (freed by `dispose`).
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { ModelFormatError, OpInputError } from '../errors.js';
import type { LoadedTensor } from './load.js';

export class WeightSet {
  private readonly owned = new Map<string, Tensor>();

  constructor(
    private readonly weights: Map<string, LoadedTensor>,
    private readonly backend: Backend,
  ) {}

  /** The host data of a weight, checked. */
  host(name: string, shape: readonly number[]): Float32Array {
    const t = this.weights.get(name);
    if (!t) throw new ModelFormatError('missing-weight', 'the architecture needs it but the weights lack it', name);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new ModelFormatError('weight-shape', `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
    if (!(t.data instanceof Float32Array))
      throw new ModelFormatError('weight-dtype', 'weights must be floating point', name);
    return t.data;
  }

  /** A weight uploaded to the backend, checked. */
  need(name: string, shape: readonly number[]): Tensor {
    return this.upload(name, this.host(name, shape), shape);
  }

  /** Upload derived data (a slice of a weight, a constant) under a name; owned here. */
  upload(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    const g = this.backend.tensor(data, shape);
    const old = this.owned.get(name);
    if (old) this.backend.free(old);
    this.owned.set(name, g);
    return g;
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
  ) {
    this.name = manifest.name;
    this.w = new WeightSet(weights, backend);
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
