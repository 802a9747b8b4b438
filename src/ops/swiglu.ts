/**
 * The swiglu op's contract (shaders/swiglu.wgsl): y = silu(gate) · up for x (…, 2F) = [gate | up] →
 * y (…, F); its shape plan and uniform struct.
 */
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** shaders/swiglu.wgsl's `struct Params` */
export const SWIGLU_PARAMS = paramsStruct('swiglu', { rows: 'u32', F: 'u32', groups_x: 'u32', _pad: 'u32' });

export function planSwiglu(
  x: Tensor,
  o: { out?: Tensor },
  be: BackendName,
): { rows: number; F: number; outShape: number[] } {
  const op = 'swiglu';
  expect(op, 'x', x, be, ['f32']);
  const last = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || last % 2 !== 0)
    fail(op, `x's last dim must be even (gate and up halves), got [${x.shape.join(', ')}]`);
  const F = last / 2;
  const rows = F === 0 ? 0 : x.size / last;
  const outShape = [...x.shape.slice(0, -1), F];
  expectOut(op, o.out, outShape, 'f32', be);
  return { rows, F, outShape };
}
