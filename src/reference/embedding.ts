/**
 * CPU twin of shaders/embedding.wgsl: row gather. An id outside [0, V) throws (the GPU writes NaN). An
 * f16 table (its bits, a Uint16Array) is widened row by row, exactly.
 */
import { fromF16 } from '../backend/f16.js';
import { OpInputError } from '../errors.js';

export function embeddingRef(
  ids: Uint32Array | Int32Array,
  table: Float32Array | Uint16Array,
  V: number,
  C: number,
): Float32Array {
  const out = new Float32Array(ids.length * C);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n];
    if (!(id >= 0 && id < V)) throw new OpInputError('embedding', `id ${id} at index ${n} is outside [0, ${V})`);
    const row = table.subarray(id * C, id * C + C);
    if (row instanceof Uint16Array) fromF16(row, out.subarray(n * C, n * C + C));
    else out.set(row, n * C);
  }
  return out;
}
