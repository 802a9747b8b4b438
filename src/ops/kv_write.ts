/**
 * The kv_write op's contract (shaders/kv_write.wgsl): a decode pass's new keys or values (B, M, W), f32
 * or u32 (a bit copy: logits and token ids are written the same way)
 * written into a preallocated cache (B, S, W) at per-row slot offsets (each row's current length), in
 * place. The offsets live on the backend (uploaded once per pass with the pass's other inputs, so the
 * pass stays one submission); their owner, the KV cache, checks offset + M ≤ S on the host before it
 * encodes anything. Should a bad offset reach the op anyway, the GPU writes nothing past the cache and
 * the CPU twin throws.
 */
import { expect, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** shaders/kv_write.wgsl's `struct Params` */
export const KV_WRITE_PARAMS = paramsStruct('kv_write', { B: 'u32', M: 'u32', S: 'u32', W: 'u32', groups_x: 'u32' });

export function planKvWrite(
  cache: Tensor,
  src: Tensor,
  offsets: Tensor,
  be: BackendName,
): { B: number; M: number; S: number; W: number } {
  const op = 'kv_write';
  expect(op, 'cache', cache, be, ['f32', 'u32']);
  expect(op, 'src', src, be, [cache.dtype]);
  expect(op, 'offsets', offsets, be, ['u32'], [1]);
  if (cache.shape.length < 3) fail(op, `cache must be (B, S, …), got [${cache.shape.join(', ')}]`);
  const [B, S] = cache.shape;
  const inner = cache.shape.slice(2);
  if (src.shape.length !== cache.shape.length || src.shape[0] !== B || inner.some((d, i) => d !== src.shape[i + 2]))
    fail(
      op,
      `src [${src.shape.join(', ')}] must be (${B}, M, ${inner.join(', ')}) to fit cache [${cache.shape.join(', ')}]`,
    );
  if (offsets.shape[0] !== B) fail(op, `offsets has ${offsets.shape[0]} entries, expected ${B}`);
  return { B, M: src.shape[1], S, W: inner.reduce((a, d) => a * d, 1) };
}
