/**
 * The transformer over the backend's ops — the same computation as training/model.py, op for op:
 *   h = tok_emb[x] + cls_emb[c];  per block: h += Wo·attn(RoPE(Wq·LN1 h), RoPE(Wk·LN1 h), Wv·LN1 h | mask)
 *   h += W2·gelu(W1·LN2 h);  logits = head(LN_f h)
 * Two-stream (XLNet, arXiv 1906.08237): a query stream g (q_emb + class) attends to the content
 * stream's keys/values at σ-earlier positions; logits from g give p(x_σ(i) | x_σ(<i)) for all i.
 * MaM head (arXiv 2310.12920), two forms (manifest `marginal_form`):
 *   'mean-linear'        log p(x_S) = mam · mean_t LN_f(h_t) + b
 *   'observed-softplus'  log p(x_S) = −Σ_{t ∈ S} softplus(mam · LN_f(h_t) + b), S = positions not [MASK]:
 *                        0 with nothing observed and ≤ 0 for every input, whatever the weights.
 */
import type { TextTokenizer } from './tokenizer.js';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { OpInputError } from '../errors.js';
import { checkCacheShape, checkDecodeInput, RowCache } from './decode.js';
import { ropeTable } from '../ops/rope.js';
import type { LoadedTensor } from './load.js';
import type { MarginalForm, ModelManifest, TransformerArchitecture } from './manifest.js';
import { checkForwardInput, type DecodeCache, type DecodeInput, type ForwardInput, type Model } from './model.js';
import { WeightedModel, type MemoryEstimate, type WeightOptions } from './weights.js';

/** A layer's weight and bias: a linear map's, or a norm's gain and shift. */
interface Layer {
  w: Tensor;
  b: Tensor;
}

/** What attention needs besides the weights: positions (B, T), the (B|1, T, T) mask, B and T. */
interface Attend {
  pos: Tensor;
  mask: Tensor;
  B: number;
  T: number;
}

interface BlockWeights {
  ln1: Layer;
  q: Layer;
  k: Layer;
  v: Layer;
  o: Layer;
  ln2: Layer;
  ff1: Layer;
  ff2: Layer;
}

/** The two-stream transformer's KV cache: per layer K and V (batch, capacity, H, D), lengths on the host. */
class TransformerCache extends RowCache implements DecodeCache {
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  /** (batch) u32: the slot offsets of the pass being encoded (kv_write's) */
  readonly offsets: Tensor;

