/**
 * Streaming load: a model's weight files (one, or the shards of a sharded checkpoint) read in order
 * and uploaded to the backend tensor by tensor as the bytes arrive into one reused read buffer, so
 * the host holds about one tensor (its bytes, plus a converted copy for BF16 → f16 or F32 → f16) instead of the
 * whole checkpoint. Per file: the safetensors header is checked by the same rules as a whole-file
 * parse (parseSafetensors with the manifest's byte count), each tensor's bytes feed an incremental
 * sha256 that must equal the manifest's at the end (fetched files are kept in the Cache API only
 * then), and one progress callback counts bytes across
 * all files. A sharded checkpoint's index (role "weights-index": `{"weight_map": {tensor: shard}}`)
 * must name only files of the folder listed in the manifest (a path with a folder, "..", or absolute
 * is refused: rule "shard-path"), and every tensor must be in the shard it names ("shard-map").
 * A truncated file is a ModelFormatError naming file, tensor and rule "truncated"; on any failure
 * everything uploaded so far is freed — nothing is half-loaded.
 *
 * An architecture may pass a StreamPlan: tensors it reshapes on the host (`host`: kept as host data,
 * not uploaded — small ones only, so the host still holds about one tensor) and a `check` of the
 * safetensors headers against what it expects (names, shapes, what fits the adapter). Where every
 * file can be read out of order (Node paths, a dropped folder's Blobs) all headers are read first and
 * checked together, so a bad shard or a model that cannot fit is refused before the first upload;
 * over fetch a shard's header arrives only after the previous shard's bytes (one pass, no Range
 * requests), so each file's header is checked before that file's uploads and the build checks the
 * rest (anything uploaded by then is freed).
 */
import type { Backend } from '../backend/backend.js';
import { hostArray, type HostArray, type Tensor } from '../backend/tensor.js';
import { IntegrityError, ModelFormatError, ModelLoadError } from '../errors.js';
import { parseStrictJson } from './json.js';
import {
  isNode,
  loadVerified,
  openResponse,
  resolve,
  type LoadedTensor,
  type LoadOptions,
  type WeightPrecision,
} from './load.js';
import { isPlainFileName, type AnyManifest, type ManifestFile } from './manifest.js';
import { parseSafetensors, tensorData, type SafetensorsFile, type TensorInfo } from './safetensors.js';
import { createSha256 } from './sha256.js';
import { narrowToF16 } from './weights.js';

/** What an architecture asks of a streamed load (see the file's header). */
export interface StreamPlan {
  /** before anything is read past the manifest and index (e.g. a budget from the architecture's config) */
  begin?(): void;
  /** keep this tensor on the host (LoadedTensor.data, no `tensor`) for the model to reshape */
  host?(name: string, t: TensorInfo): boolean;
  /**
   * upload this tensor as these parts instead, as it arrives (LoadedTensor.parts; e.g. a fused matrix
   * as its column blocks), so the host never keeps it; undefined: upload it whole
   */
  split?(name: string, t: TensorInfo, data: HostArray): { data: HostArray; shape: number[] }[] | undefined;
  /**
   * Check headers before their tensors are uploaded: `complete` when `tensors` holds every weight
   * file's header, else one file's (throw a typed error to refuse the model).
   */
  check?(tensors: ReadonlyMap<string, HeaderEntry>, complete: boolean): void;
}

/** A tensor as its file's safetensors header describes it. */
export interface HeaderEntry {
  shape: readonly number[];
  dtype: string;
  file: string;
}

/** Sequential bytes of one file: fills `buf` as far as the file goes, returns how many it filled. */
interface ByteSource {
  readInto(buf: Uint8Array): Promise<number>;
  /** `verified`: the whole file passed its checks (a fetched copy stays cached; otherwise it is dropped) */
  close(verified: boolean): Promise<void>;
}

