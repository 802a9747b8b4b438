/**
 * The backend abstraction: the same op calls run on `webgpu` (WGSL kernels) or `cpu` (the reference
 * twins), and the caller is told which one it got. Ops on webgpu only encode; `read`/`flush` submit.
 */
import type { AdapterSummary } from '../gpu/device.js';
import type { PoolStats } from '../gpu/buffer-pool.js';
import type { AttentionOptions } from '../ops/attention.js';
import type { SampleOptions } from '../ops/categorical.js';
import type { Conv2dOptions } from '../ops/conv2d.js';
import type { ElementwiseOp, ElementwiseOptions } from '../ops/elementwise.js';
import type { RngOptions } from '../ops/rng.js';
import type { UnpatchifyOptions } from '../ops/patchify.js';
import type { Pool2dOptions } from '../ops/pool2d.js';
import type { BackendName, DType, HostArray, Tensor } from './tensor.js';
import type { DiffusionStepOptions } from '../ops/diffusion_step.js';
import type { NormOptions } from '../ops/layer_norm.js';
import type { MatmulOptions } from '../ops/matmul.js';
import type { SoftmaxOptions } from '../ops/softmax.js';
import type { SpecVerifyOptions } from '../ops/spec_verify.js';

export interface BackendInfo {
  name: BackendName;
  /** the adapter, for webgpu */
  adapter?: AdapterSummary;
  /** why a webgpu request ended on cpu */
  fallbackReason?: string;
  /**
   * webgpu: how f16 weights are read — 'native' (`shader-f16`: f16 loads widened to f32) or 'packed'
   * (u32 words + unpack2x16float, any device); both accumulate in f32
   */
  f16?: 'native' | 'packed';
}

export interface OutOption {
  /** write into this preallocated tensor (no allocation) */
  out?: Tensor;
}

/** The largest tensor a backend holds, and the limit that sets it (for plans and LimitExceededError). */
export interface TensorBound {
  bytes: number;
  limit: string;
}

export interface Backend {
  readonly name: BackendName;
  readonly info: BackendInfo;
  /**
   * The largest tensor this backend can hold: on webgpu the smaller of maxStorageBufferBindingSize
   * and maxBufferSize (under a limits cap, the capped one); on cpu its per-tensor budget. Callers
   * that know a request's sizes check against it before allocating anything.
   */
  readonly maxTensor: TensorBound;

  /**
   * Upload host data as a tensor of the given shape (dtype from the array type; a Uint16Array is f16
   * bits). `o.weight`: the tensor is a weight matrix, which on webgpu may be uploaded as row blocks
   * when it is larger than one storage binding (only matmul's transposed B and embedding's table
   * read those); otherwise a tensor past the binding is a LimitExceededError.
   */
  tensor(data: HostArray, shape: readonly number[], o?: { weight?: boolean }): Tensor;
  /**
   * Stack tensors of one dtype, equal past dimension 0, along dimension 0 (e.g. LLaMA's gate and up
   * projections as one (2F, d) matrix). The result takes ownership of the parts: they count as freed
   * and must not be used again (views are refused). On webgpu no byte moves: the result is a row-block
   * tensor over the parts' buffers (like a weight split past the binding, so only matmul's transposed B
   * and embedding's table read it); on cpu a concatenation.
   */
  stack(parts: readonly Tensor[]): Tensor;
  /** An uninitialised tensor (zeros on cpu; pooled memory on webgpu). */
  empty(shape: readonly number[], dtype?: DType): Tensor;
  /** Overwrite a tensor's contents from the host. */
  write(t: Tensor, data: HostArray): void;
  /** Read a tensor back. Throws (never returns zeros) if the device failed. */
  read(t: Tensor): Promise<HostArray>;
  /**
   * The same storage under another shape (same element count). Views never own storage: free the
   * original, not the view.
   */
  reshape(t: Tensor, shape: readonly number[]): Tensor;
  free(t: Tensor): void;
  /**
   * Run `f` (synchronous encoding, e.g. one model forward). If it throws (LimitExceededError,
   * OpInputError, device loss, …), every tensor it allocated and did not free is freed, so a failed
   * call leaves no buffer behind; on success its tensors are the caller's as usual.
   */
  scoped<T>(f: () => T): T;
  /** Wait for all encoded work; surfaces pending GPU errors. */
  flush(): Promise<void>;

