/**
 * The roles an ONNX graph's inputs and outputs can play, per model kind, and what each role must be:
 * which dtypes we can feed or read, its rank, and what each axis means. One table: the manifest's
 * validation (src/models/manifest.ts: which role names exist, which are required) and the loader's check
 * of the graph's declared inputs/outputs (src/models/onnx.ts planOnnx: dtypes, ranks, static dims) both
 * read it, and the README's io table is written from it.
 */

/** What an axis of a role's tensor is; a static dim in the graph must equal the manifest's value for it. */
export type OnnxAxis = 'batch' | 'length' | 'vocab' | 'height' | 'width' | 'channels';

export interface OnnxRole {
  /** ONNX element types accepted (inputs: what the adapter feeds; outputs: what it reads) */
  dtypes: readonly string[];
  /** one entry per axis */
  axes: readonly OnnxAxis[];
  /** the manifest must map it (optional roles are fed when mapped) */
  required?: true;
}

const ID = ['int32', 'int64'] as const;
const F32 = ['float32'] as const;

const TEXT_INPUTS = {
  /** (B, L) token ids; causal graphs get [bos, x_0 … x_{L−2}] (the row shifted right) */
  tokens: { dtypes: ID, axes: ['batch', 'length'], required: true },
  /** (B) class ids, null_class = no class */
  class: { dtypes: ID, axes: ['batch'] },
  /** (B, L) all ones (the adapter never pads) */
  attention_mask: { dtypes: [...ID, 'bool', 'float32'], axes: ['batch', 'length'] },
  /** (B, L) 0 … L−1 per row */
  position_ids: { dtypes: ID, axes: ['batch', 'length'] },
} as const satisfies Record<string, OnnxRole>;

const TEXT_OUTPUTS = {
  /** (B, L, V) unnormalised log-probabilities */
  logits: { dtypes: F32, axes: ['batch', 'length', 'vocab'], required: true },
} as const satisfies Record<string, OnnxRole>;

/**
 * kind → { inputs, outputs }: role → what it must be.
 * - 'masked-diffusion': logits of every position given tokens with [MASK] (FHS, ancestral, MaM-free samplers);
 * - 'causal': logits at position i predict token i + 1 (a causal LM); the adapter feeds bos first, so
 *   its logits at i are p(x_i | x_<i) — sequential sampling and left-to-right NLL, left to right only;
 * - 'denoiser': ε̂ (B, H, W, C) of noisy images x_t (B, H, W, C) at timestep t (B) — DDPM / DDIM / guidance.
 */
export const ONNX_ROLES = {
  'masked-diffusion': { inputs: TEXT_INPUTS, outputs: TEXT_OUTPUTS },
  causal: { inputs: TEXT_INPUTS, outputs: TEXT_OUTPUTS },
  denoiser: {
    inputs: {
      /** (B, H, W, C) x_t, NHWC, in the manifest's diffusion.image_range */
      x: { dtypes: F32, axes: ['batch', 'height', 'width', 'channels'], required: true },
      /** (B) per row: the integer step t ∈ [0, T) or t / T ∈ [0, 1) (architecture.timestep says which) */
      timestep: { dtypes: [...ID, 'float32'], axes: ['batch'], required: true },
      /** (B) class ids, null_class = no class (the unconditional model for guidance) */
      class: { dtypes: ID, axes: ['batch'] },
    },
    outputs: {
      /** (B, H, W, C) the predicted noise ε̂ */
      eps: { dtypes: F32, axes: ['batch', 'height', 'width', 'channels'], required: true },
    },
  },
} as const satisfies Record<string, { inputs: Record<string, OnnxRole>; outputs: Record<string, OnnxRole> }>;

export type OnnxKind = keyof typeof ONNX_ROLES;
export const ONNX_KINDS = Object.keys(ONNX_ROLES) as OnnxKind[];
export type OnnxTextKind = Exclude<OnnxKind, 'denoiser'>;
export type OnnxTextInput = keyof typeof TEXT_INPUTS;
export type OnnxDenoiserInput = keyof (typeof ONNX_ROLES)['denoiser']['inputs'];

/** How a denoiser graph reads its timestep input: the integer step t, or t / T in [0, 1). */
export const ONNX_TIMESTEPS = ['index', 'unit'] as const;
export type OnnxTimestep = (typeof ONNX_TIMESTEPS)[number];

/** role → its spec, for a kind's inputs or outputs (typed loosely for the generic checks). */
export function rolesOf(kind: OnnxKind, side: 'inputs' | 'outputs'): Record<string, OnnxRole> {
  return ONNX_ROLES[kind][side] as Record<string, OnnxRole>;
}

/** Which onnxruntime execution provider runs the graph (src/models/onnx.ts says what each does). */
export const ONNX_EPS = ['webgpu', 'wasm', 'auto'] as const;
export type OnnxEp = (typeof ONNX_EPS)[number];
