/**
 * Published architectures from Hugging Face checkpoints on our kernels (config.ts says which), as the
 * `Model` the samplers use — nothing here knows about a sampler:
 *
 *   LLaMA family  h = E[x]; per layer h += Wo·attn(RoPE(Wq·n1), RoPE(Wk·n1), Wv·n1 | mask), n1 = RMSNorm(h);
 *                 h += Wd·swiglu([Wg; Wu]·RMSNorm(h)); logits = head(RMSNorm(h)). GQA: k/v have n_kv heads.
 *                 `causal: false` (manifest; LLaDA/Dream style): all-ones mask, a masked-diffusion denoiser;
 *                 `causal: true`: a causal LM. Dream: the final hidden states shifted right by one position
 *                 before the head (its logits at i predict token i from the state at i − 1).
 *   GPT-2         h = wte[x] + wpe[p]; per layer h += c_proj·attn(LN1 h | causal) and h += MLP(LN2 h) with
 *                 Conv1D [in, out] weights (our matmul's non-transposed B); logits = LN_f(h)·wteᵀ.
 *   BERT/RoBERTa  h = LN(word[x] + pos[p + offset] + type[0]); per layer (post-LN) h = LN(h + attn(h)),
 *                 h = LN(h + W2·gelu(W1·h)); logits = LN(gelu(W·h))·wordᵀ + bias. A masked-diffusion denoiser.
 *
 * A causal model's logits at i are p(x_i | x_<i): it is fed [bos, x_0 … x_{T−2}] (as the ONNX causal
 * adapter), so the left-to-right sampler and NLL evaluator read them as a two-stream model's left-to-
 * right conditionals. Weights are checked against the config (names.ts) before any upload; streamed ones
 * (src/models/hf/stream.ts) are adopted as they are, and LLaMA's gate and up are stacked on the backend.
 */
import type { Backend } from '../../backend/backend.js';
import type { Tensor } from '../../backend/tensor.js';
import { ModelFormatError, OpInputError } from '../../errors.js';
import { ropeTable } from '../../ops/rope.js';
import type { LoadedTensor } from '../load.js';
import type { HfManifest } from '../manifest.js';
import {
  checkForwardInput,
  checkLeftToRightOnly,
  type DecodeCache,
  type DecodeInput,
  type ForwardInput,
  type Model,
} from '../model.js';
import type { TextTokenizer } from '../tokenizer.js';
import { WeightedModel, type WeightOptions } from '../weights.js';
import { fromF16 } from '../../backend/f16.js';
import { parseHfConfig, ropeFrequencies, type HfSpec } from './config.js';
import { checkHfWeights } from './names.js';
import { checkCacheShape, checkDecodeInput, RowCache } from '../decode.js';
import { admitHf, columnBlocks, hfWidestActivation } from './stream.js';

/** a linear map's weight and optional bias (uploaded) */
interface Lin {
  w: Tensor;
  b: Tensor | null;
}

/** one layer's slice of a KV cache: where a pass writes its keys and values */
interface LayerCache {
  k: Tensor;
  v: Tensor;
  offsets: Tensor;
}

/** one block's weights, by role (which are set depends on the family) */
interface Block {
  n1w: Tensor;
  n1b: Tensor | null;
  n2w: Tensor;
  n2b: Tensor | null;
  q: Lin;
  k: Lin;
  v: Lin;
  o: Lin;
  /** llama: [gate; up] stacked (2F, d); gpt2/bert: the first MLP matrix */
  up: Lin;
  down: Lin;
}

/** what turns token ids into the first hidden state */
interface Embed {
  tok: Tensor;
  /** learned absolute positions (gpt2, bert) */
  pos: Tensor | null;
  /** bert: the token-type-0 row (d) added at every position */
  typeRow: Tensor | null;
  /** bert: the embedding LayerNorm */
  norm: { w: Tensor; b: Tensor } | null;
}

/** what turns the last hidden state into logits */
interface Head {
  /** bert: the MLM transform (dense, then the activation) before the norm */
  transform: Lin | null;
  /** the final norm (llama: RMSNorm, no shift), or the MLM transform's LayerNorm */
  norm: { w: Tensor; b: Tensor | null };
  /** (V, d): the LM head, or the token embedding it is tied to */
  decoder: Tensor;
  bias: Tensor | null;
}

