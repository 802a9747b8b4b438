/** CPU twin of shaders/embedding.wgsl: row gather. An id outside [0, V) throws (the GPU writes NaN). */
import { OpInputError } from '../errors.js';

export function embeddingRef(ids: Uint32Array | Int32Array, table: Float32Array, V: number, C: number): Float32Array {
  const out = new Float32Array(ids.length * C);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n];
    if (!(id >= 0 && id < V)) throw new OpInputError('embedding', `id ${id} at index ${n} is outside [0, ${V})`);
    out.set(table.subarray(id * C, id * C + C), n * C);
  }
  return out;
}
