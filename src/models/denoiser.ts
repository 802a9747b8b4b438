/**
 * The DiT ε-prediction denoiser over the backend's ops — training/image_models.py DiT, op for op
 * (Peebles & Xie, arXiv 2212.09748, adaLN-Zero):
 *   c = W_t2·SiLU(W_t1·sinusoid(t)) + cls_emb[class];  s = SiLU(c)
 *   h = W_in·patchify(x) + pos
 *   per block: (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) = W_ada·s
 *     h += gate₁ ⊙ W_o·attn(modulate(LN h, shift₁, scale₁))
 *     h += gate₂ ⊙ W_2·gelu(W_1·modulate(LN h, shift₂, scale₂))
 *   ε̂ = unpatchify(W_out·modulate(LN h, shift, scale)),  (shift, scale) = W_fin·s
 * LayerNorms have no affine parameters. The fused qkv and adaLN projections are split row-wise
 * into one weight per output at load time, so every modulation vector is its own (B, d) tensor.
 * The sinusoidal timestep embedding is computed on the host in f64.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { OpInputError } from '../errors.js';
import type { LoadedTensor } from './load.js';
import type { DitArchitecture, DitManifest } from './manifest.js';
import type { DenoiserInput, DenoiserModel } from './model.js';
import { WeightedModel, type WeightOptions } from './weights.js';

/** ᾱ_t = Π_{s ≤ t} (1 − β_s) for a linear β schedule, in f64. */
export function linearAlphasCumprod(T: number, beta0: number, beta1: number): Float64Array {
  const out = new Float64Array(T);
  let a = 1;
  for (let t = 0; t < T; t++) {
    const beta = T === 1 ? beta0 : beta0 + ((beta1 - beta0) * t) / (T - 1);
    a *= 1 - beta;
    out[t] = a;
  }
  return out;
}

/** Sinusoidal embedding (B, dim) of integer timesteps: [cos(t f_i), sin(t f_i)], f_i = 10000^(−i/half). */
export function timestepEmbedding(t: Uint32Array, dim: number, maxPeriod = 10000): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const arg = t[b] * Math.exp((-Math.log(maxPeriod) * i) / half);
      out[b * dim + i] = Math.cos(arg);
      out[b * dim + half + i] = Math.sin(arg);
    }
  }
  return out;
}

interface Block {
  ada: Tensor[];
  adaB: Tensor[]; // 6 × (d, d), (d): shift1, scale1, gate1, shift2, scale2, gate2
  wq: Tensor;
  bq: Tensor;
  wk: Tensor;
  bk: Tensor;
  wv: Tensor;
  bv: Tensor;
  proj: Tensor;
  projB: Tensor;
  fc1: Tensor;
  fc1B: Tensor;
  fc2: Tensor;
  fc2B: Tensor;
}

export class DitDenoiser extends WeightedModel<DitManifest> implements DenoiserModel {
  readonly kind = 'denoiser' as const;
  readonly imageSize: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly nullClass: number;
  readonly timesteps: number;
  readonly alphasCumprod: Float64Array;
  private readonly arch: DitArchitecture;
  private readonly blocks: Block[] = [];
  private readonly finAda: Tensor[] = [];
  private readonly finAdaB: Tensor[] = [];
  /** (1, N, N) all-ones attention mask: every patch sees every patch */
  private readonly mask: Tensor;