  constructor(
    readonly owner: TransformerModel,
    batch: number,
    readonly capacity: number,
    readonly layers: number,
    heads: number,
    headDim: number,
  ) {
    super(batch);
    const be = owner.backend;
    this.offsets = be.scoped(() => {
      for (let l = 0; l < layers; l++) {
        this.k.push(be.empty([batch, capacity, heads, headDim]));
        this.v.push(be.empty([batch, capacity, heads, headDim]));
      }
      return be.empty([batch], 'u32');
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const be = this.owner.backend;
    for (const t of [...this.k, ...this.v, this.offsets]) be.free(t);
  }
}

export class TransformerModel extends WeightedModel<ModelManifest> implements Model {
  /** set by loadModel (src/models/index.ts) */
  tokenizer?: TextTokenizer;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly maskId: number | undefined;
  readonly numClasses: number;
  readonly nullClass: number;
  readonly attention: 'bidirectional' | 'two-stream';
  readonly hasMarginalHead: boolean;
  readonly marginalForm: MarginalForm | undefined;
  private readonly arch: TransformerArchitecture;
  private readonly blocks: BlockWeights[] = [];
  private readonly rope: Tensor;

  constructor(manifest: ModelManifest, weights: Map<string, LoadedTensor>, backend: Backend, o: WeightOptions = {}) {
    super(manifest, weights, backend, o);
    const a = manifest.architecture;
    this.arch = a;
    this.vocabSize = a.vocab_size;
    this.maxLength = a.max_len;
    this.maskId = manifest.tokenizer.mask_id;
    this.numClasses = a.n_classes;
    this.nullClass = manifest.null_class;
    this.attention = a.attention;
    this.hasMarginalHead = a.marginal_head;
    this.marginalForm = a.marginal_head ? (a.marginal_form ?? 'mean-linear') : undefined;
    const d = a.d_model,
      V = a.vocab_size,
      ff = a.d_ff;
    this.admit(this.activationBytes(1, a.max_len));
    const need = (name: string, shape: number[]): Tensor => this.w.need(name, shape);
    this.w.matrix('tok_emb.weight', [V, d]);
    this.w.matrix('cls_emb.weight', [a.n_classes + 1, d]);
    /**
     * `name`.weight of shape `w` (a matrix, in the weight precision, or a norm's gain) and `name`.bias
     * of length w[0], uploaded in that order
     */
    const layer = (name: string, w: number[]): Layer => ({
      w: w.length === 2 ? this.w.matrix(`${name}.weight`, w) : need(`${name}.weight`, w),
      b: need(`${name}.bias`, [w[0]]),
    });
    for (let l = 0; l < a.n_layers; l++) {
      const p = `blocks.${l}.`;
      this.blocks.push({
        ln1: layer(p + 'ln1', [d]),
        q: layer(p + 'wq', [d, d]),
        k: layer(p + 'wk', [d, d]),
        v: layer(p + 'wv', [d, d]),
        o: layer(p + 'wo', [d, d]),
        ln2: layer(p + 'ln2', [d]),
        ff1: layer(p + 'w1', [ff, d]),
        ff2: layer(p + 'w2', [d, ff]),
      });
    }
    layer('ln_f', [d]);
    layer('head', [V, d]);
    if (a.two_stream) need('q_emb', [d]);
    if (a.marginal_head) layer('mam', [1, d]);
    const D = d / a.n_heads;
    this.rope = backend.tensor(ropeTable(a.max_len, D, a.rope_base), [a.max_len, D / 2, 2]);
  }

  /**
   * Bytes of the activations live at the peak of one forward of (batch, length): per token and
   * stream the residual, its norm, q/k/v, attention and projection outputs (≈ 6·d) and the FFN
   * hidden (d_ff), plus the logits (V); the attention masks, ids, positions and the RoPE table.
   */
  private activationBytes(batch: number, length: number): number {
    const a = this.arch;
    const streams = a.attention === 'two-stream' ? 2 : 1;
    const tokens = batch * length;
    const masks = a.attention === 'two-stream' ? 2 * batch * length * length : length * length;
    return (
      4 *
      (tokens * (streams * (6 * a.d_model + a.d_ff) + a.vocab_size + 2) + masks + a.max_len * (a.d_model / a.n_heads))
    );
  }

  /** Weights as uploaded and the activations of one forward at (batch, length) (ModelInfo.memory). */
  memoryEstimate(batch: number, length: number): MemoryEstimate {
    return { weights: this.weightBytes().total, activations: this.activationBytes(batch, length), batch, length };
  }

  private W(name: string): Tensor {
    return this.w.get(name);
  }

  checkFits(batch: number, length: number): void {
    // the widest per-token tensor of a forward: logits (V), the FFN hidden (d_ff), the width d, and
    // the (B, T, T) u32 attention masks (T per token)
    const a = this.arch;
    const bytes = batch * length * Math.max(a.vocab_size, a.d_ff, a.d_model, length) * 4;
    this.checkBytes(bytes, `a forward of batch ${batch} × length ${length}`);
  }

  private check(input: ForwardInput, op: string): { B: number; T: number; classes: Uint32Array } {
    const classes = checkForwardInput(this, input, op, this.disposed);
    return { B: input.batch, T: input.length, classes };
  }

  /** Content-stream embedding tok_emb[x] + cls_emb[c] → h (B, T, d), and the class embedding per token. */
  private embed(tokens: Uint32Array, classes: Uint32Array, B: number, T: number): { h: Tensor; cls: Tensor } {
    const be = this.backend;
    const ids = be.tensor(tokens, [B, T]);
    const perTok = new Uint32Array(B * T);
    for (let b = 0; b < B; b++) perTok.fill(classes[b], b * T, (b + 1) * T);
    const cids = be.tensor(perTok, [B, T]);
    const e = be.embedding(ids, this.W('tok_emb.weight'));
    const c = be.embedding(cids, this.W('cls_emb.weight'));
    const h = be.add(e, c);
    for (const t of [ids, e, cids]) be.free(t);
    return { h, cls: c };
  }

  /** x (B, T, d) → RoPE(W·x + b) at `pos` (B, T), as heads (B, T, H, D); frees its temporaries. */
  private ropedHeads(x: Tensor, l: Layer, pos: Tensor, B: number, T: number): Tensor {
    const be = this.backend;
    const H = this.arch.n_heads;
    const y = be.matmul(x, l.w, { transB: true, bias: l.b });
    const r = be.rope(be.reshape(y, [B, T, H, this.arch.d_model / H]), pos, this.rope);
    be.free(y);
    return r;
  }

  /** Wo · attention(q, k, v | mask) + bo, from heads (B, T, H, D) to (B, T, d); frees o. */
  private attnOut(blk: BlockWeights, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, B: number, T: number): Tensor {
    const be = this.backend;
    const o = be.attention(q, k, v, mask);
    const out = be.matmul(be.reshape(o, [B, T, this.arch.d_model]), blk.o.w, { transB: true, bias: blk.o.b });
    be.free(o);
    return out;
  }

  private attnBlock(blk: BlockWeights, xq: Tensor, xkv: Tensor, { pos, mask, B, T }: Attend): Tensor {
    const be = this.backend;
    const H = this.arch.n_heads;
    const q = this.ropedHeads(xq, blk.q, pos, B, T),
      k = this.ropedHeads(xkv, blk.k, pos, B, T),
      v0 = be.matmul(xkv, blk.v.w, { transB: true, bias: blk.v.b });
    const out = this.attnOut(blk, q, k, be.reshape(v0, [B, T, H, this.arch.d_model / H]), mask, B, T);
    for (const t of [q, k, v0]) be.free(t);
    return out;
  }

  private mlp(blk: BlockWeights, x: Tensor): Tensor {
    const be = this.backend;
    // each temporary freed after its last use (liveness: the FFN hidden never shares the peak with its input)
    const a = be.layerNorm(x, blk.ln2.w, blk.ln2.b, { eps: this.arch.norm_eps });
    const u = be.matmul(a, blk.ff1.w, { transB: true, bias: blk.ff1.b, activation: 'gelu' });
    be.free(a);
    const y = be.matmul(u, blk.ff2.w, { transB: true, bias: blk.ff2.b });
    be.free(u);
    const out = be.add(x, y);
    be.free(y);
    return out;
  }

  /** residual + attention, then residual + MLP, for one stream; frees its inputs' temporaries. */
  private stream(blk: BlockWeights, x: Tensor, lnKv: Tensor, lnQ: Tensor, at: Attend): Tensor {
    const be = this.backend;
    const a = this.attnBlock(blk, lnQ, lnKv, at);
    const x2 = be.add(x, a);
    be.free(a);
    const x3 = this.mlp(blk, x2);
    be.free(x2);
    return x3;
  }

  private positions(B: number, T: number): Tensor {
    const p = new Uint32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) p[b * T + t] = t;
    return this.backend.tensor(p, [B, T]);
  }

  /** Final hidden states LN_f(h) (B, T, d) of the content stream under `mask` (bidirectional when absent). */
  private contentHidden(input: ForwardInput, op: string): { hf: Tensor; B: number; T: number } {
    const be = this.backend;
    const { B, T, classes } = this.check(input, op);
    const pos = this.positions(B, T);
    const mask = be.tensor(new Uint32Array(T * T).fill(1), [1, T, T]);
    const emb = this.embed(input.tokens, classes, B, T);
    be.free(emb.cls);
    let h = emb.h;
    for (const blk of this.blocks) {
      // one stream: each activation freed after its last use (two streams share h, see forwardTwoStream)
      const a = be.layerNorm(h, blk.ln1.w, blk.ln1.b, { eps: this.arch.norm_eps });
      const att = this.attnBlock(blk, a, a, { pos, mask, B, T });
      be.free(a);
      const x2 = be.add(h, att);
      be.free(att);
      be.free(h);
      h = this.mlp(blk, x2);
      be.free(x2);
    }
    const hf = be.layerNorm(h, this.W('ln_f.weight'), this.W('ln_f.bias'), { eps: this.arch.norm_eps });
    for (const t of [h, pos, mask]) be.free(t);
    return { hf, B, T };
  }

  /** (scoped: a call that throws frees what it allocated) */
  forward(input: ForwardInput): Tensor {
    return this.backend.scoped(() => this.forwardUnscoped(input));
  }

  private forwardUnscoped(input: ForwardInput): Tensor {
    if (this.attention === 'two-stream') return this.forwardTwoStream(input);
    if (input.layers !== undefined)
      throw new OpInputError(
        'forward',
        `layers (skipping blocks) is for two-stream models; ${this.name} is bidirectional`,
      );
    const be = this.backend;
    const { hf } = this.contentHidden(input, 'forward');
    const logits = be.matmul(hf, this.W('head.weight'), { transB: true, bias: this.W('head.bias') });
    be.free(hf);
    return logits;
  }

  /** Masks for σ: content (rank j ≤ rank i) and query (rank j < rank i), (B, T, T). */
  static orderMasks(
    order: Uint32Array,
    B: number,
    T: number,
    queryPrefix?: Uint32Array,
  ): { content: Uint32Array; query: Uint32Array } {
    const content = new Uint32Array(B * T * T),
      query = new Uint32Array(B * T * T);
    const rank = new Uint32Array(T);
    for (let b = 0; b < B; b++) {
      const seen = new Uint8Array(T);
      for (let i = 0; i < T; i++) {
        const p = order[b * T + i];
        if (p >= T || seen[p]) throw new OpInputError('forward', `order row ${b} is not a permutation of 0..${T - 1}`);
        seen[p] = 1;
        rank[p] = i;
      }
      const n = queryPrefix ? queryPrefix[b] : T;
      for (let i = 0; i < T; i++) {
        const limit = Math.min(rank[i], n); // queries see ranks < limit
        for (let j = 0; j < T; j++) {
          const o = (b * T + i) * T + j;
          content[o] = rank[j] <= rank[i] ? 1 : 0;
          query[o] = rank[j] < limit ? 1 : 0;
        }
      }
    }
    return { content, query };
  }

  private forwardTwoStream(input: ForwardInput): Tensor {
    const be = this.backend;
    const { B, T, classes } = this.check(input, 'forward');
    const order =
      input.order ??
      (() => {
        const o = new Uint32Array(B * T);
        for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) o[b * T + t] = t;
        return o;
      })();
    if (order.length !== B * T)
      throw new OpInputError('forward', `order has ${order.length} entries, expected ${B * T}`);
    if (input.queryPrefix && (input.queryPrefix.length !== B || input.queryPrefix.some((n) => n > T))) {
      throw new OpInputError('forward', `queryPrefix must hold ${B} prefix lengths in [0, ${T}]`);
    }
    const nl = input.layers ?? this.arch.n_layers;
    if (!Number.isInteger(nl) || nl < 1 || nl > this.arch.n_layers)
      throw new OpInputError('forward', `layers must be an integer in [1, ${this.arch.n_layers}], got ${nl}`);
    const m = TransformerModel.orderMasks(order, B, T, input.queryPrefix);
    const maskC = be.tensor(m.content, [B, T, T]);
    const maskQ = be.tensor(m.query, [B, T, T]);
    const pos = this.positions(B, T);
    const content: Attend = { pos, mask: maskC, B, T },
      query: Attend = { pos, mask: maskQ, B, T };
    const emb = this.embed(input.tokens, classes, B, T);
    let h = emb.h;
    // g0 = q_emb + cls_emb[c] at every position
    let g = be.add(emb.cls, this.W('q_emb'));
    be.free(emb.cls);
    for (const blk of this.blocks.slice(0, nl)) {
      const a = be.layerNorm(h, blk.ln1.w, blk.ln1.b, { eps: this.arch.norm_eps });
      const bq = be.layerNorm(g, blk.ln1.w, blk.ln1.b, { eps: this.arch.norm_eps });
      const h2 = this.stream(blk, h, a, a, content);
      const g2 = this.stream(blk, g, a, bq, query);
      for (const t of [a, bq, h, g]) be.free(t);
      h = h2;
      g = g2;
    }
    const gf = be.layerNorm(g, this.W('ln_f.weight'), this.W('ln_f.bias'), { eps: this.arch.norm_eps });
    const logits = be.matmul(gf, this.W('head.weight'), { transB: true, bias: this.W('head.bias') });
    for (const t of [h, g, gf, pos, maskC, maskQ]) be.free(t);
    return logits;
  }

