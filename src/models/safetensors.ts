/**
 * A safetensors reader written to the format's rules (huggingface/safetensors, "Format"):
 *   8 bytes   little-endian u64 N — the header's length (capped here, default 16 MiB)
 *   N bytes   UTF-8 JSON object: {"__metadata__": {str: str}?, name: {dtype, shape, data_offsets: [b, e]}}
 *             (may be padded with trailing spaces; no byte-order mark)
 *   rest      the byte buffer; offsets are relative to its start
 * Enforced: the header fits the file; strict JSON with no duplicate keys; known dtypes; shapes of
 * non-negative safe integers; offsets integers with b ≤ e inside the buffer; entries that tile the
 * buffer exactly — contiguous, non-overlapping, no holes, no trailing bytes (the spec's guard against
 * polyglot files); shape × itemsize = e − b. Every violation is a ModelFormatError naming the tensor
 * and the rule. Parsing allocates no buffers (the result holds views into the file), so a header
 * declaring a huge tensor is refused before anything is sized from it. test/unit/safetensors-fuzz.test.ts
 * checks all of this against an independent oracle over mutated files.
 */
import { f16ToF32, f32ToF16, F16_MAX } from '../backend/f16.js';
import { ModelFormatError } from '../errors.js';
import { parseStrictJson, StrictJsonError } from './json.js';

export type SafetensorsDType =
  'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

export const ITEMSIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** byte offsets in the data buffer */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, TensorInfo>;
  /** the data section (a view into the file) */
  data: Uint8Array;
}

export interface ParseOptions {
  /** largest header accepted, bytes (default 16 MiB) */
  maxHeaderBytes?: number;
  /** file name for messages */
  file?: string;
  /**
   * The whole file's length, when `bytes` holds only its beginning (at least the header: a streamed
   * read); every rule is checked against it, and the result's `data` holds only what `bytes` has.
   */
  fileBytes?: number;
}

