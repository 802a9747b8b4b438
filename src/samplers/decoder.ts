/**
 * Cached incremental decoding as samplers use it: one `Model.decode` KV cache per guidance stream
 * (conditional, and unconditional when guidance s ∉ {0, 1}), the passes combined as
 * l_u + s·(l_c − l_u) exactly as `stepLogits` combines full passes, [MASK] excluded from the draws.
 * Ragged rows are handled by the caller through `visible`, padding and `truncate`, as the cache allows.
 */
import type { Tensor } from '../backend/tensor.js';
import { OpInputError } from '../errors.js';
import type { DecodeCache, DecodeInput, Model } from '../models/model.js';
import { combineGuidance, type ResolvedCommon } from './common.js';

export class CachedDecoder {
  private readonly caches: DecodeCache[] = [];
  private readonly streams: Uint32Array[] = [];
  /** model passes per decode call (2 with guidance s ∉ {0, 1}) */
  readonly passesPerCall: number;

  constructor(
    readonly model: Model,
    private readonly r: ResolvedCommon,
    private readonly maskBias: Tensor | null,
    capacity: number,
    layers?: number,
  ) {
    if (!model.createCache || !model.decode)
      throw new OpInputError('decode', `model ${model.name} has no incremental decoding (KV cache)`);
    // s = 0 is the unconditional model alone, s = 1 the conditional alone: one stream
    if (r.guidance === 0) this.streams.push(r.uncond);
    else this.streams.push(r.classes);
    if (r.guidance !== 0 && r.guidance !== 1) this.streams.push(r.uncond);
    this.passesPerCall = this.streams.length;
    try {
      for (let i = 0; i < this.streams.length; i++) this.caches.push(model.createCache(r.batch, capacity, { layers }));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get layers(): number {
    return this.caches[0].layers;
  }

  lengths(): Uint32Array {
    return this.caches[0].lengths();
  }

  truncate(b: number, length: number): void {
    for (const c of this.caches) c.truncate(b, length);
  }

  /** One decode pass on every stream; logits (batch, q, V), guidance combined, [MASK] at −∞. */
  decode(input: Omit<DecodeInput, 'classes'>): Tensor {
    const be = this.model.backend;
    const out = this.streams.map((classes, i) => this.model.decode!(this.caches[i], { ...input, classes }));
    let logits = out.length === 2 ? combineGuidance(be, out[0], out[1], this.r.guidance) : out[0];
    if (this.maskBias) {
      const biased = be.add(logits, this.maskBias);
      be.free(logits);
      logits = biased;
    }
    return logits;
  }

  dispose(): void {
    for (const c of this.caches) c.dispose();
  }
}