async function openSource(source: string, f: ManifestFile, opts: LoadOptions): Promise<ByteSource> {
  const blob = opts.files?.get(f.path);
  if (opts.files) {
    if (!blob) throw new ModelLoadError(f.path, 'not among the files given (a dropped folder needs every listed file)');
    let pos = 0;
    return {
      async readInto(buf) {
        const part = new Uint8Array(await blob.slice(pos, pos + buf.length).arrayBuffer());
        buf.set(part);
        pos += part.length;
        return part.length;
      },
      close: async () => {},
    };
  }
  const url = resolve(source, f.path);
  if (isNode() && !/^[a-z]+:/i.test(url)) {
    const spec = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ spec)) as typeof import('node:fs/promises');
    let fh: Awaited<ReturnType<typeof fs.open>>;
    try {
      fh = await fs.open(url, 'r');
    } catch (e) {
      throw new ModelLoadError(url, `cannot read: ${(e as Error).message}`, { cause: e });
    }
    let pos = 0;
    return {
      async readInto(buf) {
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, pos);
          if (!bytesRead) break;
          got += bytesRead;
          pos += bytesRead;
        }
        return got;
      },
      close: () => fh.close(),
    };
  }
  // the Cache API as for whole-file loads: a cached copy is read like a download; a download is
  // stored while it is read (a tee) and dropped again unless the whole file verifies
  const { res, cache, fromCache } = await openResponse(url, opts);
  if (!res.body) throw new ModelLoadError(url, 'response has no body');
  const putting = cache && !fromCache ? cache.put(url, res.clone()).catch(() => {}) : undefined;
  // a byte stream is read into one reused 1 MiB buffer (BYOB): the default reader hands out a fresh
  // ArrayBuffer per chunk, which the collector frees late (Chromium, a 153M-parameter load: peak JS memory
  // 1.93× the largest tensor with it, 1.17× with BYOB); a stream that is not a byte stream, as before
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = res.body.getReader({ mode: 'byob' });
  } catch {
    byob = undefined;
  }
  const reader = byob ?? res.body.getReader();
  let bounce = new ArrayBuffer(byob ? 1 << 20 : 0);
  const next = async (): Promise<Uint8Array | undefined> => {
    if (!byob) {
      const r = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      return r.done ? undefined : r.value;
    }
    const r = await byob.read(new Uint8Array(bounce, 0, bounce.byteLength));
    if (r.value) bounce = r.value.buffer as ArrayBuffer; // the read transferred it
    return r.done ? undefined : r.value;
  };
  let chunk: Uint8Array = new Uint8Array(0);
  return {
    async readInto(buf) {
      let got = 0;
      while (got < buf.length) {
        if (!chunk.length) {
          const c = await next();
          if (!c) break;
          chunk = c;
        }
        const n = Math.min(chunk.length, buf.length - got);
        buf.set(chunk.subarray(0, n), got);
        chunk = chunk.subarray(n);
        got += n;
      }
      return got;
    },
    async close(verified) {
      await reader.cancel().catch(() => {});
      await putting;
      if (!verified && cache) await cache.delete(url).catch(() => false);
    },
  };
}

/** The index of a sharded checkpoint: tensor name → shard path, each shard a listed weights file. */
async function readIndex(
  source: string,
  index: ManifestFile,
  shards: ManifestFile[],
  opts: LoadOptions,
): Promise<Map<string, string>> {
  const bytes = await loadVerified(source, index, opts);
  const fail = (rule: string, msg: string, tensor?: string): never => {
    throw new ModelFormatError(rule, msg, tensor, index.path);
  };
  let json: unknown;
  try {
    json = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return fail('index-json', `not strict JSON: ${(e as Error).message}`);
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm))
    fail('index-json', 'weight_map must be an object of tensor name → shard file');
  const listed = new Set(shards.map((s) => s.path));
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (!isPlainFileName(shard))
      fail(
        'shard-path',
        `shard ${JSON.stringify(shard)} is not a file of this folder (no folders, "..", or absolute paths)`,
        name,
      );
    if (!listed.has(shard as string))
      fail('shard-path', `shard ${JSON.stringify(shard)} is not listed in the manifest as a weights file`, name);
    map.set(name, shard as string);
  }
  return map;
}

/**
 * The dtype a streamed floating tensor of file dtype `dtype` and rank `rank` has on the backend:
 * matrices (rank ≥ 2) in the weight precision (default: f16 for F16/BF16 files, else f32), the rest
 * f32; undefined for integer tensors (uploaded as they decode).
 */
export function storedDtype(dtype: string, rank: number, weights?: WeightPrecision): 'f16' | 'f32' | undefined {
  if (!['F16', 'BF16', 'F32', 'F64'].includes(dtype)) return undefined;
  if (rank < 2) return 'f32';
  return weights ?? (dtype === 'F16' || dtype === 'BF16' ? 'f16' : 'f32');
}

