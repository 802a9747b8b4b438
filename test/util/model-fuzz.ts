/**
 * Structure-aware fuzzing of model loading (issue 9), shared by test/unit/safetensors-fuzz.test.ts
 * (≥ 10^4 mutations inside `npm test`) and scripts/fuzz-models.ts (≥ 10^5, nightly).
 *
 * - Mutations are plain data (`FileMutation`, `ManifestMutation`) applied deterministically to valid
 *   seed files, so fast-check can shrink them and a failure prints an input that reproduces.
 *   Safetensors mutations edit the header JSON (dtypes, shapes, offsets, fields, names, metadata,
 *   duplicate keys, nesting), its text and padding, the declared header length, the data section's
 *   size and the raw bytes (truncation, edits, inserted/deleted bytes, appended zip/JSON trailers).
 * - `specCheck` is an independent oracle: the safetensors format rules (huggingface/safetensors
 *   README "Format" and `Metadata::validate`: the header is UTF-8 JSON starting with "{", offsets
 *   sorted by (begin, end) must chain from 0 to the end of the buffer, shape × itemsize = end − begin,
 *   plus this package's stricter rules: no duplicate keys, known fields only, a header cap) written
 *   with BigInt arithmetic and JSON.parse. `checkSafetensors` compares the reader to it: the same
 *   accept/reject decision; a rejection is a ModelFormatError whose rule is one the input really
 *   breaks and whose tensor (for per-tensor rules) is one that breaks it; an accepted file has
 *   exactly the oracle's tensors and metadata, and tensorData returns the bytes' values.
 * - `AllocationProbe` replaces the ArrayBuffer / typed-array constructors on globalThis while the
 *   reader runs and records (and refuses, before constructing) every request for fresh storage.
 *   parseSafetensors must request none (it returns views); tensorData(name) at most 4 bytes per
 *   element of that tensor (its output; I8/U8/BOOL/I16/U16 widen to Int32). What the probe cannot see:
 *   storage made by methods of existing arrays (slice: never larger than its source), Node Buffers,
 *   and JS heap for strings and parsed JSON (bounded by the header, itself bounded by file and cap).
 * - Manifest mutations edit fields, nested fields, list elements, file entries, the JSON text and its
 *   bytes; `checkManifest` runs loadManifest on them (fetch answered in memory) and requires a typed ModelFormatError
 *   about manifest.json or an accepted manifest that passes
 *   `manifestViolation` (plain file names, sha256 hex, integer sizes and dimensions, string vocab).
 */
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { ModelFormatError } from '../../src/errors.js';
import { loadManifest } from '../../src/models/load.js';
import { validateManifest, type AnyManifest } from '../../src/models/manifest.js';
import { parseSafetensors, tensorData, writeSafetensors } from '../../src/models/safetensors.js';
import { FIXTURES, MODELS } from './models.js';

// ---------------------------------------------------------------------------------------------
// statistics

export interface FuzzStats {
  tried: number;
  accepted: number;
  /** rejections by `<ErrorClass>:<rule>` */
  rejected: Map<string, number>;
}

export const newStats = (): FuzzStats => ({ tried: 0, accepted: 0, rejected: new Map() });

