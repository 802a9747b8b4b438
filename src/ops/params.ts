/**
 * An op's uniform parameters, declared once by field name (as huggingface/ratchet's
 * `#[derive(ShaderType)] struct SoftmaxMeta`), written as the kernel writes its struct —
 * `{ rows: 'u32', C: 'u32', groups_x: 'u32', _pad: 'u32' }` for `struct Params { rows: u32, … }`.
 * The declaration packs the values — by name, in the
 * kernel's field order — and `test/unit/ops.test.ts` checks it against the kernel's WGSL
 * `struct Params` field by field (name, type and order), so a reordered or renamed field fails on
 * the CPU, not only in a GPU test.
 *
 * Layout: u32 and f32 take 4 bytes; vec2<u32> takes 8 and must sit at an 8-byte offset, vec4<u32>
 * 16 at a 16-byte offset (WGSL's alignment; the declaration refuses otherwise); the struct is
 * zero-padded to 16 bytes. Fields named `_pad…` are written as 0 (every word) and take no value.
 * `groups_x` (the dispatch grid's x extent, in the kernels that fold a 1-D grid into two dimensions)
 * is filled in by the dispatcher.
 */
export type ParamType = 'u32' | 'f32' | 'vec2<u32>' | 'vec4<u32>';
export type ParamField = readonly [name: string, type: ParamType];

type Value<T extends ParamType> = T extends 'vec2<u32>'
  ? readonly [number, number]
  : T extends 'vec4<u32>'
    ? readonly [number, number, number, number]
    : number;
/** A struct's fields, name → type, written in the kernel's order (as WGSL writes `name: type`). */
export type ParamFields = Readonly<Record<string, ParamType>>;
/** The values a struct takes: one per field, by name (padding fields none). */
export type ParamValues<F extends ParamFields> = {
  [K in keyof F as K extends `_pad${string}` ? never : K]: Value<F[K]>;
};

export interface ParamsStruct<F extends ParamFields> {
  /** the kernel (shaders/<kernel>.wgsl) whose `struct Params` this is */
  readonly kernel: string;
  /** the fields as [name, type], in order */
  readonly fields: readonly ParamField[];
  /** bytes, padded to 16 */
  readonly size: number;
  /** Write the values into `into` (from byte 0) and return the view of the struct's bytes. */
  pack(values: ParamValues<F>, into: DataView): DataView;
}

const BYTES: Record<ParamType, number> = { u32: 4, f32: 4, 'vec2<u32>': 8, 'vec4<u32>': 16 };

/**
 * Declare an op's uniform struct: the kernel it belongs to and its fields in the kernel's order
 * (an object keeps its keys in written order; a field name is never an array index, which would not).
 */
export function paramsStruct<const F extends ParamFields>(kernel: string, declared: F): ParamsStruct<F> {
  const fields = Object.entries(declared) as [string, ParamType][];
  let offset = 0;
  const at: number[] = [];
  for (const [name, type] of fields) {
    if (/^\d/.test(name)) throw new Error(`${kernel} Params: ${name} is not a WGSL field name`);
    if (offset % BYTES[type] !== 0) throw new Error(`${kernel} Params: ${name} (${type}) would sit at byte ${offset}`);
    at.push(offset);
    offset += BYTES[type];
  }
  const size = Math.ceil(offset / 16) * 16;
  return {
    kernel,
    fields,
    size,
    pack(values, into) {
      const v = values as Record<string, number | readonly number[]>;
      fields.forEach(([name, type], i) => {
        const pad = name.startsWith('_pad');
        const x = pad ? 0 : v[name];
        if (x === undefined) throw new Error(`${kernel} Params: no value for ${name}`);
        if (type === 'f32') into.setFloat32(at[i], x as number, true);
        else if (type === 'u32') into.setUint32(at[i], (x as number) >>> 0, true);
        else
          for (let w = 0; w < BYTES[type] / 4; w++)
            into.setUint32(at[i] + 4 * w, pad ? 0 : (x as readonly number[])[w] >>> 0, true);
      });
      for (let o = offset; o < size; o += 4) into.setUint32(o, 0, true);
      return new DataView(into.buffer, into.byteOffset, size);
    },
  };
}
