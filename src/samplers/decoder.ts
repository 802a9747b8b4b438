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

  /**
   * One ragged pass that predicts a single position per row: row b appends the `count(b)` tokens of ranks
   * first(b) … first(b) + count(b) − 1 (0 for a padding row, whose query is ignored) and queries the position
   * `query(b)` seeing everything it then holds; rows appending fewer than the pass's m are rolled back
   * to what they appended. Token ids come from `id(b, rank)`, or as given in a (B, m) tensor.
   */
  appendAndQuery(
    o: {
      count: (b: number) => number;
      first: (b: number) => number;
      position: (b: number, rank: number) => number;
      query: (b: number) => number;
    } & ({ id: (b: number, rank: number) => number } | { given: Tensor; m: number }),
  ): Tensor {
    const B = this.r.batch;
    const counts = Uint32Array.from({ length: B }, (_, b) => o.count(b));
    const m = 'given' in o ? o.m : Math.max(0, ...counts);
    const tok = new Uint32Array('given' in o ? 0 : B * m).fill(this.model.maskId ?? 0),
      pos = new Uint32Array(B * m),
      qpos = new Uint32Array(B),
      vis = new Uint32Array(B);
    const len = this.lengths();
    for (let b = 0; b < B; b++) {
      if (!counts[b]) continue;
      for (let j = 0; j < counts[b]; j++) {
        const rank = o.first(b) + j;
        pos[b * m + j] = o.position(b, rank);
        if ('id' in o) tok[b * m + j] = o.id(b, rank);
      }
      qpos[b] = o.query(b);
      vis[b] = len[b] + counts[b];
    }
    const logits = this.decode({
      tokens: 'given' in o ? o.given : tok,
      positions: pos,
      m,
      queries: qpos,
      q: 1,
      visible: vis,
    });
    for (let b = 0; b < B; b++) this.truncate(b, len[b] + counts[b]);
    return logits;
  }

  dispose(): void {
    for (const c of this.caches) c.dispose();
  }
}
