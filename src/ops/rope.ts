/**
 * The rope op's contract (shaders/rope.wgsl): rotary position embedding of x (tokens, H, D) at the
 * given positions, reading a cos/sin table; the table itself (`ropeTable`, what models upload), the
 * shape plan and the uniform struct.
 */
import { OpInputError } from '../errors.js';
import { expect, expectOut, fail } from '../backend/shapes.js';
import type { BackendName, Tensor } from '../backend/tensor.js';
import { paramsStruct } from './params.js';

/** shaders/rope.wgsl's `struct Params` */
export const ROPE_PARAMS = paramsStruct('rope', {
  BT: 'u32',
  H: 'u32',
  D: 'u32',
  P: 'u32',
  groups_x: 'u32',
  _pad0: 'u32',
  _pad1: 'u32',
  _pad2: 'u32',
});

/**
 * cos/sin table (P, D/2, 2) in f64 rounded to f32 — the GPU kernel reads the same table. Pair j turns by
 * p · invFreq[j], invFreq[j] = base^(−2j/D) unless `o.invFreq` gives the frequencies (a scaled RoPE: HF's
 * rope_scaling, src/models/hf/config.ts); `o.scale` multiplies cos and sin (YaRN's attention factor).
 */
export function ropeTable(
  P: number,
  D: number,
  base = 10000,
  o: { invFreq?: ArrayLike<number>; scale?: number } = {},
): Float32Array {
  if (D % 2 !== 0) throw new OpInputError('rope', `head dim ${D} must be even`);
  const half = D / 2;
  if (o.invFreq && o.invFreq.length !== half)
    throw new OpInputError('rope', `${o.invFreq.length} frequencies for head dim ${D} (want ${half})`);
  const scale = o.scale ?? 1;
  const t = new Float32Array(P * half * 2);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < half; j++) {
      const ang = p * (o.invFreq ? o.invFreq[j] : Math.pow(base, (-2 * j) / D));
      t[(p * half + j) * 2] = Math.cos(ang) * scale;
      t[(p * half + j) * 2 + 1] = Math.sin(ang) * scale;
    }
  }
  return t;
}

export function planRope(
  x: Tensor,
  pos: Tensor,
  table: Tensor,
  o: { out?: Tensor },
  be: BackendName,
): { tokens: number; H: number; D: number; P: number } {
  const op = 'rope';
  expect(op, 'x', x, be, ['f32'], [3, 4]);
  expect(op, 'positions', pos, be, ['u32', 'i32']);
  expect(op, 'table', table, be, ['f32'], [3]);
  const D = x.shape[x.shape.length - 1];
  const H = x.shape[x.shape.length - 2];
  const tokens = x.size / Math.max(1, H * D);
  if (D % 2 !== 0) fail(op, `head dim ${D} must be even`);
  if (pos.size !== tokens) fail(op, `positions has ${pos.size} entries, x has ${tokens} tokens`);
  if (table.shape[1] !== D / 2 || table.shape[2] !== 2)
    fail(op, `table must be (P, ${D / 2}, 2), got [${table.shape.join(', ')}]`);
  expectOut(op, o.out, x.shape, 'f32', be);
  return { tokens, H, D, P: table.shape[0] };
}