  matmul(a: Tensor, b: Tensor, o?: MatmulOptions): Tensor;
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, o?: NormOptions): Tensor;
  rmsNorm(x: Tensor, gamma: Tensor, o?: NormOptions): Tensor;
  softmax(x: Tensor, o?: SoftmaxOptions & OutOption): Tensor;
  embedding(ids: Tensor, table: Tensor, o?: OutOption): Tensor;
  /** table: ropeTable(P, D, base) uploaded as (P, D/2, 2) */
  rope(x: Tensor, positions: Tensor, table: Tensor, o?: OutOption): Tensor;
  /** mask (B|1, Tq, Tk) u32, 1 = attend; scale defaults to 1/√D */
  attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, o?: AttentionOptions): Tensor;
  elementwise(op: ElementwiseOp, a: Tensor, b: Tensor | null, o?: ElementwiseOptions): Tensor;
  add(a: Tensor, b: Tensor, o?: OutOption): Tensor;
  mul(a: Tensor, b: Tensor, o?: OutOption): Tensor;
  scale(a: Tensor, s: number, o?: OutOption): Tensor;
  gelu(a: Tensor, o?: OutOption): Tensor;
  relu(a: Tensor, o?: OutOption): Tensor;
  silu(a: Tensor, o?: OutOption): Tensor;
  softplus(a: Tensor, o?: OutOption): Tensor;
  /** x (…, 2F) = [gate | up] → silu(gate) · up (…, F): a LLaMA MLP's activation */
  swiglu(x: Tensor, o?: OutOption): Tensor;
  rng(o: RngOptions): Tensor;
  /** x (B, H, W, Cin), w (KH, KW, Cin, Cout) → (B, Ho, Wo, Cout), channels-last */
  conv2d(x: Tensor, w: Tensor, o?: Conv2dOptions & OutOption): Tensor;
  /** x (B, H, W, C) → (B, Ho, Wo, C) */
  pool2d(x: Tensor, o: Pool2dOptions & OutOption): Tensor;
  /** (B, H, W, C) → (B, (H/p)(W/p), p·p·C), patch vector order (py, px, c) */
  patchify(x: Tensor, p: number, o?: OutOption): Tensor;
  /** the inverse of patchify */
  unpatchify(t: Tensor, o: UnpatchifyOptions & OutOption): Tensor;
  /** x (B, T, C) · (1 + scale (B, C)) + shift (B, C) */
  modulate(x: Tensor, shift: Tensor, scale: Tensor, o?: OutOption): Tensor;
  /** res (B, T, C) + gate (B, C) · y (B, T, C) */
  gatedAdd(res: Tensor, y: Tensor, gate: Tensor, o?: OutOption): Tensor;
  /**
   * KV-cache append, in place: cache[b, offsets[b] + m, …] = src[b, m, …] for cache (B, S, …), src (B, M, …),
   * offsets (B) u32. The caller checks offsets[b] + M ≤ S (the GPU skips slots past S; the twin throws).
   */
  kvWrite(cache: Tensor, src: Tensor, offsets: Tensor): void;
  /**
   * Speculative decoding's accept/reject for all rows (src/ops/spec_verify.ts): logits (B, 2K + 1, V),
   * drafts (B, K) u32, counts (B, 2) u32 → the decided tokens (B, K + 1) u32 (SPEC_NONE after the last;
   * reading an invalid row throws InvalidLogitsError).
   */
  specVerify(logits: Tensor, drafts: Tensor, counts: Tensor, o: SpecVerifyOptions): Tensor;
  /** one draw per row of (rows, V) logits → (rows) u32 */
  categorical(logits: Tensor, o: SampleOptions): Tensor;
  /** one reverse-diffusion update: writes o.out (x'), o.x0Out (x̂0) and, if given, o.dupOut */
  diffusionStep(x: Tensor, eps: Tensor, o: DiffusionStepOptions): void;

  /** buffer accounting (webgpu) — for leak and no-allocation tests */
  stats(): { buffersCreated: number; pool?: PoolStats };
  destroy(): void;
}