  createCache(batch: number, capacity: number, o: { layers?: number } = {}): DecodeCache {
    const op = 'createCache';
    if (this.disposed) throw new OpInputError(op, `model ${this.name} was disposed`);
    if (this.attention !== 'two-stream')
      throw new OpInputError(op, `model ${this.name} is bidirectional: incremental decoding needs a two-stream model`);
    const a = this.arch;
    const layers = checkCacheShape(op, batch, capacity, o.layers, a.n_layers);
    // each layer's K and V is one tensor (batch, capacity, d); the decode masks are (batch, ·, capacity)
    this.checkBytes(batch * capacity * a.d_model * 4, `a KV cache of ${batch} × ${capacity} slots`);
    return new TransformerCache(this, batch, capacity, layers, a.n_heads, a.d_model / a.n_heads);
  }

  /** (scoped: a call that throws frees what it allocated and leaves the cache's lengths unchanged) */
  decode(cache: DecodeCache, input: DecodeInput): Tensor {
    return this.backend.scoped(() => this.decodeUnscoped(cache, input));
  }

  /** Host checks of a decode pass, and the attention masks it implies: maskC (B, m, S), maskQ (B, q, S). */
  private planDecode(
    c: TransformerCache,
    input: DecodeInput,
  ): { classes: Uint32Array; maskC: Uint32Array; maskQ: Uint32Array } {
    const op = 'decode';
    const { m, q } = input;
    const B = c.batch,
      S = c.capacity;
    const seen = checkDecodeInput(op, input, c.len, S, this.vocabSize, this.backend.name, this.maxLength);
    const classes = input.classes ?? new Uint32Array(B).fill(this.nullClass);
    if (classes.length !== B) throw new OpInputError(op, `classes has ${classes.length} entries, expected ${B}`);
    for (const k of classes)
      if (k > this.nullClass) throw new OpInputError(op, `class ${k} is outside [0, ${this.nullClass}]`);
    const maskC = new Uint32Array(B * m * S),
      maskQ = new Uint32Array(B * q * S);
    for (let b = 0; b < B; b++) {
      const n = c.len[b];
      for (let i = 0; i < m; i++) maskC.fill(1, (b * m + i) * S, (b * m + i) * S + n + i + 1);
      for (let j = 0; j < q; j++) maskQ.fill(1, (b * q + j) * S, (b * q + j) * S + seen[b * q + j]);
    }
    return { classes, maskC, maskQ };
  }