  constructor(manifest: DitManifest, weights: Map<string, LoadedTensor>, backend: Backend, o: WeightOptions = {}) {
    super(manifest, weights, backend, o);
    const a = manifest.architecture;
    this.arch = a;
    this.imageSize = a.image_size;
    this.channels = a.channels;
    this.numClasses = a.n_classes;
    this.nullClass = manifest.null_class;
    const dif = manifest.diffusion;
    this.timesteps = dif.timesteps;
    this.alphasCumprod = linearAlphasCumprod(dif.timesteps, dif.beta_start, dif.beta_end);
    const w = this.w;
    const d = a.d_model,
      P = a.patch * a.patch * a.channels,
      N = (a.image_size / a.patch) ** 2;
    // one image's activations: per patch token the residual, norms, q/k/v/attention (≈ 6·d), the FFN
    // hidden and the patch vectors; the six adaLN vectors; the (N, N) mask
    this.admit(4 * (N * (6 * d + a.d_ff + P) + 6 * d + N * N));
    /** rows [k·d, (k+1)·d) of an (n·d, d) weight and its bias, uploaded as separate tensors */
    const split = (name: string, parts: number): { ws: Tensor[]; bs: Tensor[] } => {
      const W = w.stored(`${name}.weight`, [parts * d, d]);
      const B = w.host(`${name}.bias`, [parts * d]);
      const ws: Tensor[] = [],
        bs: Tensor[] = [];
      for (let k = 0; k < parts; k++) {
        ws.push(w.uploadMatrix(`${name}.weight[${k}]`, W.slice(k * d * d, (k + 1) * d * d), [d, d]));
        bs.push(w.upload(`${name}.bias[${k}]`, B.slice(k * d, (k + 1) * d), [d]));
      }
      return { ws, bs };
    };
    w.matrix('patch_in.weight', [d, P]);
    w.need('patch_in.bias', [d]);
    w.need('pos', [N, d]);
    w.matrix('t1.weight', [d, a.t_dim]);
    w.need('t1.bias', [d]);
    w.matrix('t2.weight', [d, d]);
    w.need('t2.bias', [d]);
    w.matrix('cls.weight', [a.n_classes + 1, d]);
    for (let l = 0; l < a.layers; l++) {
      const p = `blocks.${l}.`;
      const ada = split(p + 'ada', 6),
        qkv = split(p + 'qkv', 3);
      this.blocks.push({
        ada: ada.ws,
        adaB: ada.bs,
        wq: qkv.ws[0],
        bq: qkv.bs[0],
        wk: qkv.ws[1],
        bk: qkv.bs[1],
        wv: qkv.ws[2],
        bv: qkv.bs[2],
        proj: w.matrix(p + 'proj.weight', [d, d]),
        projB: w.need(p + 'proj.bias', [d]),
        fc1: w.matrix(p + 'fc1.weight', [a.d_ff, d]),
        fc1B: w.need(p + 'fc1.bias', [a.d_ff]),
        fc2: w.matrix(p + 'fc2.weight', [d, a.d_ff]),
        fc2B: w.need(p + 'fc2.bias', [d]),
      });
    }
    const fin = split('final_ada', 2);
    this.finAda.push(...fin.ws);
    this.finAdaB.push(...fin.bs);
    w.matrix('out.weight', [P, d]);
    w.need('out.bias', [P]);
    w.upload('ln.ones', new Float32Array(d).fill(1), [d]);
    w.upload('ln.zeros', new Float32Array(d), [d]);
    this.mask = backend.tensor(new Uint32Array(N * N).fill(1), [1, N, N]);
  }

  checkFits(batch: number): void {
    // the widest tensors of a forward: per patch token the FFN hidden, the six adaLN vectors or
    // q/k/v; per image its pixels
    const a = this.arch,
      N = (a.image_size / a.patch) ** 2;
    const bytes =
      batch * Math.max(N * Math.max(a.d_ff, 6 * a.d_model, 3 * a.d_model), a.image_size ** 2 * a.channels) * 4;
    this.checkBytes(bytes, `a forward of ${batch} images`);
  }

  private check(input: DenoiserInput): { B: number; classes: Uint32Array } {
    this.live('denoiser');
    const S = this.imageSize,
      C = this.channels;
    const x = input.x;
    if (x.shape.length !== 4 || x.shape[1] !== S || x.shape[2] !== S || x.shape[3] !== C) {
      throw new OpInputError('denoiser', `x must be (batch, ${S}, ${S}, ${C}), got [${x.shape.join(', ')}]`);
    }
    if (x.dtype !== 'f32') throw new OpInputError('denoiser', `x must be f32, got ${x.dtype}`);
    const B = x.shape[0];
    this.checkFits(B);
    if (input.t.length !== B) throw new OpInputError('denoiser', `t has ${input.t.length} entries, expected ${B}`);
    for (const t of input.t)
      if (!(t < this.timesteps)) throw new OpInputError('denoiser', `timestep ${t} is outside [0, ${this.timesteps})`);
    const classes = input.classes ?? new Uint32Array(B).fill(this.nullClass);
    if (classes.length !== B)
      throw new OpInputError('denoiser', `classes has ${classes.length} entries, expected ${B}`);
    for (const c of classes)
      if (c > this.nullClass)
        throw new OpInputError(
          'denoiser',
          `class ${c} is outside [0, ${this.nullClass}] (${this.manifest.classes.join(', ')})`,
        );
    return { B, classes };
  }