/** A tensor's bytes in the form the backend keeps: matrices (rank ≥ 2) in the weight precision, the rest f32. */
function storageForm(t: TensorInfo, bytes: Uint8Array, file: string, opts: LoadOptions): HostArray {
  const one: SafetensorsFile = {
    metadata: {},
    tensors: new Map([[t.name, { ...t, begin: 0, end: bytes.length }]]),
    data: bytes,
  };
  const want = storedDtype(t.dtype, t.shape.length, opts.weights);
  if (!want) return tensorData(one, t.name, file);
  // the bytes sit at offset 0 of the read buffer: F16 and F32 are uploaded in place (little-endian hosts)
  if (want === 'f16' && t.dtype === 'F16') return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  if (want === 'f32' && t.dtype === 'F32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  if (want === 'f16' && t.dtype === 'BF16') return tensorData(one, t.name, file, { f16: true });
  const f32 = tensorData(one, t.name, file) as Float32Array;
  if (want === 'f32') return f32;
  return narrowToF16(f32, t.name, file);
}

const MAX_HEADER = 16 * 1024 * 1024;

/**
 * A file's safetensors header from its source, checked by every header rule against the manifest's
 * byte count; `take(n, what)` reads the next n bytes (throwing when the file ends first).
 */
async function readHeader(
  f: ManifestFile,
  take: (n: number, what: string) => Promise<Uint8Array>,
): Promise<SafetensorsFile> {
  const len = await take(8, 'the header length');
  const big = new DataView(len.buffer, len.byteOffset, 8).getBigUint64(0, true);
  let head = len;
  if (big <= BigInt(MAX_HEADER) && 8 + Number(big) <= f.bytes) {
    head = new Uint8Array(8 + Number(big));
    head.set(len);
    head.set(await take(Number(big), 'the header'), 8);
  }
  // every header rule, against the manifest's byte count (a shorter file is caught as it is read)
  return parseSafetensors(head, { file: f.path, fileBytes: f.bytes, maxHeaderBytes: MAX_HEADER });
}

/** Whether a file can be opened again and read from its start cheaply (a Node path or a given Blob). */
function rereadable(source: string, f: ManifestFile, opts: LoadOptions): boolean {
  return !!opts.files || (isNode() && !/^[a-z]+:/i.test(resolve(source, f.path)));
}

/** The tensors of a file's header as HeaderEntry by name. */
function entries(st: SafetensorsFile, file: string): Map<string, HeaderEntry> {
  return new Map([...st.tensors].map(([n, t]) => [n, { shape: t.shape, dtype: t.dtype, file }]));
}

/**
 * Stream the manifest's weights onto `backend` (see the file's header). Returns the tensors by name,
 * each already uploaded (`tensor`); the model built from them adopts them, the caller frees the rest.
 */
export async function streamWeights(
  source: string,
  manifest: AnyManifest,
  backend: Backend,
  opts: LoadOptions = {},
  plan: StreamPlan = {},
): Promise<Map<string, LoadedTensor>> {
  const files = manifest.files.filter((f) => f.role === 'weights');
  const indexes = manifest.files.filter((f) => f.role === 'weights-index');
  if (indexes.length > 1)
    throw new ModelFormatError(
      'manifest-files',
      'at most one file of role "weights-index"',
      undefined,
      'manifest.json',
    );
  const map = indexes.length ? await readIndex(source, indexes[0], files, opts) : undefined;
  plan.begin?.();
  const total = files.reduce((s, f) => s + f.bytes, 0);
  let loaded = 0;
  const out = new Map<string, LoadedTensor>();
  const uploaded: Tensor[] = [];
  let scratch = new Uint8Array(0);

  const streamFile = async (f: ManifestFile) => {
    const src = await openSource(source, f, opts);
    const hash = await createSha256();
    let pos = 0;
    let verified = false;
    /** `n` bytes; into the shared read buffer when `scratched` (its view is valid until the next take) */
    const take = async (n: number, what: string, tensor?: string, scratched = false): Promise<Uint8Array> => {
      const buf = scratched ? scratch.subarray(0, n) : new Uint8Array(n);
      const got = await src.readInto(buf);
      hash.update(got === n ? buf : buf.subarray(0, got));
      pos += got;
      loaded += got;
      opts.onProgress?.({ file: f.path, loaded, total });
      if (got < n)
        throw new ModelFormatError('truncated', `the file ends at byte ${pos}, inside ${what}`, tensor, f.path);
      return buf;
    };
    try {
      const st = await readHeader(f, take);
      if (!checkedAll) plan.check?.(entries(st, f.path), false);
      // one read buffer, sized once for the file's largest tensor and reused: the backend copies each
      // upload (writeBuffer; the CPU backend's slice), so the host holds one tensor's bytes at a time
      // (allocating per tensor left the previous ones to the garbage collector: 2.3× measured)
      const largest = Math.max(0, ...[...st.tensors.values()].map((t) => t.end - t.begin));
      if (largest > scratch.length) scratch = new Uint8Array(largest);
      for (const t of [...st.tensors.values()].sort((a, b) => a.begin - b.begin)) {
        if (out.has(t.name))
          throw new ModelFormatError('duplicate-name', 'tensor appears in two weight files', t.name, f.path);
        if (map && map.get(t.name) !== f.path)
          throw new ModelFormatError(
            'shard-map',
            `found in ${f.path}, but the index puts it in ${map.get(t.name) ?? 'no shard'}`,
            t.name,
            indexes[0].path,
          );
        const data = storageForm(t, await take(t.end - t.begin, `tensor "${t.name}"`, t.name, true), f.path, opts);
        if (plan.host?.(t.name, t)) {
          // a copy: the read buffer is reused for the next tensor
          out.set(t.name, { shape: t.shape, data: data.buffer === scratch.buffer ? data.slice() : data });
          continue;
        }
        const parts = plan.split?.(t.name, t, data);
        if (parts) {
          const ts = parts.map((p) => {
            const g = backend.tensor(p.data, p.shape, { weight: p.shape.length >= 2 });
            uploaded.push(g);
            return g;
          });
          out.set(t.name, { shape: t.shape, data: hostArray(ts[0].dtype, 0), parts: ts });
          continue;
        }
        const g = backend.tensor(data, t.shape, { weight: t.shape.length >= 2 });
        uploaded.push(g);
        out.set(t.name, { shape: t.shape, data: hostArray(g.dtype, 0), tensor: g });
      }
      if ((await src.readInto(new Uint8Array(1))) > 0)
        throw new IntegrityError(f.path, String(f.bytes), `more than ${f.bytes}`, 'bytes');
      const got = hash.hex();
      if (got !== f.sha256) throw new IntegrityError(f.path, f.sha256, got);
      verified = true;
    } finally {
      await src.close(verified);
    }
  };

  // every header first where files can be read again from the start: all checks before any upload
  let checkedAll = false;
  if (plan.check && files.every((f) => rereadable(source, f, opts))) {
    const all = new Map<string, HeaderEntry>();
    for (const f of files) {
      const src = await openSource(source, f, opts);
      try {
        const take = async (n: number, what: string) => {
          const buf = new Uint8Array(n);
          const got = await src.readInto(buf);
          if (got < n) throw new ModelFormatError('truncated', `the file ends inside ${what}`, undefined, f.path);
          return buf;
        };
        for (const [n, e] of entries(await readHeader(f, take), f.path)) {
          if (all.has(n)) throw new ModelFormatError('duplicate-name', 'tensor appears in two weight files', n, f.path);
          all.set(n, e);
        }
      } finally {
        await src.close(false);
      }
    }
    plan.check(all, true);
    checkedAll = true;
  }

  try {
    for (const f of files) await streamFile(f);
    if (map)
      for (const [name, shard] of map)
        if (!out.has(name))
          throw new ModelFormatError(
            'shard-map',
            `the index puts it in ${shard}, which lacks it`,
            name,
            indexes[0].path,
          );
  } catch (e) {
    for (const t of uploaded) backend.free(t);
    throw e;
  }
  return out;
}

/** Free the streamed tensors no model adopted (unused entries of a checkpoint). */
export function freeUnadopted(weights: Map<string, LoadedTensor>, backend: Backend, all = false): void {
  for (const t of weights.values())
    if (all || !t.adopted) for (const g of t.tensor ? [t.tensor] : (t.parts ?? [])) backend.free(g);
}
