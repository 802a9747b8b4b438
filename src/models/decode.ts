/**
 * What every KV cache shares (src/models/model.ts DecodeCache): the argument checks of `createCache` and of
 * a decode pass, and the rows' decided lengths with O(1) rollback. The caches themselves live with their
 * models (the two-stream transformer's, the causal HF models').
 */
import { OpInputError } from '../errors.js';
import type { DecodeCache, DecodeInput } from './model.js';

/** `createCache`'s batch, capacity and layers (default all of `maxLayers`) checked; returns the layers. */
export function checkCacheShape(
  op: string,
  batch: number,
  capacity: number,
  layers: number | undefined,
  maxLayers: number,
): number {
  const n = layers ?? maxLayers;
  if (!Number.isInteger(batch) || batch < 1)
    throw new OpInputError(op, `batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new OpInputError(op, `capacity must be a positive integer, got ${capacity}`);
  if (!Number.isInteger(n) || n < 1 || n > maxLayers)
    throw new OpInputError(op, `layers must be an integer in [1, ${maxLayers}], got ${n}`);
  return n;
}

/**
 * A decode pass's input checked against a cache whose rows hold `len` slots of `capacity`: sizes, token ids
 * (host) in the vocabulary, positions and queries in [0, P), room for the appended tokens. Returns how many
 * slots each query sees (batch · q; `visible`, or by default the last q of the m + 1 prefixes).
 */
export function checkDecodeInput(
  op: string,
  input: DecodeInput,
  len: Uint32Array,
  capacity: number,
  vocab: number,
  backend: string,
  P: number,
): Uint32Array {
  const { m, q, tokens, positions, queries } = input;
  const B = len.length;
  if (!Number.isInteger(m) || m < 0) throw new OpInputError(op, `m must be an integer ≥ 0, got ${m}`);
  if (!Number.isInteger(q) || q < 1) throw new OpInputError(op, `q must be an integer ≥ 1, got ${q}`);
  const onHost = tokens instanceof Uint32Array;
  if (!onHost) {
    if (tokens.dtype !== 'u32' || tokens.backend !== backend || tokens.size !== B * m)
      throw new OpInputError(op, `tokens must be a (${B}, ${m}) u32 tensor on ${backend}`);
  } else if (tokens.length !== B * m)
    throw new OpInputError(op, `tokens has ${tokens.length} ids, expected batch·m = ${B * m}`);
  if (positions.length !== B * m)
    throw new OpInputError(op, `positions has ${positions.length} entries, expected batch·m = ${B * m}`);
  if (queries.length !== B * q)
    throw new OpInputError(op, `queries has ${queries.length} entries, expected batch·q = ${B * q}`);
  if (!input.visible && q > m + 1)
    throw new OpInputError(op, `q = ${q} queries need \`visible\` (by default q ≤ m + 1 = ${m + 1})`);
  if (input.visible && input.visible.length !== B * q)
    throw new OpInputError(op, `visible has ${input.visible.length} entries, expected batch·q = ${B * q}`);
  for (let i = 0; i < B * m; i++) {
    if (onHost && tokens[i] >= vocab)
      throw new OpInputError(op, `token id ${tokens[i]} at ${i} is outside the vocabulary [0, ${vocab})`);
    if (positions[i] >= P) throw new OpInputError(op, `position ${positions[i]} at ${i} is outside [0, ${P})`);
  }
  for (let i = 0; i < B * q; i++)
    if (queries[i] >= P) throw new OpInputError(op, `query position ${queries[i]} at ${i} is outside [0, ${P})`);
  const seen = new Uint32Array(B * q);
  for (let b = 0; b < B; b++) {
    if (len[b] + m > capacity)
      throw new OpInputError(op, `row ${b} holds ${len[b]} slots; ${m} more do not fit the cache's ${capacity}`);
    for (let j = 0; j < q; j++) {
      const s = input.visible ? input.visible[b * q + j] : len[b] + m - q + 1 + j;
      if (!(s <= len[b] + m))
        throw new OpInputError(op, `row ${b}, query ${j}: sees ${s} slots, the row holds ${len[b] + m}`);
      seen[b * q + j] = s;
    }
  }
  return seen;
}

/** Rows' decided lengths (on the host) and their O(1) rollback: later slots are overwritten by the next append. */
export abstract class RowCache implements Pick<DecodeCache, 'batch' | 'lengths' | 'truncate' | 'dispose'> {
  readonly len: Uint32Array;
  disposed = false;

  constructor(readonly batch: number) {
    this.len = new Uint32Array(batch);
  }

  lengths(): Uint32Array {
    return this.len.slice();
  }

  truncate(b: number, length: number): void {
    if (this.disposed) throw new OpInputError('truncate', 'the cache was disposed');
    if (!Number.isInteger(b) || b < 0 || b >= this.batch)
      throw new OpInputError('truncate', `row must be an integer in [0, ${this.batch}), got ${b}`);
    if (!Number.isInteger(length) || length < 0 || length > this.len[b])
      throw new OpInputError('truncate', `row ${b} holds ${this.len[b]} slots; cannot roll back to ${length}`);
    this.len[b] = length;
  }

  abstract dispose(): void;
}
