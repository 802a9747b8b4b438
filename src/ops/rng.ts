/**
 * The rng op's contract (shaders/rng.wgsl): `count` Philox counters (i, stream…) turned into u32
 * words, uniforms, Gumbels or normals; its options, plan, output codes and uniform struct. The
 * generator itself (Philox, the transforms, seedToKey) is the host module src/rng.ts.
 */
import { expectOut, fail } from '../backend/shapes.js';
import type { BackendName, DType, Tensor } from '../backend/tensor.js';
import { seedToKey } from '../rng.js';
import { paramsStruct } from './params.js';

/** Output transforms of the `rng` op. */
export type RngOutput = 'u32' | 'uniform' | 'uniform-naive' | 'gumbel' | 'gumbel-naive' | 'normal';
/** the kernel's `override OUTPUT` for each output */
export const RNG_OUTPUT_CODES: Record<RngOutput, number> = {
  u32: 0,
  uniform: 1,
  'uniform-naive': 2,
  gumbel: 3,
  'gumbel-naive': 4,
  normal: 5,
};

/** shaders/rng.wgsl's `struct Params` (stream's fourth word is unused) */
export const RNG_PARAMS = paramsStruct('rng', { count: 'u32', groups_x: 'u32', key: 'vec2<u32>', stream: 'vec4<u32>' });

export interface RngOptions {
  /** Philox counters; 'u32' yields 4 words each, the other outputs 2 values each */
  count: number;
  seed: number | bigint;
  /** counter words 1..3 */
  stream?: [number, number, number];
  output?: RngOutput;
  tailSlice?: number;
  out?: Tensor;
}

export interface RngPlan {
  count: number;
  key: [number, number];
  output: RngOutput;
  stream: [number, number, number];
  tailSlice: number;
  outShape: number[];
  dtype: DType;
}

export function planRng(o: RngOptions, be: BackendName): RngPlan {
  const op = 'rng';
  const output = o.output ?? 'u32';
  if (!Object.hasOwn(RNG_OUTPUT_CODES, output)) fail(op, `unknown output "${output}"`);
  if (!Number.isInteger(o.count) || o.count < 0 || o.count > 2 ** 31)
    fail(op, `count must be an integer in [0, 2^31], got ${o.count}`);
  const stream = o.stream ?? [0, 0, 0];
  if (stream.length !== 3 || stream.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff))
    fail(op, 'stream must be 3 u32 words');
  const tailSlice = o.tailSlice ?? 0;
  if (!Number.isInteger(tailSlice) || tailSlice < 0 || tailSlice > 63)
    fail(op, `tailSlice must be an integer in [0, 63], got ${tailSlice}`);
  if (tailSlice && output === 'normal') fail(op, 'tailSlice applies to uniform and Gumbel outputs, not normal');
  const key = seedToKey(o.seed);
  const u = output === 'u32';
  const outShape = [o.count, u ? 4 : 2];
  const dtype: DType = u ? 'u32' : 'f32';
  expectOut(op, o.out, outShape, dtype, be);
  return { count: o.count, key, output, stream, tailSlice, outShape, dtype };
}
