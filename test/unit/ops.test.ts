// Op contracts (src/ops/): every declared uniform struct matches its kernel's WGSL `struct Params`
// field by field — name, type and order — and packs its values at WGSL's offsets, padding fields and
// the tail zeroed; a vec2<u32> at an offset WGSL would not align is refused when declared.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PARAMS_STRUCTS } from '../../src/ops/index.js';
import { DIFFUSION_STEP_PARAMS } from '../../src/ops/diffusion_step.js';
import { paramsStruct } from '../../src/ops/params.js';
import { SOFTMAX_PARAMS } from '../../src/ops/softmax.js';
import { CATEGORICAL_PARAMS } from '../../src/ops/categorical.js';
import { RNG_PARAMS } from '../../src/ops/rng.js';

const root = new URL('../../', import.meta.url);

/** The fields of shaders/<kernel>.wgsl's `struct Params`, as [name, type]. */
function wgslParams(kernel: string): [string, string][] {
  const src = readFileSync(new URL(`shaders/${kernel}.wgsl`, root), 'utf8');
  const body = /struct Params\s*\{([^}]*)\}/.exec(src);
  if (!body) throw new Error(`${kernel}.wgsl has no struct Params`);
  return body[1]
    .replace(/\/\/.*$/gm, '') // comments first: they may hold commas
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => f.split(':').map((s) => s.trim()) as [string, string]);
}

describe('op params structs', () => {
  it.each(PARAMS_STRUCTS.map((s) => [s.kernel, s] as const))('%s: the declaration is the kernel’s struct', (_k, s) => {
    expect(s.fields.map(([n, t]) => [n, t])).toEqual(wgslParams(s.kernel));
  });

  it('every kernel with a uniform struct has its declaration in src/ops/', () => {
    const kernels = readdirSync(new URL('shaders/', root))
      .filter(
        (f) => f.endsWith('.wgsl') && /struct Params\s*\{/.test(readFileSync(new URL(`shaders/${f}`, root), 'utf8')),
      )
      .map((f) => f.slice(0, -'.wgsl'.length));
    expect(PARAMS_STRUCTS.map((s) => s.kernel).sort()).toEqual(kernels.sort());
  });

  it('the WGSL reader sees a struct and a mismatch; a comment’s commas are not fields', () => {
    expect(wgslParams('softmax')).toEqual([
      ['rows', 'u32'],
      ['C', 'u32'],
      ['groups_x', 'u32'],
      ['_pad', 'u32'],
    ]);
    expect(wgslParams('layer_norm')).not.toEqual(SOFTMAX_PARAMS.fields);
    expect(wgslParams('rng')).toEqual([
      ['count', 'u32'],
      ['groups_x', 'u32'],
      ['key', 'vec2<u32>'],
      ['stream', 'vec4<u32>'],
    ]);
  });

  it('packs by name at WGSL offsets; vec2<u32> takes two words; the tail is zero', () => {
    const into = new DataView(new ArrayBuffer(64));
    new Uint8Array(into.buffer).fill(0xff);
    const v = DIFFUSION_STEP_PARAMS.pack(
      {
        n: 7,
        groups_x: 3,
        key: [0xdeadbeef, 5],
        step: 9,
        w: 1.5,
        s0: 0.5,
        s1: 0.25,
        c_x0: 2,
        c_x: -1,
        c_e: 4,
        sigma: 0.125,
      },
      into,
    );
    expect(v.byteLength).toBe(48);
    const u = (o: number) => v.getUint32(o, true),
      f = (o: number) => v.getFloat32(o, true);
    expect([u(0), u(4), u(8), u(12), u(16)]).toEqual([7, 3, 0xdeadbeef, 5, 9]);
    expect([f(20), f(24), f(28), f(32), f(36), f(40), f(44)]).toEqual([1.5, 0.5, 0.25, 2, -1, 4, 0.125]);
    const s = SOFTMAX_PARAMS.pack({ rows: 2, C: 3, groups_x: 1 }, into);
    expect([0, 4, 8, 12].map((o) => s.getUint32(o, true))).toEqual([2, 3, 1, 0]);
    const r = RNG_PARAMS.pack({ count: 5, groups_x: 2, key: [1, 2], stream: [3, 4, 5, 0] }, into);
    expect([r.byteLength, ...[0, 4, 8, 12, 16, 20, 24, 28].map((o) => r.getUint32(o, true))]).toEqual([
      32, 5, 2, 1, 2, 3, 4, 5, 0,
    ]);
    new Uint8Array(into.buffer).fill(0xff);
    const c = CATEGORICAL_PARAMS.pack(
      { rows: 1, V: 2, top_k: 0, groups_x: 1, temperature: 1, top_p: 1, key: [7, 8], counter: [9, 10], streams: 0 },
      into,
    );
    expect([c.byteLength, c.getUint32(40, true), c.getUint32(44, true)]).toEqual([48, 0, 0]);
    const short = paramsStruct('t', { a: 'f32' }).pack({ a: 1 }, into);
    expect([short.byteLength, short.getUint32(4, true), short.getUint32(12, true)]).toEqual([16, 0, 0]);
  });

  it('refuses a field WGSL would align elsewhere, and a missing value', () => {
    expect(() => paramsStruct('t', { a: 'u32', k: 'vec2<u32>' })).toThrow(/k \(vec2<u32>\) would sit at byte 4/);
    expect(() => paramsStruct('t', { a: 'vec2<u32>', s: 'vec4<u32>' })).toThrow(/s \(vec4<u32>\) would sit at byte 8/);
    const into = new DataView(new ArrayBuffer(16));
    // @ts-expect-error: C has no value (the type asks for every field by name)
    expect(() => SOFTMAX_PARAMS.pack({ rows: 1, groups_x: 1 }, into)).toThrow(/no value for C/);
  });
});
