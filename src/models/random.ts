/**
 * Random-weight transformers built in memory (no files): the toy models whose distributions the
 * sampler tests enumerate exactly, and a quick way to exercise a backend. Deterministic per seed.
 */
import type { Backend } from '../backend/backend.js';
import { uniforms } from '../rng.js';
import type { LoadedTensor } from './load.js';
import type { DitManifest, MarginalForm, ModelManifest } from './manifest.js';
import { DitDenoiser } from './denoiser.js';
import { TransformerModel } from './transformer.js';

export interface RandomModelSpec {
  name?: string;
  /** real tokens; a [MASK] token is appended (id = vocab) */
  vocab: number;
  length: number;
  dModel?: number;
  layers?: number;
  heads?: number;
  classes?: number;
  twoStream?: boolean;
  marginalHead?: boolean;
  /** the marginal head's form (default 'mean-linear') */
  marginalForm?: MarginalForm;
  /** weight scale (larger = sharper, more structured conditionals) */
  scale?: number;
  seed?: number;
}

/**
 * Random weights: each tensor uniform on offset ± s from its own Philox stream (first, first + 1, …)
 * under `seed`; `lin` adds a linear layer's weight (± scale/√in) and bias (± 0.1·scale).
 */
function randomWeights(seed: number, first: number, scale: number) {
  let stream = first;
  const w = new Map<string, LoadedTensor>();
  const rand = (shape: number[], s: number, offset = 0): LoadedTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const u = uniforms(Math.ceil(n / 2), [seed, 0], [stream++, 0, 0]);
    return { shape, data: Float32Array.from({ length: n }, (_, i) => offset + (u[i] * 2 - 1) * s) };
  };
  const lin = (name: string, out: number, inp: number) => {
    w.set(`${name}.weight`, rand([out, inp], scale / Math.sqrt(inp)));
    w.set(`${name}.bias`, rand([out], 0.1 * scale));
  };
  return { w, rand, lin };
}

/** The manifest of a random transformer (files: one placeholder weights entry); d_ff defaults to 2·d. */
export function randomManifest(spec: RandomModelSpec & { dFF?: number }): ModelManifest {
  const d = spec.dModel ?? 8,
    layers = spec.layers ?? 1,
    heads = spec.heads ?? 2,
    nc = spec.classes ?? 0;
  const V = spec.vocab + 1,
    ff = spec.dFF ?? 2 * d;
  return {
    format: 'samplescope-model/1',
    name: spec.name ?? 'random',
    family: spec.twoStream ? 'asarm' : 'mdm',
    architecture: {
      type: 'transformer',
      attention: spec.twoStream ? 'two-stream' : 'bidirectional',
      norm: 'layernorm',
      activation: 'gelu_tanh',
      norm_eps: 1e-5,
      positional: 'rope-half-split',
      vocab_size: V,
      d_model: d,
      n_layers: layers,
      n_heads: heads,
      d_ff: ff,
      max_len: spec.length,
      n_classes: nc,
      rope_base: 10000,
      two_stream: !!spec.twoStream,
      marginal_head: !!spec.marginalHead,
      ...(spec.marginalHead && spec.marginalForm ? { marginal_form: spec.marginalForm } : {}),
    },
    tokenizer: {
      type: 'char',
      vocab: [...Array.from({ length: spec.vocab }, (_, i) => String.fromCharCode(97 + i)), '[MASK]'],
      mask_id: spec.vocab,
    },
    classes: [...Array.from({ length: nc }, (_, i) => `c${i}`), 'none'],
    null_class: nc,
    files: [{ path: 'model.safetensors', role: 'weights', bytes: 0, sha256: '0'.repeat(64) }],
  };
}

export function randomModel(spec: RandomModelSpec, backend: Backend): TransformerModel {
  const manifest = randomManifest(spec);
  const { d_model: d, n_layers: layers, n_classes: nc, vocab_size: V, d_ff: ff } = manifest.architecture;
  const scale = spec.scale ?? 1;
  const { w, rand, lin } = randomWeights(spec.seed ?? 1, 0, scale);
  const ln = (name: string) => {
    w.set(`${name}.weight`, rand([d], 0.3, 1));
    w.set(`${name}.bias`, rand([d], 0.1));
  };
  w.set('tok_emb.weight', rand([V, d], scale));
  w.set('cls_emb.weight', rand([nc + 1, d], scale));
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}.`;
    ln(p + 'ln1');
    lin(p + 'wq', d, d);
    lin(p + 'wk', d, d);
    lin(p + 'wv', d, d);
    lin(p + 'wo', d, d);
    ln(p + 'ln2');
    lin(p + 'w1', ff, d);
    lin(p + 'w2', d, ff);
  }
  ln('ln_f');
  lin('head', V, d);
  if (spec.twoStream) w.set('q_emb', rand([d], scale));
  if (spec.marginalHead) lin('mam', 1, d);
  return new TransformerModel(manifest, w, backend);
}

/**
 * A DiT denoiser with random weights (tests and benchmarks of the image path without a trained
 * model): the architecture of training/image_models.py at a chosen size.
 */
export function randomDenoiser(
  spec: {
    imageSize?: number;
    patch?: number;
    d?: number;
    layers?: number;
    heads?: number;
    classes?: number;
    timesteps?: number;
    seed?: number;
  },
  backend: Backend,
): DitDenoiser {
  const S = spec.imageSize ?? 8,
    p = spec.patch ?? 4,
    d = spec.d ?? 16,
    layers = spec.layers ?? 1,
    heads = spec.heads ?? 2,
    nc = spec.classes ?? 3;
  const T = spec.timesteps ?? 100,
    tDim = 8,
    ff = 2 * d,
    P = p * p,
    N = (S / p) ** 2;
  const manifest: DitManifest = {
    format: 'samplescope-model/1',
    name: 'random-dit',
    family: 'image-diffusion',
    architecture: {
      type: 'dit',
      image_size: S,
      channels: 1,
      patch: p,
      d_model: d,
      layers,
      heads,
      d_ff: ff,
      n_classes: nc,
      t_dim: tDim,
      norm_eps: 1e-5,
    },
    diffusion: {
      prediction: 'epsilon',
      timesteps: T,
      beta_schedule: 'linear',
      beta_start: 1e-4,
      beta_end: 0.02,
      image_range: [-1, 1],
      null_class: nc,
    },
    classes: [...Array.from({ length: nc }, (_, i) => `c${i}`), 'none'],
    null_class: nc,
    files: [{ path: 'model.safetensors', role: 'weights', bytes: 0, sha256: '0'.repeat(64) }],
  };
  const { w, rand, lin } = randomWeights(spec.seed ?? 1, 100, 1);
  lin('patch_in', d, P);
  w.set('pos', rand([N, d], 0.1));
  lin('t1', d, tDim);
  lin('t2', d, d);
  w.set('cls.weight', rand([nc + 1, d], 1));
  for (let l = 0; l < layers; l++) {
    const q = `blocks.${l}.`;
    lin(q + 'ada', 6 * d, d);
    lin(q + 'qkv', 3 * d, d);
    lin(q + 'proj', d, d);
    lin(q + 'fc1', ff, d);
    lin(q + 'fc2', d, ff);
  }
  lin('final_ada', 2 * d, d);
  lin('out', P, d);
  return new DitDenoiser(manifest, w, backend);
}