/**
 * A causal model's KV cache. The model is fed [bos, x_0, x_1, …], so slot 0 holds BOS (written when the cache
 * is created) and the decided token of rank r sits in slot r + 1, at sequence position r + 1. Per layer K and V
 * are (batch, capacity + 1, kv heads, head dim); `hidden` (batch, capacity + 1, 1, d) keeps every slot's final
 * hidden state, so a query predicting rank r reads slot r's (the state after x_{r−1}) whether or not this pass
 * appended it, and rolling a row back is O(1) as for the two-stream cache.
 */
class HfCache extends RowCache implements DecodeCache {
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  readonly hidden: Tensor;
  /** (batch) u32: the slot each row's first appended token goes to (kv_write's offsets) */
  readonly offsets: Tensor;

  constructor(
    readonly owner: HfTextModel,
    batch: number,
    readonly capacity: number,
    readonly layers: number,
    kvHeads: number,
    headDim: number,
    d: number,
  ) {
    super(batch);
    const be = owner.backend;
    [this.offsets, this.hidden] = be.scoped(() => {
      for (let l = 0; l < layers; l++) {
        this.k.push(be.empty([batch, capacity + 1, kvHeads, headDim]));
        this.v.push(be.empty([batch, capacity + 1, kvHeads, headDim]));
      }
      return [be.empty([batch], 'u32'), be.empty([batch, capacity + 1, 1, d])];
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const be = this.owner.backend;
    for (const t of [...this.k, ...this.v, this.offsets, this.hidden]) be.free(t);
  }
}

export class HfTextModel extends WeightedModel<HfManifest> implements Model {
  /** set by the loader */
  tokenizer?: TextTokenizer;
  readonly spec: HfSpec;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly maskId: number | undefined;
  readonly numClasses = 0;
  readonly nullClass: number;
  readonly attention: 'bidirectional' | 'causal';
  readonly hasMarginalHead = false;
  private readonly blocks: Block[] = [];
  private readonly rope: Tensor | null = null;
  private emb!: Embed;
  private readonly bos: number;
  private head!: Head;

  /**
   * `o.weights`: the precision of the weight matrices on the backend (linear maps, embedding tables, the head);
   * default f16 when the checkpoint stores F16 or BF16 (loaded as f16 bits), else f32. Norms and biases stay f32.
   */
  constructor(
    manifest: HfManifest,
    weights: Map<string, LoadedTensor>,
    backend: Backend,
    file?: string,
    o: WeightOptions = {},
  ) {
    super(manifest, new Map(), backend, {
      ...o,
      weights: o.weights ?? ([...weights.values()].some((t) => t.data instanceof Uint16Array) ? 'f16' : 'f32'),
    });
    const a = manifest.architecture;
    const s = parseHfConfig(a.config, 'manifest.json architecture.config');
    this.spec = s;
    // every check before the first upload: a bad checkpoint leaves nothing on the device
    const w = checkHfWeights(s, weights, file ?? manifest.files.find((f) => f.role === 'weights')?.path);
    this.vocabSize = s.vocab;
    this.maxLength = Math.min(a.max_len, s.maxLen);
    this.maskId = manifest.tokenizer.mask_id ?? s.maskId;
    this.nullClass = manifest.null_class;
    this.attention = a.causal ? 'causal' : 'bidirectional';
    this.bos = a.bos_id ?? s.bosId ?? -1;
    if (a.causal && !(this.bos >= 0 && this.bos < s.vocab))
      throw new ModelFormatError('hf-bos', 'a causal model needs a BOS id in the vocabulary (architecture.bos_id)');
    const weightDtype = this.w.matrixPrecision ?? 'f32';
    // refused before the first upload if it cannot fit (a streamed load was admitted on its headers)
    admitHf(
      backend,
      manifest,
      s,
      [...w].map(([name, t]) => ({
        name,
        shape: t.shape,
        dtype: t.tensor ? t.tensor.dtype : t.shape.length >= 2 ? weightDtype : 'f32',
      })),
      o.memoryBudget,
    );
    const host = (name: string): Float32Array => {
      const t = w.get(name)!;
      if (t.tensor)
        throw new ModelFormatError('streamed-weight', 'the model reshapes it on the host, but it was streamed', name);
      return t.data instanceof Uint16Array ? fromF16(t.data) : (t.data as Float32Array);
    };
    // streamed weights are adopted as they are; loaded ones uploaded (matrices in the weight precision)
    const up = (name: string, data?: Float32Array): Tensor =>
      data ? this.w.upload(name, data, [data.length]) : this.w.take(name, w.get(name)!, 'vector');
    const mat = (name: string): Tensor => this.w.take(name, w.get(name)!, 'matrix');
    const opt = (name: string): Tensor | null => (w.has(name) ? up(name) : null);
    const lin = (name: string): Lin => ({ w: mat(`${name}.weight`), b: opt(`${name}.bias`) });
    const { d, layers } = s;
    try {
      if (s.family === 'llama') {
        const tok = mat('model.embed_tokens.weight');
        this.emb = { tok, pos: null, typeRow: null, norm: null };
        const lmHead = s.tied ? tok : mat('lm_head.weight');
        for (let l = 0; l < layers; l++) {
          const p = `model.layers.${l}.`;
          // [gate; up] as one (2F, d) B operand: stacked on the backend (no host copy; zero copy on webgpu)
          const parts = ['gate_proj', 'up_proj'].map((n): [string, LoadedTensor] => {
            const name = `${p}mlp.${n}.weight`;
            return [name, w.get(name)!];
          });
          const gu = this.w.stack(`${p}mlp.gate_up.weight`, parts);
          let gub: Tensor | null = null;
          if (s.mlpBias) {
            const gb = host(`${p}mlp.gate_proj.bias`),
              ub = host(`${p}mlp.up_proj.bias`);
            const both = new Float32Array(2 * s.ff);
            both.set(gb);
            both.set(ub, s.ff);
            gub = up(`${p}mlp.gate_up.bias`, both);
          }
          this.blocks.push({
            n1w: up(`${p}input_layernorm.weight`),
            n1b: null,
            n2w: up(`${p}post_attention_layernorm.weight`),
            n2b: null,
            q: lin(`${p}self_attn.q_proj`),
            k: lin(`${p}self_attn.k_proj`),
            v: lin(`${p}self_attn.v_proj`),
            o: lin(`${p}self_attn.o_proj`),
            up: { w: gu, b: gub },
            down: lin(`${p}mlp.down_proj`),
          });
        }
        this.head = { transform: null, norm: { w: up('model.norm.weight'), b: null }, decoder: lmHead, bias: null };
        const P = this.maxLength;
        this.rope = backend.tensor(ropeTable(P, s.headDim, s.ropeTheta, ropeFrequencies(s)), [P, s.headDim / 2, 2]);
      } else if (s.family === 'gpt2') {
        const [wte, wpe] = ['wte.weight', 'wpe.weight'].map((n) => mat(`transformer.${n}`));
        this.emb = { tok: wte, pos: wpe, typeRow: null, norm: null };
        const lnF = { w: up('transformer.ln_f.weight'), b: up('transformer.ln_f.bias') };
        this.head = { transform: null, norm: lnF, decoder: wte, bias: null };
        for (let l = 0; l < layers; l++) {
          const p = `transformer.h.${l}.`;
          // c_attn [d, 3d] → q, k, v [d, d] each (its column blocks), biases likewise: split as it
          // streamed (src/models/hf/stream.ts), else here
          const qkv = (kind: 'weight' | 'bias', as: 'matrix' | 'vector') =>
            this.w.takeParts(
              ['q', 'k', 'v'].map((n) => `${p}attn.${n}.${kind}`),
              w.get(`${p}attn.c_attn.${kind}`)!,
              as,
              (data, shape) => columnBlocks(data, shape, 3),
            );
          const [qw, kw, vw] = qkv('weight', 'matrix'),
            [qb, kb, vb] = qkv('bias', 'vector');
          this.blocks.push({
            n1w: up(`${p}ln_1.weight`),
            n1b: up(`${p}ln_1.bias`),
            n2w: up(`${p}ln_2.weight`),
            n2b: up(`${p}ln_2.bias`),
            q: { w: qw, b: qb },
            k: { w: kw, b: kb },
            v: { w: vw, b: vb },
            o: lin(`${p}attn.c_proj`),
            up: lin(`${p}mlp.c_fc`),
            down: lin(`${p}mlp.c_proj`),
          });
        }
      } else {
        const r = s.modelType === 'roberta' ? 'roberta.' : 'bert.';
        const h = s.modelType === 'roberta' ? 'lm_head.' : 'cls.predictions.';
        const e = `${r}embeddings.`;
        const word = mat(`${e}word_embeddings.weight`);
        // token type 0 at every position (our samplers have one segment): its row, added like a bias
        const typeRow = up(`${e}token_type_row0`, host(`${e}token_type_embeddings.weight`).slice(0, d));
        const norm = { w: up(`${e}LayerNorm.weight`), b: up(`${e}LayerNorm.bias`) };
        this.emb = { tok: word, pos: mat(`${e}position_embeddings.weight`), typeRow, norm };
        for (let l = 0; l < layers; l++) {
          const p = `${r}encoder.layer.${l}.`;
          this.blocks.push({
            n1w: up(`${p}attention.output.LayerNorm.weight`),
            n1b: up(`${p}attention.output.LayerNorm.bias`),
            n2w: up(`${p}output.LayerNorm.weight`),
            n2b: up(`${p}output.LayerNorm.bias`),
            q: lin(`${p}attention.self.query`),
            k: lin(`${p}attention.self.key`),
            v: lin(`${p}attention.self.value`),
            o: lin(`${p}attention.output.dense`),
            up: lin(`${p}intermediate.dense`),
            down: lin(`${p}output.dense`),
          });
        }
        const rob = s.modelType === 'roberta';
        const tr = rob ? h : `${h}transform.`;
        const ln = `${tr}${rob ? 'layer_norm' : 'LayerNorm'}`;
        // the decoder: its own weight and bias where the checkpoint has them, else tied (HF ties both)
        this.head = {
          transform: lin(`${tr}dense`),
          norm: { w: up(`${ln}.weight`), b: up(`${ln}.bias`) },
          decoder: w.has(`${h}decoder.weight`) ? mat(`${h}decoder.weight`) : word,
          bias: opt(`${h}decoder.bias`) ?? up(`${h}bias`),
        };
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  checkFits(batch: number, length: number): void {
    this.checkBytes(hfWidestActivation(this.spec, batch, length), `a forward of batch ${batch} × length ${length}`);
  }

  /** (scoped: a call that throws frees what it allocated) */
  forward(input: ForwardInput): Tensor {
    checkLeftToRightOnly(this, input, `a ${this.spec.modelType} ${this.attention} model`);
    checkForwardInput(this, input, 'forward', this.disposed);
    return this.backend.scoped(() => this.forwardUnscoped(input));
  }

  private forwardUnscoped(input: ForwardInput): Tensor {
    const be = this.backend,
      s = this.spec;
    const { batch: B, length: T } = input;
    let ids = input.tokens;
    if (this.attention === 'causal') {
      // [bos, x_0 … x_{T−2}] per row: the logits at i then predict x_i from x_<i
      ids = new Uint32Array(B * T);
      for (let b = 0; b < B; b++) {
        ids[b * T] = this.bos;
        ids.set(input.tokens.subarray(b * T, (b + 1) * T - 1), b * T + 1);
      }
    }
    const pos = new Uint32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
    if (s.modelType === 'roberta') {
      // HF create_position_ids_from_input_ids: padding_idx + the count of non-pad tokens so far
      // (pads themselves sit at padding_idx)
      const pad = s.padId!;
      for (let b = 0; b < B; b++) {
        let c = 0;
        for (let t = 0; t < T; t++) {
          const notPad = ids[b * T + t] !== pad;
          if (notPad) c++;
          pos[b * T + t] = notPad ? pad + c : pad;
        }
      }
    }
    const mask = new Uint32Array(T * T);
    for (let i = 0; i < T; i++) mask.fill(1, i * T, this.attention === 'causal' ? i * T + i + 1 : (i + 1) * T);
    const tIds = be.tensor(ids, [B, T]),
      tPos = be.tensor(pos, [B, T]),
      tMask = be.tensor(mask, [1, T, T]);
    let h = this.embed(tIds, tPos);
    for (const blk of this.blocks) {
      const h2 =
        s.family === 'bert'
          ? this.postLnBlock(blk, h, tPos, tMask, B, T)
          : this.preNormBlock(blk, h, tPos, tMask, B, T);
      be.free(h);
      h = h2;
    }
    if (s.logitShift) {
      // Dream: the head at i reads hidden state i − 1 (position 0 its own): rows gathered like an embedding lookup
      const from = new Uint32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) from[b * T + t] = b * T + Math.max(t - 1, 0);
      const tFrom = be.tensor(from, [B, T]);
      const shifted = be.embedding(tFrom, be.reshape(h, [B * T, s.d]));
      for (const t of [h, tFrom]) be.free(t);
      h = shifted;
    }
    const logits = this.logits(h);
    for (const t of [h, tIds, tPos, tMask]) be.free(t);
    return logits;
  }

  /** h = E[ids] (+ P[positions] + the token-type-0 row, then LayerNorm: gpt2 / bert) */
  private embed(ids: Tensor, pos: Tensor): Tensor {
    const be = this.backend,
      e = this.emb;
    let h = be.embedding(ids, e.tok);
    for (const extra of [e.pos ? be.embedding(pos, e.pos) : null, e.typeRow]) {
      if (!extra) continue;
      const sum = be.add(h, extra);
      be.free(h);
      if (extra !== e.typeRow) be.free(extra);
      h = sum;
    }
    if (!e.norm) return h;
    const n = this.norm(h, e.norm.w, e.norm.b);
    be.free(h);
    return n;
  }

  /** the family's norm: RMSNorm (llama, no shift) or LayerNorm */
  private norm(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    const eps = this.spec.normEps;
    return b ? this.backend.layerNorm(x, w, b, { eps }) : this.backend.rmsNorm(x, w, { eps });
  }

  /** x·Wᵀ + b for nn.Linear weights (out, in); x·W + b for GPT-2's Conv1D (in, out) */
  private linear(x: Tensor, l: Lin): Tensor {
    return this.backend.matmul(x, l.w, { transB: this.spec.family !== 'gpt2', bias: l.b });
  }

  private act(x: Tensor): Tensor {
    const a = this.spec.activation;
    return a === 'gelu_erf'
      ? this.backend.elementwise('gelu_erf', x, null)
      : a === 'gelu_tanh'
        ? this.backend.gelu(x)
        : this.backend.silu(x);
  }

  /**
   * attention of x (B, T, d) through the block's q/k/v/o (RoPE for llama); frees its temporaries. With `cache`,
   * the keys and values are written to its slots at `offsets` and the queries attend to the cache (mask (B, T, S)).
   */
  private attend(blk: Block, x: Tensor, pos: Tensor, mask: Tensor, B: number, T: number, cache?: LayerCache): Tensor {
    const be = this.backend,
      s = this.spec;
    const heads = (l: Lin, n: number, rope: boolean) => {
      const y = this.linear(x, l);
      if (!rope) return y;
      const r = be.rope(be.reshape(y, [B, T, n, s.headDim]), pos, this.rope!);
      be.free(y);
      return r;
    };
    const rope = s.family === 'llama';
    const q = heads(blk.q, s.heads, rope),
      k = heads(blk.k, s.kvHeads, rope),
      v = heads(blk.v, s.kvHeads, false);
    let K = be.reshape(k, [B, T, s.kvHeads, s.headDim]),
      V = be.reshape(v, [B, T, s.kvHeads, s.headDim]);
    if (cache) {
      be.kvWrite(cache.k, K, cache.offsets);
      be.kvWrite(cache.v, V, cache.offsets);
      [K, V] = [cache.k, cache.v];
    }
    const att = be.attention(be.reshape(q, [B, T, s.heads, s.headDim]), K, V, mask);
    const o = this.linear(be.reshape(att, [B, T, s.heads * s.headDim]), blk.o);
    for (const t of [q, k, v, att]) be.free(t);
    return o;
  }

  private mlp(blk: Block, x: Tensor): Tensor {
    const be = this.backend;
    const u = this.linear(x, blk.up);
    const a = this.spec.family === 'llama' ? be.swiglu(u) : this.act(u);
    const y = this.linear(a, blk.down);
    be.free(u);
    be.free(a);
    return y;
  }

  /** pre-norm block (llama, gpt2): h + attn(norm1 h), then + mlp(norm2 ·) */
  private preNormBlock(
    blk: Block,
    h: Tensor,
    pos: Tensor,
    mask: Tensor,
    B: number,
    T: number,
    cache?: LayerCache,
  ): Tensor {
    const be = this.backend;
    const a = this.norm(h, blk.n1w, blk.n1b);
    const o = this.attend(blk, a, pos, mask, B, T, cache);
    const h2 = be.add(h, o);
    const b = this.norm(h2, blk.n2w, blk.n2b);
    const m = this.mlp(blk, b);
    const h3 = be.add(h2, m);
    for (const t of [a, o, h2, b, m]) be.free(t);
    return h3;
  }

  /** post-LN block (bert): LN(h + attn(h)), then LN(· + mlp(·)) */
  private postLnBlock(blk: Block, h: Tensor, pos: Tensor, mask: Tensor, B: number, T: number): Tensor {
    const be = this.backend;
    const o = this.attend(blk, h, pos, mask, B, T);
    const r1 = be.add(h, o);
    const h2 = this.norm(r1, blk.n1w, blk.n1b);
    const m = this.mlp(blk, h2);
    const r2 = be.add(h2, m);
    const h3 = this.norm(r2, blk.n2w, blk.n2b);
    for (const t of [o, r1, h2, m, r2]) be.free(t);
    return h3;
  }

  /** logits (B, T, V) = decoder · norm(transform(h)) + bias */
  private logits(h: Tensor): Tensor {
    const be = this.backend,
      { transform, norm, decoder, bias } = this.head;
    const t = transform ? this.linear(h, transform) : null;
    const g = t ? this.act(t) : null;
    const n = this.norm(g ?? h, norm.w, norm.b);
    const l = be.matmul(n, decoder, { transB: true, bias });
    for (const x of [t, g, n]) if (x) be.free(x);
    return l;
  }

  logMarginal(): Tensor {
    throw new OpInputError('logMarginal', `model ${this.name} has no marginal head`);
  }

  /**
   * Causal models: a KV cache of `capacity` decided tokens per row (plus BOS, fed here) over all the blocks.
   * Refused before any allocation when a cache tensor would not fit the backend.
   */
  createCache(batch: number, capacity: number, o: { layers?: number } = {}): DecodeCache {
    const op = 'createCache';
    this.live(op);
    if (this.attention !== 'causal')
      throw new OpInputError(op, `model ${this.name} is bidirectional: incremental decoding needs a causal model`);
    const s = this.spec;
    const layers = checkCacheShape(op, batch, capacity, o.layers, s.layers);
    // self-speculation (fewer layers) is the two-stream samplers' (ASSD); a causal model decodes with all of them
    if (layers !== s.layers)
      throw new OpInputError(op, `a causal ${s.modelType} model's cache runs all ${s.layers} layers, not ${layers}`);
    this.checkBytes(
      batch * (capacity + 1) * Math.max(s.kvHeads * s.headDim, s.d) * 4,
      `a KV cache of ${batch} × ${capacity + 1} slots`,
    );
    const c = new HfCache(this, batch, capacity, layers, s.kvHeads, s.headDim, s.d);
    try {
      this.backend.scoped(() => this.feed(c, new Uint32Array(batch).fill(this.bos), 1, new Uint32Array(batch)));
    } catch (e) {
      c.dispose();
      throw e;
    }
    return c;
  }

  /**
   * One incremental pass (causal models): appends `input.tokens` (ranks lengths[b] …, left to right) and
   * returns logits (batch, q, V). A query that sees n slots predicts rank n — a causal model has no other
   * query — from the final hidden state after x_{n−1} (BOS for n = 0); its `queries` position is that rank by
   * construction (left to right), so it is range-checked but not otherwise read. Equals the full forward's
   * logits (tested). (scoped: a call that throws frees what it allocated and leaves the lengths unchanged)
   */
  decode(cache: DecodeCache, input: DecodeInput): Tensor {
    return this.backend.scoped(() => this.decodeUnscoped(cache, input));
  }

  private decodeUnscoped(cache: DecodeCache, input: DecodeInput): Tensor {
    const op = 'decode';
    this.live(op);
    if (!(cache instanceof HfCache) || cache.owner !== this)
      throw new OpInputError(op, `the cache was not created by ${this.name}.createCache`);
    if (cache.disposed) throw new OpInputError(op, 'the cache was disposed');
    const c = cache,
      be = this.backend;
    const { m, q } = input;
    const B = c.batch,
      S = c.capacity + 1,
      P = this.maxLength;
    this.checkFits(B, Math.max(m, q, 1));
    const seen = checkDecodeInput(op, input, c.len, c.capacity, this.vocabSize, be.name, P);
    for (let i = 0; i < seen.length; i++)
      if (seen[i] >= P) throw new OpInputError(op, `query ${i} predicts rank ${seen[i]}, outside [0, ${P})`);
    if (m)
      this.feed(
        c,
        input.tokens,
        m,
        c.len.map((n) => n + 1),
      );
    // each query reads the final hidden state of slot `seen` (one-hot rows times the hidden cache)
    const sel = new Float32Array(B * q * S);
    for (let b = 0; b < B; b++) for (let j = 0; j < q; j++) sel[(b * q + j) * S + seen[b * q + j]] = 1;
    const tSel = be.tensor(sel, [B, q, S]);
    const h = be.matmul(tSel, be.reshape(c.hidden, [B, S, this.spec.d]));
    const logits = this.logits(h);
    for (const t of [tSel, h]) be.free(t);
    for (let b = 0; b < B; b++) c.len[b] += m;
    return logits;
  }

  /**
   * Runs `m` tokens per row through the cache's layers at slots slot0[b] … (sequence positions the same, capped
   * at the last position: beyond it only padding that no valid query sees), writing every layer's keys and
   * values and the final hidden states into the cache.
   */
  private feed(c: HfCache, tokens: Uint32Array | Tensor, m: number, slot0: Uint32Array): void {
    const be = this.backend;
    const B = c.batch,
      S = c.capacity + 1,
      P = this.maxLength;
    be.write(c.offsets, slot0);
    const pos = new Uint32Array(B * m),
      mask = new Uint32Array(B * m * S);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < m; i++) {
        pos[b * m + i] = Math.min(slot0[b] + i, P - 1);
        mask.fill(1, (b * m + i) * S, (b * m + i) * S + slot0[b] + i + 1);
      }
    const given = tokens instanceof Uint32Array ? null : tokens;
    const tIds = given ? be.reshape(given, [B, m]) : be.tensor(tokens as Uint32Array, [B, m]);
    const tPos = be.tensor(pos, [B, m]),
      tMask = be.tensor(mask, [B, m, S]);
    let h = this.embed(tIds, tPos);
    for (let l = 0; l < c.layers; l++) {
      const h2 = this.preNormBlock(this.blocks[l], h, tPos, tMask, B, m, {
        k: c.k[l],
        v: c.v[l],
        offsets: c.offsets,
      });
      be.free(h);
      h = h2;
    }
    be.kvWrite(c.hidden, be.reshape(h, [B, m, 1, this.spec.d]), c.offsets);
    for (const t of [h, tPos, tMask]) be.free(t);
    if (!given) be.free(tIds);
  }

  override dispose(): void {
    if (!this.disposed) {
      if (this.rope) this.backend.free(this.rope);
    }
    super.dispose();
  }
}