  private decodeUnscoped(cache: DecodeCache, input: DecodeInput): Tensor {
    const op = 'decode';
    if (this.disposed) throw new OpInputError(op, `model ${this.name} was disposed`);
    if (!(cache instanceof TransformerCache) || cache.owner !== this)
      throw new OpInputError(op, `the cache was not created by ${this.name}.createCache`);
    if (cache.disposed) throw new OpInputError(op, 'the cache was disposed');
    const c = cache;
    const { m, q } = input;
    const B = c.batch,
      S = c.capacity,
      d = this.arch.d_model,
      H = this.arch.n_heads,
      D = d / H;
    this.checkFits(B, Math.max(m, q));
    const { classes, maskC, maskQ } = this.planDecode(c, input);
    const be = this.backend;
    const eps = this.arch.norm_eps;
    // every upload first, so the pass is encoded as one command list
    be.write(c.offsets, c.len);
    const perRow = (n: number) => {
      const x = new Uint32Array(B * n);
      for (let b = 0; b < B; b++) x.fill(classes[b], b * n, (b + 1) * n);
      return x;
    };
    const clsQ = be.tensor(perRow(q), [B, q]);
    const posQ = be.tensor(input.queries, [B, q]);
    const mQ = be.tensor(maskQ, [B, q, S]);
    const given = input.tokens instanceof Uint32Array ? null : input.tokens;
    const tok = !m ? null : given ? be.reshape(given, [B, m]) : be.tensor(input.tokens as Uint32Array, [B, m]);
    const clsT = m ? be.tensor(perRow(m), [B, m]) : null;
    const posT = m ? be.tensor(input.positions, [B, m]) : null;
    const mC = m ? be.tensor(maskC, [B, m, S]) : null;
    let h: Tensor | null = null;
    if (tok && clsT) {
      const e = be.embedding(tok, this.W('tok_emb.weight')),
        ce = be.embedding(clsT, this.W('cls_emb.weight'));
      h = be.add(e, ce);
      for (const t of [e, ce, clsT]) be.free(t);
      if (!given) be.free(tok); // a given tensor stays the caller's
    }
    const cq = be.embedding(clsQ, this.W('cls_emb.weight'));
    let g = be.add(cq, this.W('q_emb'));
    for (const t of [cq, clsQ]) be.free(t);
    for (let l = 0; l < c.layers; l++) {
      const blk = this.blocks[l];
      const K = c.k[l],
        V = c.v[l];
      if (h && posT && mC) {
        // content stream of the appended tokens: their keys/values into the cache, then attend to it
        const a = be.layerNorm(h, blk.ln1.w, blk.ln1.b, { eps });
        const k = this.ropedHeads(a, blk.k, posT, B, m);
        const v0 = be.matmul(a, blk.v.w, { transB: true, bias: blk.v.b });
        be.kvWrite(K, k, c.offsets);
        be.kvWrite(V, be.reshape(v0, [B, m, H, D]), c.offsets);
        const qh = this.ropedHeads(a, blk.q, posT, B, m);
        const att = this.attnOut(blk, qh, K, V, mC, B, m);
        const h2 = be.add(h, att);
        const h3 = this.mlp(blk, h2);
        for (const t of [a, k, v0, qh, att, h2, h]) be.free(t);
        h = h3;
      }
      // query stream: attends to the cache's slots as its mask allows
      const bq = be.layerNorm(g, blk.ln1.w, blk.ln1.b, { eps });
      const qg = this.ropedHeads(bq, blk.q, posQ, B, q);
      const att = this.attnOut(blk, qg, K, V, mQ, B, q);
      const g2 = be.add(g, att);
      const g3 = this.mlp(blk, g2);
      for (const t of [bq, qg, att, g2, g]) be.free(t);
      g = g3;
    }
    const gf = be.layerNorm(g, this.W('ln_f.weight'), this.W('ln_f.bias'), { eps });
    const logits = be.matmul(gf, this.W('head.weight'), { transB: true, bias: this.W('head.bias') });
    for (const t of [gf, g, posQ, mQ]) be.free(t);
    for (const t of [h, posT, mC]) if (t) be.free(t);
    for (let b = 0; b < B; b++) c.len[b] += m;
    return logits;
  }

