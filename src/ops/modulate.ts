/**
 * The modulate op's contract (shaders/modulate.wgsl): adaLN's x·(1 + scale) + shift and the gated
 * residual res + gate·y, their shape plan, the kernel's MODE codes and its uniform struct.
 */
import { expect, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** the kernel's `override MODE` for each form */
export const MODULATE_MODES = { modulate: 0, gatedAdd: 1 } as const;

/** shaders/modulate.wgsl's `struct Params` */
export const MODULATE_PARAMS = paramsStruct('modulate', { n: 'u32', TC: 'u32', C: 'u32', groups_x: 'u32' });

export function planModulate(
  op: 'modulate' | 'gatedAdd',
  a: Tensor,
  r: Tensor | null,
  u: Tensor,
  v: Tensor | null,
  backend: BackendName,
) {
  expect(op, 'x', a, backend, ['f32'], [3]);
  const [B, T, C] = a.shape;
  if (r) {
    expect(op, 'y', r, backend, ['f32'], [3]);
    if (r.shape.some((d, i) => d !== a.shape[i]))
      fail(op, `y has shape [${r.shape.join(', ')}], expected [${a.shape.join(', ')}]`);
  }
  for (const [name, t] of [
    [op === 'modulate' ? 'shift' : 'gate', u],
    ['scale', v],
  ] as const) {
    if (!t) continue;
    expect(op, name, t, backend, ['f32'], [2]);
    if (t.shape[0] !== B || t.shape[1] !== C) fail(op, `${name} must be (${B}, ${C}), got [${t.shape.join(', ')}]`);
  }
  return { B, T, C };
}