function countRejection(stats: FuzzStats | undefined, e: ModelFormatError): void {
  if (!stats) return;
  const k = `${e.name}:${e.rule}`;
  stats.rejected.set(k, (stats.rejected.get(k) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------
// allocation probe

const ALLOCATORS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** Thrown (instead of allocating) when code under the probe asks for more fresh storage than allowed. */
export class AllocationLimitError extends Error {}

const OriginalArrayBuffer = ArrayBuffer;
const OriginalSharedArrayBuffer = typeof SharedArrayBuffer === 'undefined' ? undefined : SharedArrayBuffer;

/** Bytes of fresh storage `new C(...args)` would allocate (0 for a view on an existing buffer). */
function requestedBytes(name: string, C: { BYTES_PER_ELEMENT?: number }, args: unknown[]): number {
  const a = args[0];
  if (name === 'ArrayBuffer' || name === 'SharedArrayBuffer') return Number(a ?? 0);
  const bpe = C.BYTES_PER_ELEMENT ?? 1;
  if (a === undefined || a === null) return 0;
  if (typeof a === 'number') return a * bpe;
  if (a instanceof OriginalArrayBuffer || (OriginalSharedArrayBuffer && a instanceof OriginalSharedArrayBuffer))
    return 0;
  if (typeof (a as { length?: unknown }).length === 'number') return (a as { length: number }).length * bpe;
  return 0; // an iterable of unknown length: not seen by the probe (the reader makes none)
}

export class AllocationProbe {
  /** fresh-storage requests and their total, largest, since the last reset */
  count = 0;
  total = 0;
  largest = 0;

  /** Run `fn` with every ArrayBuffer / typed-array construction counted; a request above `limit` bytes throws. */
  run<T>(limit: number, fn: () => T): T {
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = ALLOCATORS.map((n) => g[n]);
    ALLOCATORS.forEach((name, k) => {
      const C = saved[k] as (new (...a: unknown[]) => object) | undefined;
      if (!C) return;
      g[name] = new Proxy(C, {
        // an arrow function: `this` stays the probe
        construct: (target, args, newTarget) => {
          const bytes = requestedBytes(name, C as { BYTES_PER_ELEMENT?: number }, args);
          this.count += bytes > 0 ? 1 : 0;
          this.total += bytes;
          this.largest = Math.max(this.largest, bytes);
          if (bytes > limit) throw new AllocationLimitError(`new ${name}(${bytes} bytes) exceeds the allowed ${limit}`);
          return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget) as object;
        },
      });
    });
    try {
      return fn();
    } finally {
      ALLOCATORS.forEach((name, k) => {
        g[name] = saved[k];
      });
    }
  }

  reset(): void {
    this.count = 0;
    this.total = 0;
    this.largest = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// the oracle

const SPEC_ITEMSIZE = new Map<string, bigint>([
  ['F64', 8n],
  ['F32', 4n],
  ['F16', 2n],
  ['BF16', 2n],
  ['I64', 8n],
  ['I32', 4n],
  ['U32', 4n],
  ['I16', 2n],
  ['U16', 2n],
  ['I8', 1n],
  ['U8', 1n],
  ['BOOL', 1n],
]);

/** The reader's default header cap (16 MiB). */
export const DEFAULT_MAX_HEADER = 16 * 1024 * 1024;

export interface SpecTensor {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export type SpecResult =
  | { ok: true; headerLength: number; dataLength: number; metadata: [string, string][]; tensors: SpecTensor[] }
  | {
      ok: false;
      /** every rule the input breaks at the first stage that fails */
      rules: Set<string>;
      /** for per-tensor rules: the tensors that break it (a rejection must name one of them) */
      named: Map<string, Set<string>>;
      /** rules whose error carries no tensor name */
      unnamed: Set<string>;
    };

/** Duplicate keys (at any depth) and the deepest value's level (top object = 1) of valid JSON text. */
export function jsonStructure(text: string): { duplicate: boolean; maxLevel: number } {
  const stack: { obj: boolean; keys: Set<string>; expectKey: boolean }[] = [];
  let duplicate = false,
    maxLevel = 0,
    i = 0;
  const value = () => {
    maxLevel = Math.max(maxLevel, stack.length + 1);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.obj && top.expectKey) {
        const k = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(k)) duplicate = true;
        top.keys.add(k);
        top.expectKey = false;
      } else value();
      i = j + 1;
    } else if (c === '{' || c === '[') {
      value();
      stack.push({ obj: c === '{', keys: new Set(), expectKey: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.obj) top.expectKey = true;
      i++;
    } else if (/[-0-9tfn]/.test(c)) {
      value();
      while (i < text.length && /[-+.0-9eEa-z]/.test(text[i])) i++;
    } else i++;
  }
  return { duplicate, maxLevel };
}

/** The reader's JSON nesting limit, as the deepest allowed value level (top object = 1). */
const MAX_LEVEL = 65;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** What the format says about `bytes`: valid (with its tensors) or the set of rules it breaks. */
export function specCheck(bytes: Uint8Array, maxHeader = DEFAULT_MAX_HEADER): SpecResult {
  const rules = new Set<string>();
  const named = new Map<string, Set<string>>();
  const unnamed = new Set<string>();
  const bad = (rule: string, tensor?: string) => {
    rules.add(rule);
    if (tensor === undefined) unnamed.add(rule);
    else {
      if (!named.has(rule)) named.set(rule, new Set());
      named.get(rule)!.add(tensor);
    }
  };
  const reject = (): SpecResult => ({ ok: false, rules, named, unnamed });

  // stage 1: framing
  if (bytes.byteLength < 8) {
    bad('header-length');
    return reject();
  }
  let n = 0n;
  for (let k = 7; k >= 0; k--) n = (n << 8n) | BigInt(bytes[k]);
  if (n > BigInt(maxHeader) || 8n + n > BigInt(bytes.byteLength)) {
    bad('header-length');
    return reject();
  }
  const N = Number(n);
  if (N < 2) bad('header-json');
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + N));
  } catch {
    bad('header-utf8');
  }
  if (rules.size) return reject();

  // stage 2: JSON
  if (text[0] !== '{') {
    bad('header-json');
    return reject();
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    bad('header-json');
    bad('duplicate-name'); // a strict parser may meet a duplicate key before the syntax error
    return reject();
  }
  const js = jsonStructure(text);
  if (js.duplicate) bad('duplicate-name');
  if (js.maxLevel > MAX_LEVEL) bad('header-json');
  if (!isPlainObject(header)) bad('header-json');
  if (rules.size) return reject();

  // stage 3: entries
  const dataLength = bytes.byteLength - 8 - N;
  const metadata: [string, string][] = [];
  const tensors: SpecTensor[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) bad('metadata');
      else
        for (const [k, v] of Object.entries(raw)) {
          if (typeof v !== 'string') bad('metadata');
          else metadata.push([k, v]);
        }
      continue;
    }
    if (!isPlainObject(raw)) {
      bad('entry', name);
      continue;
    }
    if (Object.keys(raw).some((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets')) bad('entry', name);
    const dtypeOk = typeof raw.dtype === 'string' && SPEC_ITEMSIZE.has(raw.dtype);
    if (!dtypeOk) bad('dtype', name);
    const shapeOk = Array.isArray(raw.shape) && raw.shape.every(isNat);
    if (!shapeOk) bad('shape', name);
    const o = raw.data_offsets;
    let offsOk = Array.isArray(o) && o.length === 2 && o.every(isNat);
    if (offsOk && !((o as number[])[0] <= (o as number[])[1] && (o as number[])[1] <= dataLength)) offsOk = false;
    if (!offsOk) bad('offsets', name);
    if (dtypeOk && shapeOk && offsOk) {
      const [b, e] = o as number[];
      const size =
        (raw.shape as number[]).reduce((p, d) => p * BigInt(d), 1n) * SPEC_ITEMSIZE.get(raw.dtype as string)!;
      if (size !== BigInt(e - b)) bad('shape-size', name);
      else tensors.push({ name, dtype: raw.dtype as string, shape: raw.shape as number[], begin: b, end: e });
    }
  }
  if (rules.size) return reject();

  // stage 4: layout — sorted by (begin, end), each tensor starts where the previous ended, the last
  // ends at the end of the buffer (no overlap: no aliases; no holes: no unindexed bytes)
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let chained = true;
  for (const t of sorted) {
    if (t.begin !== at) chained = false;
    at = t.end;
  }
  if (chained && at === dataLength) return { ok: true, headerLength: N, dataLength, metadata, tensors };
  const covered = (p: number) => tensors.some((t) => t.begin <= p && p < t.end);
  for (const t of tensors) {
    const overlaps = tensors.some(
      (u) =>
        u !== t &&
        (t.begin < t.end
          ? u.begin < u.end && t.begin < u.end && u.begin < t.end // shares a byte
          : u.begin < t.begin && t.begin < u.end),
    ); // an empty tensor strictly inside another
    if (overlaps) bad('overlap', t.name);
    if (t.begin > 0 && !covered(t.begin - 1)) bad('hole', t.name);
  }
  if (dataLength > 0 && !covered(dataLength - 1)) bad('hole');
  if (!rules.size) throw new Error(`oracle: layout rejected but no overlap or hole found (${JSON.stringify(sorted)})`);
  return reject();
}

// ---------------------------------------------------------------------------------------------
// independent decoding for accepted files

function f16(u: number): number {
  const sign = u >> 15 ? -1 : 1,
    exp = (u >> 10) & 31,
    man = u & 1023;
  if (exp === 31) return man === 0 ? sign * Infinity : NaN;
  return sign * (exp === 0 ? man * 2 ** -24 : 2 ** (exp - 25) * (1024 + man));
}

function bf16(u: number): number {
  const sign = u >> 15 ? -1 : 1,
    exp = (u >> 7) & 255,
    man = u & 127;
  if (exp === 255) return man === 0 ? sign * Infinity : NaN;
  return sign * (exp === 0 ? man * 2 ** -133 : 2 ** (exp - 134) * (128 + man));
}

/** The values of a tensor's bytes, decoded without the reader's code (host is little-endian). */
function referenceValues(dtype: string, raw: Uint8Array): number[] {
  const buf = raw.slice().buffer;
  switch (dtype) {
    case 'F32':
      return [...new Float32Array(buf)];
    case 'F64':
      return [...new Float64Array(buf)].map(Math.fround);
    case 'F16':
      return [...new Uint16Array(buf)].map(f16);
    case 'BF16':
      return [...new Uint16Array(buf)].map(bf16);
    case 'I32':
      return [...new Int32Array(buf)];
    case 'I64':
      // a value outside i32 has no decoding: NaN here, which tensorData must refuse (rule i64-range)
      return [...new BigInt64Array(buf)].map((v) => (v >= -(2n ** 31n) && v < 2n ** 31n ? Number(v) : NaN));
    case 'U32':
      return [...new Uint32Array(buf)];
    case 'I16':
      return [...new Int16Array(buf)];
    case 'U16':
      return [...new Uint16Array(buf)];
    case 'I8':
      return [...new Int8Array(buf)];
    case 'U8':
    case 'BOOL':
      return [...new Uint8Array(buf)];
    default:
      throw new Error(`no reference decoding for ${dtype}`);
  }
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

// ---------------------------------------------------------------------------------------------
// the property

/** every rule of the safetensors reader (src/models/safetensors.ts) */
export const RULES = new Set([
  'header-length',
  'header-utf8',
  'header-json',
  'duplicate-name',
  'metadata',
  'entry',
  'dtype',
  'shape',
  'offsets',
  'shape-size',
  'overlap',
  'hole',
]);

/**
 * Parse `bytes` and check the reader against the oracle; throws an Error describing the first
 * disagreement. Rejections and acceptances are counted in `stats`.
 */
export function checkSafetensors(
  bytes: Uint8Array,
  stats?: FuzzStats,
  probe = new AllocationProbe(),
  maxHeader = DEFAULT_MAX_HEADER,
): void {
  if (stats) stats.tried++;
  const spec = specCheck(bytes, maxHeader);
  probe.reset();
  let f: ReturnType<typeof parseSafetensors>;
  try {
    f = probe.run(bytes.byteLength, () =>
      parseSafetensors(bytes, { maxHeaderBytes: maxHeader, file: 'fuzz.safetensors' }),
    );
  } catch (e) {
    if (!(e instanceof ModelFormatError))
      throw new Error(`untyped exception from parseSafetensors: ${(e as Error)?.stack ?? e}`);
    countRejection(stats, e);
    if (probe.total > bytes.byteLength)
      throw new Error(`rejection allocated ${probe.total} bytes for a ${bytes.byteLength}-byte file`);
    if (!RULES.has(e.rule)) throw new Error(`unknown rule ${e.rule}: ${e.message}`);
    if (!e.message.includes(`[${e.rule}]`) || e.file !== 'fuzz.safetensors')
      throw new Error(`message does not name the rule and file: ${e.message}`);
    if (spec.ok) throw new Error(`the format accepts this file but the reader says: ${e.message}`);
    if (!spec.rules.has(e.rule))
      throw new Error(
        `the reader reports [${e.rule}] but the file breaks only ${[...spec.rules].join(', ')}: ${e.message}`,
      );
    if (e.tensor === undefined ? !spec.unnamed.has(e.rule) : !spec.named.get(e.rule)?.has(e.tensor)) {
      throw new Error(
        `the reader blames ${e.tensor === undefined ? 'no tensor' : `tensor ${JSON.stringify(e.tensor)}`} for [${e.rule}]; ` +
          `breaking it: ${JSON.stringify([...(spec.named.get(e.rule) ?? [])])}${spec.unnamed.has(e.rule) ? ' and the file as a whole' : ''}`,
      );
    }
    if (e.tensor !== undefined && !e.message.includes(`tensor "${e.tensor}"`)) {
      throw new Error(`message does not name the tensor: ${e.message}`);
    }
    return;
  }
  if (probe.total > 0)
    throw new Error(`parseSafetensors allocated ${probe.total} bytes of fresh storage (it should return views only)`);
  if (!spec.ok)
    throw new Error(
      `the reader accepted a file that breaks ${[...spec.rules].join(', ')} (tensors ${JSON.stringify([...spec.named.values()].map((s) => [...s]))})`,
    );
  if (stats) stats.accepted++;
  if (
    f.data.buffer !== bytes.buffer ||
    f.data.byteOffset !== bytes.byteOffset + 8 + spec.headerLength ||
    f.data.byteLength !== spec.dataLength
  ) {
    throw new Error('the data section is not the view of the file after the header');
  }
  const meta = Object.entries(f.metadata).sort();
  const want = [...spec.metadata].sort();
  if (JSON.stringify(meta) !== JSON.stringify(want))
    throw new Error(`metadata ${JSON.stringify(meta)} ≠ header's ${JSON.stringify(want)}`);
  if (f.tensors.size !== spec.tensors.length)
    throw new Error(`${f.tensors.size} tensors, the header has ${spec.tensors.length}`);
  for (const t of spec.tensors) {
    const got = f.tensors.get(t.name);
    if (
      !got ||
      got.dtype !== t.dtype ||
      got.begin !== t.begin ||
      got.end !== t.end ||
      got.shape.length !== t.shape.length ||
      got.shape.some((d, k) => d !== t.shape[k])
    ) {
      throw new Error(
        `tensor ${JSON.stringify(t.name)}: read ${JSON.stringify(got)}, header says ${JSON.stringify(t)}`,
      );
    }
    const count = t.shape.reduce((p, d) => p * d, 1);
    probe.reset();
    let values: ArrayLike<number>;
    try {
      values = probe.run(4 * count, () => tensorData(f, t.name, 'fuzz.safetensors'));
    } catch (e) {
      const ref = referenceValues(
        t.dtype,
        bytes.subarray(8 + spec.headerLength + t.begin, 8 + spec.headerLength + t.end),
      );
      // an I64 value past 32 bits is refused, not truncated
      const i64Refused = t.dtype === 'I64' && e instanceof ModelFormatError && e.rule === 'i64-range';
      if (i64Refused && e.tensor === t.name && ref.some(Number.isNaN)) continue;
      throw new Error(`tensorData(${JSON.stringify(t.name)}) threw ${(e as Error)?.stack ?? e}`);
    }
    if (values.length !== count)
      throw new Error(
        `tensorData(${JSON.stringify(t.name)}) has ${values.length} values, shape ${JSON.stringify(t.shape)} holds ${count}`,
      );
    const ref = referenceValues(
      t.dtype,
      bytes.subarray(8 + spec.headerLength + t.begin, 8 + spec.headerLength + t.end),
    );
    for (let k = 0; k < count; k++) {
      if (!same(values[k], ref[k]))
        throw new Error(`tensorData(${JSON.stringify(t.name)})[${k}] = ${values[k]}, the bytes hold ${ref[k]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// seed files

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

/** A safetensors file from header text and data, the length field saying exactly the text's length. */
export function assemble(headerText: string | Uint8Array, data: Uint8Array, declaredLength?: bigint): Uint8Array {
  const h = typeof headerText === 'string' ? new TextEncoder().encode(headerText) : headerText;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const pattern = (n: number, salt = 0) => Uint8Array.from({ length: n }, (_, k) => (k * 131 + salt * 29 + 7) & 255);

let seedCache: Seed[] | undefined;

/** Valid files the mutations start from: exporter output (fixtures) and hand-made corner cases. */
export function seedFiles(): Seed[] {
  if (seedCache) return seedCache;
  const seeds: Seed[] = [];
  seeds.push({
    name: 'writer-mixed',
    bytes: writeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, -0]) },
        { name: 'b', dtype: 'I32', shape: [2], data: Int32Array.from([-7, 9]) },
        { name: 'c', dtype: 'U32', shape: [1, 1], data: Uint32Array.from([4e9]) },
        { name: 'h', dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0x7c00, 0x0001]) },
      ],
      { note: 'x', format: 'pt' },
    ),
  });
  // every dtype, header keys in an order other than the offsets' (readers must sort)
  const dtypes: [string, number[], number][] = [
    ['F64', [2], 8],
    ['BF16', [2, 2], 2],
    ['I64', [1], 8],
    ['I16', [3], 2],
    ['U16', [1], 2],
    ['I8', [5], 1],
    ['U8', [2, 2], 1],
    ['BOOL', [3], 1],
    ['F32', [], 4],
    ['F16', [1, 1, 2], 2],
  ];
  let off = 0;
  const entries: [string, unknown][] = [];
  for (const [dt, shape, size] of dtypes) {
    const n = shape.reduce((p, d) => p * d, 1) * size;
    entries.push([`t_${dt.toLowerCase()}`, { dtype: dt, shape, data_offsets: [off, off + n] }]);
    off += n;
  }
  entries.reverse();
  seeds.push({ name: 'all-dtypes', bytes: assemble(JSON.stringify(Object.fromEntries(entries)), pattern(off, 1)) });
  // empty tensors (shape with a 0, at the start, the middle and the end) and a scalar
  seeds.push({
    name: 'empty-tensors',
    bytes: assemble(
      JSON.stringify({
        z0: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
        s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
        z1: { dtype: 'I8', shape: [3, 0, 2], data_offsets: [4, 4] },
        u: { dtype: 'U8', shape: [4], data_offsets: [4, 8] },
        z2: { dtype: 'BF16', shape: [0, 7], data_offsets: [8, 8] },
      }) + '    ',
      pattern(8, 2),
    ),
  });
  seeds.push({ name: 'no-tensors', bytes: assemble('{"__metadata__":{"k":"v","":""}}', new Uint8Array(0)) });
  seeds.push({ name: 'empty-header', bytes: assemble('{}  ', new Uint8Array(0)) });
  for (const dir of ['tiny-bidir', 'tiny-twostream']) {
    seeds.push({ name: `${dir}/golden`, bytes: new Uint8Array(readFileSync(`${FIXTURES}${dir}/golden.safetensors`)) });
  }
  for (const s of seeds) {
    const spec = specCheck(s.bytes);
    if (!spec.ok) throw new Error(`seed ${s.name} is not valid: ${[...spec.rules].join(', ')}`);
  }
  return (seedCache = seeds);
}

// ---------------------------------------------------------------------------------------------
// safetensors mutations

/** JSON text emitted verbatim (numbers JSON.stringify cannot write: "-0", 1e400, long literals). */
export interface Raw {
  raw: string;
}
const raw = (text: string): Raw => ({ raw: text });
const isRaw = (v: unknown): v is Raw =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as Raw).raw === 'string';

/** Serialise JSON where objects are given as [key, value][] pairs (duplicates allowed) or plain objects. */
function ser(v: unknown): string {
  if (isRaw(v)) return v.raw;
  if (v instanceof Pairs) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

class Pairs {
  constructor(public pairs: [string, unknown][]) {}
}

const BIG = [2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 2 ** 64, 1e300];
const odd = [-1, 1.5, raw('-0'), raw('1e400'), raw('4.0'), raw('1' + '0'.repeat(450)), '2', null, true, [2], {}];
const dimValue = fc.oneof(
  { arbitrary: fc.nat(4), weight: 4 },
  { arbitrary: fc.constantFrom(...BIG), weight: 2 },
  { arbitrary: fc.constantFrom(...odd), weight: 2 },
);
const offsetValue = fc.oneof(
  { arbitrary: fc.nat(64), weight: 4 },
  { arbitrary: fc.constantFrom(...BIG), weight: 2 },
  { arbitrary: fc.constantFrom(...odd), weight: 2 },
);
const DTYPES = [...SPEC_ITEMSIZE.keys()];
const dtypeValue = fc.oneof(
  { arbitrary: fc.constantFrom(...DTYPES), weight: 4 },
  {
    arbitrary: fc.constantFrom(
      'toString',
      'constructor',
      '__proto__',
      'hasOwnProperty',
      'valueOf',
      'f32',
      'F8',
      'F32 ',
      '',
      'I4',
      'C64',
    ),
    weight: 2,
  },
  { arbitrary: fc.constantFrom(null, 4, ['F32'], {}, true), weight: 1 },
);
const nameValue = fc.oneof(
  fc.constantFrom(
    '__proto__',
    '__metadata__',
    'constructor',
    'toString',
    '',
    'a',
    'x',
    '0',
    '1',
    'é',
    '\u0000',
    '\ud800',
    'w'.repeat(300),
  ),
  fc.string({ maxLength: 4 }),
);
const anyValue = fc.oneof(
  fc.constantFrom(null, 0, 1, -1, 1.5, '', 's', true, [], {}, [0, 4], { dtype: 'F32' }),
  fc.jsonValue({ maxDepth: 2 }),
);

export type HeaderOp =
  | { op: 'dtype'; i: number; v: unknown }
  | { op: 'shape'; i: number; kind: 'set' | 'push' | 'pop' | 'replace'; at: number; v: unknown }
  | {
      op: 'offsets';
      i: number;
      kind: 'shift' | 'begin' | 'end' | 'swap' | 'alias' | 'overlap' | 'length' | 'replace';
      j: number;
      v: unknown;
    }
  | { op: 'field'; i: number; kind: 'add' | 'delete'; key: string; v: unknown }
  | { op: 'entry'; i: number; kind: 'duplicate' | 'rename' | 'remove' | 'replace'; v: unknown }
  | { op: 'add'; name: unknown; dtype: string; shape: number[]; at: number }
  | { op: 'metadata'; kind: 'set' | 'key'; key: unknown; v: unknown }
  | { op: 'top'; v: unknown }
  | { op: 'deep'; i: number; depth: number };

const headerOp: fc.Arbitrary<HeaderOp> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('dtype' as const), i: fc.nat(), v: dtypeValue }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('shape' as const),
      i: fc.nat(),
      kind: fc.constantFrom('set' as const, 'push' as const, 'pop' as const, 'replace' as const),
      at: fc.nat(),
      v: fc.oneof(dimValue, anyValue),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('offsets' as const),
      i: fc.nat(),
      kind: fc.constantFrom(
        'shift' as const,
        'begin' as const,
        'end' as const,
        'swap' as const,
        'alias' as const,
        'overlap' as const,
        'length' as const,
        'replace' as const,
      ),
      j: fc.nat(),
      v: fc.oneof(fc.integer({ min: -8, max: 8 }), offsetValue),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('offsets' as const),
      i: fc.nat(),
      kind: fc.constantFrom('alias' as const, 'overlap' as const),
      j: fc.nat(),
      v: fc.integer({ min: -8, max: 8 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('field' as const),
      i: fc.nat(),
      kind: fc.constantFrom('add' as const, 'delete' as const),
      key: fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra', '__proto__', 'offsets'),
      v: anyValue,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('entry' as const),
      i: fc.nat(),
      kind: fc.constantFrom('duplicate' as const, 'rename' as const, 'remove' as const, 'replace' as const),
      v: fc.oneof(nameValue, anyValue),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      name: nameValue,
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(fc.nat(3), { maxLength: 3 }),
      at: fc.oneof(fc.constant(-1), fc.nat(64)),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('metadata' as const),
      kind: fc.constantFrom('set' as const, 'key' as const),
      key: nameValue,
      v: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('metadata' as const),
      kind: fc.constant('key' as const),
      key: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
      v: fc.string({ maxLength: 3 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('top' as const), v: fc.constantFrom(null, [], '{}', 1, [{}]) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('deep' as const), i: fc.nat(), depth: fc.integer({ min: 60, max: 70 }) }),
    weight: 1,
  },
);

export type Pad = { kind: 'none' | 'spaces' | 'align8' | 'ws' | 'nul' | 'lead' | 'bom' | 'x'; k: number };
export type DataOp = { kind: 'keep' | 'fit' | 'grow' | 'shrink'; k: number };
export type LengthOp = { kind: 'exact' | 'delta' | 'set'; v: number | bigint };
export type TextOp = { op: 'insert' | 'delete' | 'replace'; at: number; ch: string };
export type ByteOp =
  | { op: 'truncate'; frac: number }
  | { op: 'set'; at: number; v: number; region: 'length' | 'header' | 'data' | 'any' }
  | { op: 'insert'; at: number; v: number[] }
  | { op: 'delete'; at: number; count: number }
  | { op: 'append'; trailer: 'zip' | 'json' | 'bytes' | 'nul' };

export interface FileMutation {
  seed: number;
  header: HeaderOp[];
  pad: Pad;
  data: DataOp;
  length: LengthOp;
  text: TextOp[];
  bytes: ByteOp[];
}

const mostlyEmpty = <T>(a: fc.Arbitrary<T>, weightEmpty: number, max: number) =>
  fc.oneof(
    { arbitrary: fc.constant([] as T[]), weight: weightEmpty },
    { arbitrary: fc.array(a, { minLength: 1, maxLength: max }), weight: 1 },
  );

export const fileMutation: fc.Arbitrary<FileMutation> = fc.record({
  seed: fc.nat(),
  header: mostlyEmpty(headerOp, 1, 3),
  pad: fc.record({
    kind: fc.oneof(
      { arbitrary: fc.constantFrom<Pad['kind']>('none', 'spaces', 'align8', 'ws'), weight: 6 },
      { arbitrary: fc.constantFrom<Pad['kind']>('nul', 'lead', 'bom', 'x'), weight: 1 },
    ),
    k: fc.nat(9),
  }),
  data: fc.oneof(
    { arbitrary: fc.constant<DataOp>({ kind: 'keep', k: 0 }), weight: 3 },
    { arbitrary: fc.constant<DataOp>({ kind: 'fit', k: 0 }), weight: 4 },
    {
      arbitrary: fc.record({
        kind: fc.constantFrom<DataOp['kind']>('grow', 'shrink'),
        k: fc.integer({ min: 1, max: 16 }),
      }),
      weight: 1,
    },
  ),
  length: fc.oneof(
    { arbitrary: fc.constant<LengthOp>({ kind: 'exact', v: 0 }), weight: 16 },
    { arbitrary: fc.record({ kind: fc.constant('delta' as const), v: fc.integer({ min: -9, max: 9 }) }), weight: 1 },
    {
      arbitrary: fc.record({
        kind: fc.constant('set' as const),
        v: fc.oneof(
          fc.constantFrom<number | bigint>(
            0,
            1,
            2,
            7,
            8,
            DEFAULT_MAX_HEADER,
            DEFAULT_MAX_HEADER + 1,
            2 ** 32,
            2 ** 40,
            2 ** 53,
            2n ** 60n,
            2n ** 63n,
            2n ** 64n - 1n,
          ),
          fc.nat(),
        ),
      }),
      weight: 1,
    },
  ),
  text: mostlyEmpty(
    fc.record({
      op: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const),
      at: fc.nat(),
      ch: fc.constantFrom(
        '{',
        '}',
        '"',
        ',',
        ':',
        '[',
        ']',
        '\\',
        '\u0000',
        ' ',
        '\n',
        '0',
        '-',
        'é',
        '\ud800',
        '\ufeff',
      ),
    }),
    10,
    2,
  ),
  bytes: mostlyEmpty(
    fc.oneof(
      fc.record({ op: fc.constant('truncate' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({
        op: fc.constant('set' as const),
        at: fc.nat(),
        v: fc.nat(255),
        region: fc.constantFrom('length' as const, 'header' as const, 'data' as const, 'any' as const),
      }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        v: fc.array(fc.nat(255), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({
        op: fc.constant('append' as const),
        trailer: fc.constantFrom('zip' as const, 'json' as const, 'bytes' as const, 'nul' as const),
      }),
    ),
    5,
    3,
  ),
});

const TRAILERS: Record<string, Uint8Array> = {
  // an empty zip archive's end-of-central-directory record: the file is then also a (empty) zip
  zip: Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]),
  json: new TextEncoder().encode('{"hidden":"payload"}'),
  bytes: pattern(5, 9),
  nul: new Uint8Array(3),
};

/** The tensor entries (not __metadata__) whose value is an object with data_offsets we can read. */
const entryIndex = (pairs: [string, unknown][], i: number): number | undefined => {
  const idx = pairs.map((p, k) => (p[0] === '__metadata__' ? -1 : k)).filter((k) => k >= 0);
  return idx.length ? idx[i % idx.length] : undefined;
};

function offsetsOf(v: unknown): number[] | undefined {
  if (!isPlainObject(v) || !Array.isArray(v.data_offsets)) return undefined;
  return v.data_offsets.every((x) => typeof x === 'number') ? (v.data_offsets as number[]) : undefined;
}

function applyHeaderOp(pairs: [string, unknown][], op: HeaderOp): unknown {
  if (op.op === 'top') return op.v;
  if (op.op === 'add') {
    const size = op.shape.reduce((p, d) => p * d, 1) * Number(SPEC_ITEMSIZE.get(op.dtype));
    const end = Math.max(0, ...pairs.map((p) => offsetsOf(p[1])?.[1] ?? 0).filter(Number.isSafeInteger));
    const begin = op.at < 0 ? end : op.at;
    pairs.push([
      typeof op.name === 'string' ? op.name : String(op.name),
      { dtype: op.dtype, shape: op.shape, data_offsets: [begin, begin + size] },
    ]);
    return undefined;
  }
  if (op.op === 'metadata') {
    const m = pairs.find((p) => p[0] === '__metadata__');
    if (op.kind === 'set') {
      if (m) m[1] = op.v;
      else pairs.unshift(['__metadata__', op.v]);
    } else {
      const key = typeof op.key === 'string' ? op.key : 'k';
      if (m && isPlainObject(m[1])) m[1] = new Pairs([...Object.entries(m[1]), [key, op.v]]);
      else if (m && m[1] instanceof Pairs) m[1].pairs.push([key, op.v]);
      else pairs.unshift(['__metadata__', new Pairs([[key, op.v]])]);
    }
    return undefined;
  }
  const k = entryIndex(pairs, op.i);
  if (k === undefined) return undefined;
  const [name, value] = pairs[k];
  if (op.op === 'entry') {
    if (op.kind === 'duplicate') pairs.splice(k + 1, 0, [name, structuredClone(value)]);
    else if (op.kind === 'remove') pairs.splice(k, 1);
    else if (op.kind === 'rename') pairs[k] = [typeof op.v === 'string' ? op.v : ser(op.v), value];
    else pairs[k] = [name, op.v];
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const e = value;
  switch (op.op) {
    case 'dtype':
      e.dtype = op.v;
      break;
    case 'deep': {
      let v: unknown = [];
      for (let d = 0; d < op.depth; d++) v = [v];
      e.shape = v; // nesting depth ≈ op.depth + 3
      break;
    }
    case 'field':
      if (op.kind === 'delete') delete e[op.key];
      else e[op.key] = op.v;
      break;
    case 'shape': {
      if (op.kind === 'replace') {
        e.shape = op.v;
        break;
      }
      if (!Array.isArray(e.shape)) break;
      const s = [...(e.shape as unknown[])];
      if (op.kind === 'push') s.push(op.v);
      else if (op.kind === 'pop') s.pop();
      else if (s.length) s[op.at % s.length] = op.v;
      else s.push(op.v);
      e.shape = s;
      break;
    }
    case 'offsets': {
      const o = Array.isArray(e.data_offsets) ? [...(e.data_offsets as unknown[])] : [0, 0];
      const otherEntry = pairs[entryIndex(pairs, op.j) ?? k][1];
      const other = offsetsOf(otherEntry) ?? [0, 0];
      const d = typeof op.v === 'number' && Number.isSafeInteger(op.v) ? op.v : 1;
      switch (op.kind) {
        case 'shift':
          e.data_offsets = o.map((x) => (typeof x === 'number' ? x + d : x));
          break;
        case 'begin':
          o[0] = op.v;
          e.data_offsets = o;
          break;
        case 'end':
          o[1] = op.v;
          e.data_offsets = o;
          break;
        case 'swap':
          e.data_offsets = [o[1], o[0]];
          break;
        case 'alias': // two names over the same bytes, each consistent on its own
          if (isPlainObject(otherEntry))
            Object.assign(e, structuredClone({ dtype: otherEntry.dtype, shape: otherEntry.shape }));
          e.data_offsets = [...other];
          break;
        case 'overlap': {
          // the same length, moved to start inside the other tensor
          const own = offsetsOf(e) ?? [0, 0];
          e.data_offsets = [other[0] + Math.abs(d), other[0] + Math.abs(d) + own[1] - own[0]];
          break;
        }
        case 'length':
          e.data_offsets = d % 3 === 0 ? o.slice(0, 1) : [...o, op.v];
          break;
        case 'replace':
          e.data_offsets = op.v;
          break;
      }
      break;
    }
  }
  return undefined;
}

/** Split a valid seed into its header entries (in text order) and its data section. */
function splitSeed(bytes: Uint8Array): { pairs: [string, unknown][]; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return { pairs: Object.entries(header), data: bytes.subarray(8 + n) };
}

/** Build the mutated file a FileMutation describes. */
export function applyFileMutation(m: FileMutation, seeds = seedFiles()): Uint8Array {
  const seed = seeds[m.seed % seeds.length];
  const { pairs, data: seedData } = splitSeed(seed.bytes);
  let top: unknown;
  for (const op of m.header) {
    const t = applyHeaderOp(pairs, op);
    if (t !== undefined) top = t;
  }
  let text = top !== undefined ? ser(top) : ser(new Pairs(pairs));
  for (const t of m.text) {
    const at = text.length ? t.at % (text.length + (t.op === 'insert' ? 1 : 0)) : 0;
    if (t.op === 'insert') text = text.slice(0, at) + t.ch + text.slice(at);
    else if (t.op === 'delete') text = text.slice(0, at) + text.slice(at + 1);
    else text = text.slice(0, at) + t.ch + text.slice(at + 1);
  }
  const enc = new TextEncoder();
  let head: Uint8Array = enc.encode(text);
  const withPad = (pad: string, lead = false) => enc.encode(lead ? pad + text : text + pad);
  switch (m.pad.kind) {
    case 'spaces':
      head = withPad(' '.repeat(m.pad.k));
      break;
    case 'align8':
      head = withPad(' '.repeat((8 - ((8 + head.length) % 8)) % 8));
      break;
    case 'ws':
      head = withPad(' \t\n\r'.repeat(1 + (m.pad.k % 3)).slice(0, 1 + m.pad.k));
      break;
    case 'nul':
      head = withPad('\u0000'.repeat(1 + m.pad.k));
      break;
    case 'lead':
      head = withPad(' '.repeat(1 + (m.pad.k % 3)), true);
      break;
    case 'bom':
      head = concat(Uint8Array.from([0xef, 0xbb, 0xbf]), head);
      break;
    case 'x':
      head = withPad(' '.repeat(m.pad.k) + 'x');
      break;
    case 'none':
      break;
  }
  let data = seedData;
  if (m.data.kind === 'fit') {
    // resize the data section to the largest declared end, so that a header edit that still tiles
    // the buffer yields a valid file (tests the accept path, not only rejections)
    const ends = pairs
      .map((p) => offsetsOf(p[1])?.[1])
      .filter((e): e is number => typeof e === 'number' && Number.isSafeInteger(e) && e >= 0 && e <= 1 << 16);
    const end = ends.length ? Math.max(...ends) : 0;
    data = new Uint8Array(end);
    data.set(seedData.subarray(0, end));
    if (end > seedData.length) data.set(pattern(end - seedData.length, 3), seedData.length);
  } else if (m.data.kind === 'grow') {
    data = concat(seedData, pattern(m.data.k, 4));
  } else if (m.data.kind === 'shrink') {
    data = seedData.subarray(0, Math.max(0, seedData.length - m.data.k));
  }
  let declared = BigInt(head.length);
  if (m.length.kind === 'delta') declared = declared + BigInt(m.length.v) < 0n ? 0n : declared + BigInt(m.length.v);
  else if (m.length.kind === 'set') declared = BigInt(m.length.v);
  let b = assemble(head, data, declared);
  for (const op of m.bytes) {
    switch (op.op) {
      case 'truncate':
        b = b.slice(0, Math.floor(b.length * op.frac));
        break;
      case 'set': {
        if (!b.length) break;
        const lo =
          op.region === 'data'
            ? Math.min(b.length - 1, 8 + head.length)
            : op.region === 'header'
              ? Math.min(b.length - 1, 8)
              : 0;
        const hi =
          op.region === 'length'
            ? Math.min(b.length, 8)
            : op.region === 'header'
              ? Math.min(b.length, 8 + head.length)
              : b.length;
        b = b.slice();
        b[lo + (op.at % Math.max(1, hi - lo))] = op.v;
        break;
      }
      case 'insert': {
        const at = op.at % (b.length + 1);
        b = concat(b.subarray(0, at), Uint8Array.from(op.v), b.subarray(at));
        break;
      }
      case 'delete': {
        const at = op.at % Math.max(1, b.length);
        b = concat(b.subarray(0, at), b.subarray(at + op.count));
        break;
      }
      case 'append':
        b = concat(b, TRAILERS[op.trailer]);
        break;
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// manifests

let manifestCache: { name: string; text: string }[] | undefined;

/** Valid manifests: the fixtures' (transformers) and the first committed model of every other architecture type
 * (ONNX: of every graph kind). */
export function seedManifests(): { name: string; text: string }[] {
  if (manifestCache) return manifestCache;
  const out: { name: string; text: string }[] = [];
  for (const dir of ['tiny-bidir', 'tiny-twostream', 'tiny-mam-softplus'])
    out.push({ name: dir, text: readFileSync(`${FIXTURES}${dir}/manifest.json`, 'utf8') });
  const types = new Set(['transformer']);
  if (existsSync(MODELS)) {
    for (const d of readdirSync(MODELS).sort()) {
      if (!existsSync(`${MODELS}${d}/manifest.json`)) continue;
      const text = readFileSync(`${MODELS}${d}/manifest.json`, 'utf8');
      const arch = (JSON.parse(text) as { architecture?: { type?: string; kind?: string } }).architecture;
      // one of each architecture type, and of each ONNX graph kind
      const type = `${arch?.type ?? ''}${arch?.type === 'onnx' ? `:${arch.kind}` : ''}`;
      if (types.has(type)) continue;
      types.add(type);
      out.push({ name: d, text });
    }
  }
  for (const s of out) validateManifest(JSON.parse(s.text));
  return (manifestCache = out);
}

export type ManifestEdit =
  | { op: 'path'; path: number[]; kind: 'set' | 'delete' | 'push'; v: unknown }
  | { op: 'file'; i: number; key: 'path' | 'sha256' | 'bytes' | 'role' | 'x'; kind: 'set' | 'delete'; v: unknown }
  | { op: 'files'; kind: 'push' | 'set' | 'clear'; v: unknown }
  | {
      op: 'nested';
      parent: 'architecture' | 'tokenizer' | 'diffusion';
      key: string;
      kind: 'set' | 'delete';
      v: unknown;
    }
  | { op: 'top'; key: string; kind: 'set' | 'delete'; v: unknown }
  | { op: 'element'; list: 'vocab' | 'classes'; i: number; v: unknown };

export interface ManifestMutation {
  seed: number;
  edits: ManifestEdit[];
  text: TextOp[];
  dupKey: string | null;
  bytes: ByteOp[];
}

const manifestValue = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      null,
      true,
      0,
      1,
      -1,
      0.5,
      3,
      2 ** 20,
      2 ** 20 + 1,
      2 ** 53,
      1e308,
      -0,
      '',
      '.',
      '..',
      'a/b',
      '../x',
      './m',
      'm\\x',
      'model.safetensors',
      'x'.repeat(100),
      'A'.repeat(64),
      '0'.repeat(64),
      'g'.repeat(64),
      [],
      [null],
      [1, 2],
      {},
      { a: 1 },
      'weights',
      'golden',
      'transformer',
      'dit',
      'cnn',
      'textcnn',
      'epsilon',
      'linear',
      'char',
      'samplescope-model/1',
    ),
    weight: 4,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
);
const ARCH_KEYS = [
  'type',
  'attention',
  'norm',
  'activation',
  'norm_eps',
  'positional',
  'vocab_size',
  'd_model',
  'n_layers',
  'n_heads',
  'd_ff',
  'max_len',
  'n_classes',
  'rope_base',
  'image_size',
  'channels',
  'patch',
  'layers',
  'heads',
  't_dim',
  'c1',
  'c2',
  'hidden',
  'emb',
  'kernel',
  'length',
];
const NESTED_KEYS = [
  'type',
  'vocab',
  'mask_id',
  'prediction',
  'timesteps',
  'beta_schedule',
  'beta_start',
  'beta_end',
  'null_class',
  'image_range',
];
const TOP_KEYS = [
  'format',
  'name',
  'architecture',
  'tokenizer',
  'classes',
  'null_class',
  'files',
  'diffusion',
  'training',
  'metrics',
];

export const manifestMutation: fc.Arbitrary<ManifestMutation> = fc.record({
  seed: fc.nat(),
  edits: fc.array(
    fc.oneof(
      fc.record({
        op: fc.constant('path' as const),
        path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        kind: fc.constantFrom('set' as const, 'delete' as const, 'push' as const),
        v: manifestValue,
      }),
      fc.record({
        op: fc.constant('file' as const),
        i: fc.nat(),
        key: fc.constantFrom('path' as const, 'sha256' as const, 'bytes' as const, 'role' as const, 'x' as const),
        kind: fc.constantFrom('set' as const, 'delete' as const),
        v: manifestValue,
      }),
      fc.record({
        op: fc.constant('file' as const),
        i: fc.nat(),
        key: fc.constant('path' as const),
        kind: fc.constant('set' as const),
        v: fc.constantFrom(
          '.',
          '..',
          '...',
          'a/b',
          '../x',
          './m',
          'm\\x',
          '/etc/passwd',
          'C:x',
          '',
          ' m',
          '%2e%2e',
          'é.safetensors',
          '.hidden',
          'model.safetensors',
        ),
      }),
      fc.record({
        op: fc.constant('files' as const),
        kind: fc.constantFrom('push' as const, 'set' as const, 'clear' as const),
        v: manifestValue,
      }),
      fc.record({
        op: fc.constant('nested' as const),
        parent: fc.constant('architecture' as const),
        key: fc.constantFrom(...ARCH_KEYS),
        kind: fc.constantFrom('set' as const, 'delete' as const),
        v: manifestValue,
      }),
      // containers where numbers or strings belong: parseStrictJson makes them null-prototype objects
      fc.record({
        op: fc.constant('nested' as const),
        parent: fc.constantFrom('tokenizer' as const, 'diffusion' as const),
        key: fc.constantFrom(...NESTED_KEYS),
        kind: fc.constantFrom('set' as const, 'delete' as const),
        v: fc.oneof(manifestValue, fc.constantFrom({}, { a: 1 }, [], [1])),
      }),
      fc.record({
        op: fc.constant('top' as const),
        key: fc.constantFrom(...TOP_KEYS),
        kind: fc.constantFrom('set' as const, 'delete' as const),
        v: manifestValue,
      }),
      fc.record({
        op: fc.constant('element' as const),
        list: fc.constantFrom('vocab' as const, 'classes' as const),
        i: fc.nat(),
        v: manifestValue,
      }),
    ),
    { maxLength: 3 },
  ),
  text: mostlyEmpty(
    fc.record({
      op: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const),
      at: fc.nat(),
      ch: fc.constantFrom('{', '}', '"', ',', ':', '[', ']', '\\', '\u0000', ' ', '0', 'é', '\ufeff'),
    }),
    6,
    2,
  ),
  dupKey: fc.oneof(
    { arbitrary: fc.constant(null), weight: 8 },
    { arbitrary: fc.constantFrom('format', 'name', 'files', 'architecture'), weight: 1 },
  ),
  bytes: mostlyEmpty(
    fc.oneof(
      fc.record({ op: fc.constant('truncate' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({
        op: fc.constant('set' as const),
        at: fc.nat(),
        v: fc.constantFrom(0x80, 0xc0, 0xff, 0xed, 0x00, 0x22),
        region: fc.constant('any' as const),
      }),
    ),
    8,
    1,
  ),
});

/** Build the manifest bytes a ManifestMutation describes. */
export function applyManifestMutation(m: ManifestMutation, seeds = seedManifests()): Uint8Array {
  const o = JSON.parse(seeds[m.seed % seeds.length].text) as Record<string, unknown>;
  for (const e of m.edits) {
    if (e.op === 'top') {
      if (e.kind === 'delete') delete o[e.key];
      else o[e.key] = structuredClone(e.v);
    } else if (e.op === 'element') {
      const list = e.list === 'classes' ? o.classes : isPlainObject(o.tokenizer) ? o.tokenizer.vocab : undefined;
      if (Array.isArray(list) && list.length) list[e.i % list.length] = structuredClone(e.v);
    } else if (e.op === 'nested') {
      const parent = o[e.parent];
      if (!isPlainObject(parent)) continue;
      if (e.kind === 'delete') delete parent[e.key];
      else parent[e.key] = structuredClone(e.v);
    } else if (e.op === 'files') {
      if (e.kind === 'clear') o.files = [];
      else if (e.kind === 'set') o.files = structuredClone(e.v);
      else if (Array.isArray(o.files)) o.files.push(structuredClone(e.v));
    } else if (e.op === 'file') {
      if (!Array.isArray(o.files) || !o.files.length) continue;
      const f = o.files[e.i % o.files.length];
      if (!isPlainObject(f)) continue;
      if (e.kind === 'delete') delete f[e.key];
      else f[e.key] = structuredClone(e.v);
    } else {
      // walk a random path, then edit there
      let cur: unknown = o;
      for (let d = 0; d < e.path.length - 1; d++) {
        const keys = Array.isArray(cur) ? cur.map((_, k) => k) : isPlainObject(cur) ? Object.keys(cur) : [];
        if (!keys.length) break;
        const next = (cur as Record<string | number, unknown>)[keys[e.path[d] % keys.length]];
        if (typeof next !== 'object' || next === null) break;
        cur = next;
      }
      const last = e.path[e.path.length - 1];
      if (Array.isArray(cur)) {
        if (e.kind === 'push') cur.push(structuredClone(e.v));
        else if (cur.length && e.kind === 'delete') cur.splice(last % cur.length, 1);
        else if (cur.length) cur[last % cur.length] = structuredClone(e.v);
      } else if (isPlainObject(cur)) {
        const keys = Object.keys(cur);
        if (!keys.length) continue;
        if (e.kind === 'delete') delete cur[keys[last % keys.length]];
        else cur[keys[last % keys.length]] = structuredClone(e.v);
      }
    }
  }
  let text = JSON.stringify(o, null, 1);
  if (m.dupKey)
    text =
      `{${JSON.stringify(m.dupKey)}: ${JSON.stringify(m.dupKey === 'files' || m.dupKey === 'architecture' ? {} : 'x')},` +
      text.slice(1);
  for (const t of m.text) {
    const at = text.length ? t.at % (text.length + (t.op === 'insert' ? 1 : 0)) : 0;
    if (t.op === 'insert') text = text.slice(0, at) + t.ch + text.slice(at);
    else if (t.op === 'delete') text = text.slice(0, at) + text.slice(at + 1);
    else text = text.slice(0, at) + t.ch + text.slice(at + 1);
  }
  let b = new TextEncoder().encode(text);
  for (const op of m.bytes) {
    if (op.op === 'truncate') b = b.slice(0, Math.floor(b.length * op.frac));
    else if (op.op === 'set' && b.length) {
      b = b.slice();
      b[op.at % b.length] = op.v;
    }
  }
  return b;
}

/**
 * loadManifest (src/models/load.ts) on these bytes, without the file system: a source URL whose
 * fetch is answered with them, so the whole real path runs (strict UTF-8, strict JSON, validation).
 */
export async function manifestFromBytes(bytes: Uint8Array): Promise<AnyManifest> {
  const saved = globalThis.fetch;
  globalThis.fetch = async () => new Response(bytes.slice());
  try {
    return await loadManifest('https://fuzz.invalid/model/');
  } finally {
    globalThis.fetch = saved;
  }
}

const ARCH_INTS: Record<string, string[]> = {
  transformer: ['vocab_size', 'd_model', 'n_layers', 'n_heads', 'd_ff', 'max_len'],
  dit: ['image_size', 'channels', 'patch', 'd_model', 'layers', 'heads', 'd_ff', 'n_classes', 't_dim'],
  cnn: ['c1', 'c2', 'hidden', 'n_classes', 'image_size', 'channels'],
  textcnn: ['vocab_size', 'emb', 'channels', 'hidden', 'kernel', 'n_classes', 'length'],
  onnx: ['vocab_size', 'max_len'],
};

/** Rules an accepted manifest must satisfy, checked independently of validateManifest; returns the first broken one. */
export function manifestViolation(m: unknown): string | undefined {
  if (!isPlainObject(m)) return 'not an object';
  if (m.format !== 'samplescope-model/1') return 'format';
  if (typeof m.name !== 'string' || !m.name) return 'name';
  const a = m.architecture;
  if (!isPlainObject(a) || typeof a.type !== 'string' || !(a.type in ARCH_INTS)) return 'architecture.type';
  if (a.type === 'onnx' && !['masked-diffusion', 'causal', 'denoiser'].includes(a.kind as string))
    return 'architecture.kind';
  // an ONNX denoiser has an image shape where text graphs have a vocabulary and a length
  const onnxImage = a.type === 'onnx' && a.kind === 'denoiser';
  for (const k of onnxImage ? ['image_size', 'channels'] : ARCH_INTS[a.type])
    if (!Number.isSafeInteger(a[k]) || (a[k] as number) < 1) return `architecture.${k}`;
  if (!Array.isArray(m.classes) || m.classes.some((c) => typeof c !== 'string')) return 'classes';
  if (a.type === 'transformer' || a.type === 'textcnn' || (a.type === 'onnx' && !onnxImage)) {
    const tok = m.tokenizer;
    const hf = isPlainObject(tok) && tok.type === 'hf' && a.type !== 'textcnn';
    if (hf) {
      // an HF tokenizer.json: a file listed with role "tokenizer"; its special tokens' texts are strings
      const files = Array.isArray(m.files) ? (m.files as unknown[]) : [];
      if (
        typeof tok.file !== 'string' ||
        !files.some((f) => isPlainObject(f) && f.path === tok.file && f.role === 'tokenizer')
      )
        return 'tokenizer.file';
      for (const k of ['mask_token', 'pad_token'])
        if (tok[k] !== undefined && (typeof tok[k] !== 'string' || !tok[k])) return `tokenizer.${k}`;
      if (
        tok.special_tokens !== undefined &&
        (!Array.isArray(tok.special_tokens) || tok.special_tokens.some((t) => typeof t !== 'string' || !t))
      )
        return 'tokenizer.special_tokens';
      if (tok.mask_id !== undefined && tok.mask_token === undefined) return 'tokenizer.mask_id';
      if (tok.clean_up_tokenization_spaces !== undefined && typeof tok.clean_up_tokenization_spaces !== 'boolean')
        return 'tokenizer.clean_up_tokenization_spaces';
    } else if (
      !isPlainObject(tok) ||
      tok.type !== 'char' ||
      !Array.isArray(tok.vocab) ||
      tok.vocab.length !== a.vocab_size ||
      tok.vocab.some((c) => typeof c !== 'string')
    )
      return 'tokenizer.vocab';
  }
  if (a.type === 'onnx') {
    // an ONNX graph: a known kind, every role mapped to a graph name, tokens and logits present, a mask id
    const names = (o: unknown) =>
      isPlainObject(o) && Object.values(o).every((n) => typeof n === 'string' && n.length > 0);
    const inputs = (onnxImage ? ['x', 'timestep'] : ['tokens']) as string[],
      output = onnxImage ? 'eps' : 'logits';
    if (!names(a.inputs) || inputs.some((r) => typeof (a.inputs as Record<string, unknown>)[r] !== 'string'))
      return 'architecture.inputs';
    if (!names(a.outputs) || typeof (a.outputs as Record<string, unknown>)[output] !== 'string')
      return 'architecture.outputs';
    if (onnxImage) {
      if (a.timestep !== 'index' && a.timestep !== 'unit') return 'architecture.timestep';
      const d = m.diffusion;
      if (!isPlainObject(d) || !Number.isSafeInteger(d.timesteps) || (d.timesteps as number) < 1) return 'diffusion';
    } else {
      const inVocab = (v: unknown) =>
        Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < (a.vocab_size as number);
      const tok = m.tokenizer as Record<string, unknown>;
      if (a.kind === 'masked-diffusion' && tok.type === 'char' && !inVocab(tok.mask_id)) return 'tokenizer.mask_id';
      if (a.kind === 'masked-diffusion' && tok.type === 'hf' && typeof tok.mask_token !== 'string')
        return 'tokenizer.mask_token';
      if (a.kind === 'causal' && !inVocab(a.bos_id)) return 'architecture.bos_id';
    }
  }
  if (!Array.isArray(m.files) || !m.files.length) return 'files';
  for (const f of m.files as unknown[]) {
    if (!isPlainObject(f)) return 'files[] is not an object';
    // a plain file name inside the model folder: no separators, and not "." or ".." (which name folders)
    if (typeof f.path !== 'string' || !/^[A-Za-z0-9._-]+$/.test(f.path) || f.path === '.' || f.path === '..')
      return `files[].path ${JSON.stringify(f.path)}`;
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) return 'files[].sha256';
    if (!Number.isSafeInteger(f.bytes) || (f.bytes as number) < 0) return 'files[].bytes';
  }
  const weightsRole = a.type === 'onnx' ? 'onnx' : 'weights';
  if (!(m.files as Record<string, unknown>[]).some((f) => f.role === weightsRole)) return `no ${weightsRole} file`;
  return undefined;
}

/** Check one manifest: accepted and sound, or a typed ModelFormatError about manifest.json. */
export async function checkManifest(bytes: Uint8Array, stats?: FuzzStats): Promise<void> {
  if (stats) stats.tried++;
  let m: AnyManifest;
  try {
    m = await manifestFromBytes(bytes);
  } catch (e) {
    if (!(e instanceof ModelFormatError))
      throw new Error(`untyped exception from manifest validation: ${(e as Error)?.stack ?? e}`);
    countRejection(stats, e);
    if (e.file !== 'manifest.json' || !e.rule.startsWith('manifest-') || !e.message.includes(`[${e.rule}]`))
      throw new Error(`badly labelled manifest error: ${e.message}`);
    return;
  }
  const v = manifestViolation(m);
  if (v) throw new Error(`validateManifest accepted a manifest that breaks ${v}`);
  if (stats) stats.accepted++;
}

/** Printable counts, most frequent first. */
export function formatStats(s: FuzzStats): string {
  const rows = [...s.rejected].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${k.padEnd(36)} ${n}`);
  return [`  tried ${s.tried}, accepted ${s.accepted}, rejected ${s.tried - s.accepted}`, ...rows].join('\n');
}
