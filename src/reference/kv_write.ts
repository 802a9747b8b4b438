/** CPU twin of shaders/kv_write.wgsl: cache[b, offsets[b] + m, :] = src[b, m, :], in place. */
import { OpInputError } from '../errors.js';

export function kvWriteRef(
  cache: Float32Array | Uint32Array,
  src: Float32Array | Uint32Array,
  offsets: ArrayLike<number>,
  B: number,
  M: number,
  S: number,
  W: number,
): void {
  for (let b = 0; b < B; b++) {
    const o = offsets[b];
    if (!(Number.isInteger(o) && o >= 0 && o + M <= S))
      throw new OpInputError('kv_write', `row ${b}: slots [${o}, ${o + M}) do not fit the cache's ${S} slots`);
    (cache as Float32Array).set(src.subarray(b * M * W, (b + 1) * M * W) as Float32Array, (b * S + o) * W);
  }
}
