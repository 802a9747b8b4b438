/**
 * A Hugging Face checkpoint streamed onto a backend (src/models/stream.ts's StreamPlan) and admitted
 * before its first upload:
 *   - kept on the host: the small tensors a family reshapes at build — LLaMA's MLP biases (gate and up
 *     concatenated), BERT/RoBERTa's token-type table (row 0 is used) — and integer buffers
 *     (position_ids …), which are not uploaded at all; all of them together are far smaller than the
 *     token embedding, so the host still holds about one tensor at a time. GPT-2's fused c_attn weight
 *     and bias ([d, 3d], one per layer: together larger than the embedding from GPT-2 medium on) are
 *     split into their q/k/v column blocks as each arrives and uploaded at once (StreamPlan.split).
 *     Everything else goes to the backend as it arrives; LLaMA's gate and up matrices are stacked
 *     there (Backend.stack), not fused on the host.
 *   - checked: first the config alone (`begin`: the tensors config.json implies, matrices at their
 *     smallest possible size — f16 unless `weights: 'f32'` — so only a model that cannot fit in any form
 *     is refused, before a byte of a shard is read, also over fetch); then every header against
 *     config.json (names.ts: names, shapes, dtypes, and the missing ones once all headers are known)
 *     and against the adapter (admitWeights: a row past one storage binding,
 *     weights + activations over `memoryBudget`) — a LimitExceededError or ModelFormatError before any
 *     byte is uploaded where all headers can be read first (see stream.ts for fetched shards).
 */
import type { Backend } from '../../backend/backend.js';
import type { DType, HostArray } from '../../backend/tensor.js';
import type { HfManifest } from '../manifest.js';
import { storedDtype, type StreamPlan } from '../stream.js';
import { admitWeights, type WeightOptions } from '../weights.js';
import { parseHfConfig, type HfSpec } from './config.js';
import { checkHfHeaders, hfTensorShapes } from './names.js';

/** Tensors each family reshapes on the host at build (small: vectors, BERT's few token-type rows). */
const HOST_KEPT: Record<HfSpec['family'], RegExp | null> = {
  llama: /\.mlp\.(gate|up)_proj\.bias$/,
  gpt2: null,
  bert: /(^|\.)embeddings\.token_type_embeddings\.weight$/,
};

/** GPT-2's fused q/k/v Conv1D weight [d, 3d] and bias [3d]: split into column blocks as they stream. */
const GPT2_C_ATTN = /(^|\.)attn\.c_attn\.(weight|bias)$/;

/**
 * The `n` column blocks of a row-major (rows, n·w) array, each (rows, w) — or of a vector (n·w), each
 * (w): GPT-2's c_attn as q, k, v (f16 bits or f32 values alike).
 */
export function columnBlocks(
  data: HostArray,
  shape: readonly number[],
  n: number,
): { data: HostArray; shape: number[] }[] {
  const rows = shape.length === 1 ? 1 : shape[0];
  const w = shape[shape.length - 1] / n;
  return Array.from({ length: n }, (_, j) => {
    const part = data.slice(0, rows * w);
    for (let r = 0; r < rows; r++) part.set(data.subarray(r * n * w + j * w, r * n * w + (j + 1) * w), r * w);
    return { data: part, shape: shape.length === 1 ? [w] : [rows, w] };
  });
}

/**
 * Bytes of the widest per-token tensor of one forward at (batch, length): logits (V), the MLP's (2F
 * for SwiGLU), q's width, the (1, T, T) mask (T per token). What one binding must hold.
 */
export function hfWidestActivation(s: HfSpec, batch: number, length: number): number {
  return batch * length * Math.max(s.vocab, 2 * s.ff, s.heads * s.headDim, s.d, length) * 4;
}

/** Refuse a checkpoint that cannot fit `backend` (admitWeights), given each weight's shape and backend dtype. */
export function admitHf(
  backend: Backend,
  manifest: HfManifest,
  s: HfSpec,
  weights: Iterable<{ name: string; shape: readonly number[]; dtype: DType }>,
  budget?: number,
): void {
  const planned = [...weights].map((w) => ({ ...w, elements: w.shape.reduce((a, b) => a * b, 1) }));
  const length = Math.min(manifest.architecture.max_len, s.maxLen);
  admitWeights(backend, manifest.name, planned, hfWidestActivation(s, 1, length), budget);
}

/** The StreamPlan of an HF manifest's checkpoint on `backend` (see the file's header). */
export function hfStreamPlan(manifest: HfManifest, backend: Backend, o: WeightOptions = {}): StreamPlan {
  const s = parseHfConfig(manifest.architecture.config, 'manifest.json architecture.config');
  return {
    begin: () => {
      const planned = [...hfTensorShapes(s)]
        .filter(([, w]) => !w.optional)
        .map(([name, w]) => ({
          name,
          shape: w.shape,
          dtype: (w.shape.length >= 2 ? (o.weights ?? 'f16') : 'f32') as DType,
        }));
      admitHf(backend, manifest, s, planned, o.memoryBudget);
    },
    host: (name, t) => !storedDtype(t.dtype, t.shape.length) || !!HOST_KEPT[s.family]?.test(name),
    split: (name, t, data) =>
      s.family === 'gpt2' && GPT2_C_ATTN.test(name) ? columnBlocks(data, t.shape, 3) : undefined,
    check: (tensors, complete) => {
      const byName = checkHfHeaders(s, tensors, complete);
      const planned = [...byName.values()].map((t) => ({
        name: t.raw,
        shape: t.shape,
        dtype: storedDtype(t.dtype, t.shape.length, o.weights) ?? 'f32',
      }));
      // the budget counts the whole model: only once every header is known
      admitHf(backend, manifest, s, planned, complete ? o.memoryBudget : undefined);
    },
  };
}