  /** (scoped: a call that throws frees what it allocated) */
  forward(input: DenoiserInput): Tensor {
    return this.backend.scoped(() => this.forwardUnscoped(input));
  }

  private forwardUnscoped(input: DenoiserInput): Tensor {
    const be = this.backend,
      a = this.arch,
      w = this.w;
    const { B, classes } = this.check(input);
    const d = a.d_model,
      H = a.heads,
      D = d / H,
      p = a.patch,
      S = a.image_size,
      C = a.channels;
    const N = (S / p) ** 2,
      eps = a.norm_eps;
    const lin = (x: Tensor, wt: Tensor, b: Tensor, act?: 'gelu') =>
      be.matmul(x, wt, { transB: true, bias: b, activation: act });
    const ln = (x: Tensor) => be.layerNorm(x, w.get('ln.ones'), w.get('ln.zeros'), { eps });
    // every activation goes back to the pool right after its last use (liveness): the ops are encoded in
    // order on one queue, so a later op that gets the same buffer writes it only after these reads
    const done = <T>(r: T, ...dead: Tensor[]): T => {
      for (const t of dead) be.free(t);
      return r;
    };

    // conditioning
    const temb = be.tensor(timestepEmbedding(input.t, a.t_dim), [B, a.t_dim]);
    const t1a = done(lin(temb, w.get('t1.weight'), w.get('t1.bias')), temb);
    const t1 = done(be.silu(t1a), t1a);
    const t2 = done(lin(t1, w.get('t2.weight'), w.get('t2.bias')), t1);
    const cid = be.tensor(classes, [B]);
    const ce = done(be.embedding(cid, w.get('cls.weight')), cid);
    const st = done(be.add(t2, ce), t2, ce);
    const s = done(be.silu(st), st);

    // tokens
    const patches = be.patchify(input.x, p);
    const pin = done(lin(patches, w.get('patch_in.weight'), w.get('patch_in.bias')), patches);
    let h = done(be.add(pin, w.get('pos')), pin);
    for (const blk of this.blocks) {
      const m = blk.ada.map((wt, k) => lin(s, wt, blk.adaB[k]));
      const n1 = ln(h);
      const y = done(be.modulate(n1, m[0], m[1]), n1, m[0], m[1]);
      const q = lin(y, blk.wq, blk.bq),
        k = lin(y, blk.wk, blk.bk),
        v = done(lin(y, blk.wv, blk.bv), y);
      const o = done(
        be.attention(be.reshape(q, [B, N, H, D]), be.reshape(k, [B, N, H, D]), be.reshape(v, [B, N, H, D]), this.mask),
        q,
        k,
        v,
      );
      const att = done(lin(be.reshape(o, [B, N, d]), blk.proj, blk.projB), o);
      const h2 = done(be.gatedAdd(h, att, m[2]), h, att, m[2]);
      const n2 = ln(h2);
      const y2 = done(be.modulate(n2, m[3], m[4]), n2, m[3], m[4]);
      const f1 = done(lin(y2, blk.fc1, blk.fc1B, 'gelu'), y2);
      const f = done(lin(f1, blk.fc2, blk.fc2B), f1);
      h = done(be.gatedAdd(h2, f, m[5]), h2, f, m[5]);
    }
    const fs = lin(s, this.finAda[0], this.finAdaB[0]),
      fc = done(lin(s, this.finAda[1], this.finAdaB[1]), s);
    const nf = done(ln(h), h);
    const y = done(be.modulate(nf, fs, fc), nf, fs, fc);
    const out = done(lin(y, w.get('out.weight'), w.get('out.bias')), y);
    const eps_ = done(be.unpatchify(out, { p, H: S, W: S, C }), out);
    return eps_;
  }

  override dispose(): void {
    if (!this.disposed) this.backend.free(this.mask);
    super.dispose();
  }
}