export function parseSafetensors(bytes: Uint8Array, opts: ParseOptions = {}): SafetensorsFile {
  const file = opts.file;
  const maxHeader = opts.maxHeaderBytes ?? 16 * 1024 * 1024;
  const err = (rule: string, msg: string, tensor?: string): never => {
    throw new ModelFormatError(rule, msg, tensor, file);
  };
  const total = opts.fileBytes ?? bytes.byteLength;
  if (total < 8 || bytes.byteLength < 8)
    err('header-length', `file has ${total} bytes, fewer than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // a u64 read as a BigInt: the message prints the length exactly (2^62 is 4611686018427387904, not the
  // 4611686018427388000 a double prints); past the cap it never becomes a Number
  const big = dv.getBigUint64(0, true);
  if (big > BigInt(maxHeader)) err('header-length', `header length ${big} exceeds the cap of ${maxHeader} bytes`);
  const n = Number(big);
  if (8 + n > total) err('header-length', `header length ${n} runs past the end of the ${total}-byte file`);
  if (8 + n > bytes.byteLength)
    err('header-length', `only ${bytes.byteLength} bytes were given for a ${n}-byte header`);
  if (n < 2) err('header-json', 'header is shorter than "{}"');
  let text: string;
  try {
    // ignoreBOM: a byte-order mark is kept (and then refused: the header must start with "{"), not
    // silently stripped — the reference reader rejects such a header, and so must this one
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return err('header-utf8', 'header is not valid UTF-8');
  }
  if (text[0] !== '{') err('header-json', 'header does not start with "{"');
  let header: unknown;
  try {
    // trailing padding is JSON whitespace, which the parser skips (no regex over the padding: / +$/
    // backtracks quadratically on a long run of spaces that is not at the end)
    header = parseStrictJson(text);
  } catch (e) {
    return err(
      e instanceof StrictJsonError && e.message.startsWith('duplicate') ? 'duplicate-name' : 'header-json',
      `header is not strict JSON: ${(e as Error).message}`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return err('header-json', 'header is not a JSON object');
  const dataLen = total - 8 - n;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        err('metadata', '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') err('metadata', `__metadata__[${JSON.stringify(k)}] must be a string`);
        // defineProperty, not assignment: a key "__proto__" must become an entry, not a prototype
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) err('entry', 'entry must be an object', name);
    const e = raw as Record<string, unknown>;
    for (const k of Object.keys(e))
      if (!['dtype', 'shape', 'data_offsets'].includes(k)) err('entry', `unknown field "${k}"`, name);
    const dtype = e.dtype as SafetensorsDType;
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEMSIZE, dtype))
      err('dtype', `unknown dtype ${JSON.stringify(e.dtype)}`, name);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      err('shape', `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`, name);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || (o as number) < 0)) {
      err('offsets', `data_offsets must be two non-negative integers, got ${JSON.stringify(offs)}`, name);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) err('offsets', `data_offsets [${begin}, ${end}] are reversed`, name);
    if (end > dataLen) err('offsets', `data_offsets end ${end} is past the ${dataLen}-byte buffer`, name);
    // the element count, stopping as soon as it needs more bytes than the buffer holds (so it stays
    // exact); a shape with a 0 holds nothing whatever its other dimensions
    let count = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of count === 0 ? [] : (shape as number[])) {
      count *= d;
      if (count * ITEMSIZE[dtype] > dataLen)
        err('shape-size', `shape ${JSON.stringify(shape)} needs more bytes than the buffer holds`, name);
    }
    if (count * ITEMSIZE[dtype] !== end - begin) {
      err(
        'shape-size',
        `shape ${JSON.stringify(shape)} × ${ITEMSIZE[dtype]} bytes = ${count * ITEMSIZE[dtype]}, but data_offsets span ${end - begin}`,
        name,
      );
    }
    tensors.set(name, { name, dtype, shape: shape as number[], begin, end });
  }
  // the entries must tile the buffer: sorted by begin, each starts where the last ended
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin < at)
      err('overlap', `bytes [${t.begin}, ${t.end}) overlap the previous tensor (which ends at ${at})`, t.name);
    if (t.begin > at) err('hole', `bytes [${at}, ${t.begin}) before it belong to no tensor`, t.name);
    at = t.end;
  }
  if (at !== dataLen) err('hole', `the buffer has ${dataLen - at} trailing bytes that belong to no tensor`);
  return { metadata, tensors, data: bytes.subarray(8 + n) };
}

/**
 * How each loadable dtype (but BF16 and I64) is read: a new array of n elements (made at the call, where an
 * allocation probe sees it) and the i-th element.
 */
const READERS: Partial<
  Record<
    SafetensorsDType,
    [(n: number) => Float32Array | Int32Array | Uint32Array, (dv: DataView, i: number) => number]
  >
> = {
  F32: [(n) => new Float32Array(n), (dv, i) => dv.getFloat32(4 * i, true)],
  F64: [(n) => new Float32Array(n), (dv, i) => dv.getFloat64(8 * i, true)],
  F16: [(n) => new Float32Array(n), (dv, i) => f16ToF32(dv.getUint16(2 * i, true))],
  I32: [(n) => new Int32Array(n), (dv, i) => dv.getInt32(4 * i, true)],
  U32: [(n) => new Uint32Array(n), (dv, i) => dv.getUint32(4 * i, true)],
  I16: [(n) => new Int32Array(n), (dv, i) => dv.getInt16(2 * i, true)],
  U16: [(n) => new Int32Array(n), (dv, i) => dv.getUint16(2 * i, true)],
  I8: [(n) => new Int32Array(n), (dv, i) => dv.getInt8(i)],
  U8: [(n) => new Int32Array(n), (dv, i) => dv.getUint8(i)],
  BOOL: [(n) => new Int32Array(n), (dv, i) => dv.getUint8(i)],
};

export interface TensorDataOptions {
  /**
   * Floating tensors stored as F16 or BF16 come back as f16 bits (a Uint16Array) instead of f32:
   * F16 as stored (no f32 round trip), BF16 converted (exact within f16's range — bf16 has fewer
   * fraction bits — except values below f16's smallest subnormal 2^-24, which round to the nearest
   * subnormal or ±0); a BF16 value beyond ±65504 is a ModelFormatError naming file, tensor and
   * index (rule "f16-range"), never clamped.
   */
  f16?: boolean;
}

/** BF16 bits → f16 bits, range-checked. */
function bf16ToF16(dv: DataView, n: number, name: string, file?: string): Uint16Array {
  const o = new Uint16Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < n; i++) {
    u[0] = dv.getUint16(2 * i, true) << 16;
    const h = f32ToF16(f[0]);
    if (h < 0)
      throw new ModelFormatError(
        'f16-range',
        `BF16 value ${f[0]} at index ${i} is beyond f16's range (±${F16_MAX}); load with weights: 'f32'`,
        name,
        file,
      );
    o[i] = h;
  }
  return o;
}