  /** (scoped: a call that throws frees what it allocated) */
  logMarginal(input: ForwardInput): Tensor {
    return this.backend.scoped(() => this.logMarginalUnscoped(input));
  }

  private logMarginalUnscoped(input: ForwardInput): Tensor {
    if (!this.hasMarginalHead) throw new OpInputError('logMarginal', `model ${this.name} has no marginal head`);
    const be = this.backend;
    // mean over positions as a batched matmul: (B, 1, T) · (B, T, d) → (B, 1, d); uploaded first so
    // the whole pass stays one command list
    const { batch: B, length: T, tokens } = input;
    this.check(input, 'logMarginal');
    if (this.marginalForm === 'observed-softplus') {
      // −Σ over observed positions as a batched matmul: (B, 1, T) row of −1 (observed) / 0 ([MASK])
      // times the per-position costs (B, T, 1); uploaded first so the pass stays one command list
      const neg = new Float32Array(B * T);
      for (let i = 0; i < B * T; i++) neg[i] = tokens[i] === this.maskId ? 0 : -1;
      const sel = be.tensor(neg, [B, 1, T]);
      const { hf } = this.contentHidden(input, 'logMarginal');
      const z = be.matmul(hf, this.W('mam.weight'), { transB: true, bias: this.W('mam.bias') });
      const cost = be.softplus(z);
      const out = be.empty([B]);
      be.matmul(sel, cost, { out: be.reshape(out, [B, 1, 1]) });
      for (const t of [hf, sel, z, cost]) be.free(t);
      return out;
    }
    const pool = be.tensor(new Float32Array(B * T).fill(1 / T), [B, 1, T]);
    const { hf } = this.contentHidden(input, 'logMarginal');
    const pooled = be.matmul(pool, hf);
    const out = be.empty([B]);
    be.matmul(pooled, this.W('mam.weight'), {
      transB: true,
      bias: this.W('mam.bias'),
      out: be.reshape(out, [B, 1, 1]),
    });
    for (const t of [hf, pool, pooled]) be.free(t);
    return out;
  }

  override dispose(): void {
    if (!this.disposed) this.backend.free(this.rope);
    super.dispose();
  }
}
