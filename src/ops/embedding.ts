/**
 * The embedding op's contract (shaders/embedding.wgsl): rows of a (V, C) table gathered by token id;
 * its shape plan and uniform struct. The table may be f16 (rows widened to f32).
 */
import { expect } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** shaders/embedding.wgsl's `struct Params` */
export const EMBEDDING_PARAMS = paramsStruct('embedding', {
  N: 'u32',
  C: 'u32',
  V: 'u32',
  groups_x: 'u32',
  row0: 'u32',
  rows: 'u32',
  _pad0: 'u32',
  _pad1: 'u32',
});

export function planEmbedding(
  ids: Tensor,
  table: Tensor,
  be: BackendName,
): { N: number; V: number; C: number; outShape: number[] } {
  const op = 'embedding';
  expect(op, 'ids', ids, be, ['u32', 'i32']);
  expect(op, 'table', table, be, ['f32', 'f16'], [2]);
  const [V, C] = table.shape;
  return { N: ids.size, V, C, outShape: [...ids.shape, C] };
}