/** I64 → Int32Array: every value must fit an i32 (position ids, counters), else a ModelFormatError. */
function i64ToI32(dv: DataView, n: number, name: string, file?: string): Int32Array {
  const o = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = dv.getBigInt64(8 * i, true);
    if (v > 2147483647n || v < -2147483648n)
      throw new ModelFormatError('i64-range', `I64 value ${v} at index ${i} does not fit in 32 bits`, name, file);
    o[i] = Number(v);
  }
  return o;
}

/**
 * A tensor's values: floating dtypes as Float32Array (F16/BF16/F64 converted; with `f16`, F16 and
 * BF16 as f16 bits), I32/U32 as-is, small integer types widened to Int32Array, I64 decoded to
 * Int32Array when every value fits (a value that does not is a ModelFormatError, never truncated).
 */
export function tensorData(f: SafetensorsFile, name: string, file?: string): Float32Array | Int32Array | Uint32Array;
export function tensorData(
  f: SafetensorsFile,
  name: string,
  file: string | undefined,
  o: TensorDataOptions,
): Float32Array | Int32Array | Uint32Array | Uint16Array;
export function tensorData(
  f: SafetensorsFile,
  name: string,
  file?: string,
  o: TensorDataOptions = {},
): Float32Array | Int32Array | Uint32Array | Uint16Array {
  const t = f.tensors.get(name);
  if (!t) throw new ModelFormatError('missing', 'no such tensor in the file', name, file);
  const bytes = f.data.subarray(t.begin, t.end);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = (t.end - t.begin) / ITEMSIZE[t.dtype];
  if (t.dtype === 'F16' && o.f16) {
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = dv.getUint16(2 * i, true);
    return h;
  }
  if (t.dtype === 'BF16' && o.f16) return bf16ToF16(dv, n, name, file);
  if (t.dtype === 'BF16') {
    // the top half of an f32's bits
    const out = new Float32Array(n);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
    return out;
  }
  if (t.dtype === 'I64') return i64ToI32(dv, n, name, file);
  const read = READERS[t.dtype];
  if (!read) throw new ModelFormatError('dtype', `dtype ${t.dtype} is not supported for loading`, name, file);
  const [make, at] = read;
  const out = make(n);
  for (let i = 0; i < n; i++) out[i] = at(dv, i);
  return out;
}

/**
 * Serialise tensors as safetensors, entries in the given order (tests, exports); each entry's bytes as
 * given (F32/I32/U32 arrays, F16/BF16 bits as a Uint16Array, I64 as a BigInt64Array).
 */
export function writeSafetensors(
  entries: {
    name: string;
    dtype: 'F32' | 'I32' | 'U32' | 'F16' | 'BF16' | 'I64';
    shape: number[];
    data: ArrayBufferView;
  }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.data.byteLength] };
    off += e.data.byteLength;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((8 + raw.length) % 8)) % 8; // data section 8-byte aligned
  const hb = new Uint8Array(raw.length + pad).fill(0x20);
  hb.set(raw);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setUint32(0, hb.length, true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const e of entries) {
    out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), p);
    p += e.data.byteLength;
  }
  return out;
}
