/**
 * Loading a model: manifest → every file fetched (browser: streaming fetch, cached in the Cache API;
 * Node: the file system) → sha256 checked against the manifest before any parsing → safetensors
 * parsed and checked. Failures are typed: ModelLoadError (cannot get it), IntegrityError (sha256),
 * ModelFormatError (manifest or safetensors rules), OriginNotAllowedError (a URL outside the allowed
 * origins, refused before any fetch or cache lookup).
 *
 * A model is data only: the manifest is strict JSON and every file is read as safetensors bytes —
 * nothing from a model is ever imported, evaluated or run as code.
 */
import type { Tensor } from '../backend/tensor.js';
import { IntegrityError, ModelFormatError, ModelLoadError } from '../errors.js';
import { checkOrigin } from './origin.js';
import { parseStrictJson } from './json.js';
import { validateManifest, type AnyManifest, type ManifestFile, type TextManifest } from './manifest.js';
import { CharTokenizer, parseHfTokenizer, type TextTokenizer } from './tokenizer.js';
import { parseSafetensors, tensorData, type SafetensorsFile } from './safetensors.js';

export { allowedOriginsFor, checkOrigin } from './origin.js';

export interface LoadedTensor {
  shape: number[];
  /**
   * values; floating weights stored as F16/BF16 arrive as f16 bits (Uint16Array) unless `weights: 'f32'`.
   * A streamed tensor's values are on the backend (`tensor`): `data` is then an empty array of the
   * type they have there.
   */
  data: Float32Array | Int32Array | Uint32Array | Uint16Array;
  /** a streamed load's upload (src/models/stream.ts), until a model adopts it */
  tensor?: Tensor;
  /**
   * a streamed load's uploads of this tensor in parts instead (StreamPlan.split: GPT-2's fused c_attn as
   * its q, k, v column blocks); `tensor` is then unset
   */
  parts?: Tensor[];
  /** set when a model took ownership of `tensor` / `parts` (the loader frees what no model took) */
  adopted?: boolean;
}

/**
 * How a model keeps its weight matrices (the B operands of its matmuls, its embedding tables, its
 * head) on the backend: 'f16' halves their memory and bandwidth (read widened, accumulated in f32);
 * 'f32' keeps full precision. Vectors (biases, norm gains) and weights other ops read stay f32.
 */
export type WeightPrecision = 'f16' | 'f32';

export interface LoadedModelFiles {
  manifest: AnyManifest;
  /** weights by name */
  weights: Map<string, LoadedTensor>;
  /** parsed files by manifest path (golden vectors, …) */
  files: Map<string, SafetensorsFile>;
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface LoadOptions {
  /** Use the Cache API in browsers (default true). */
  cache?: boolean;
  onProgress?: (p: LoadProgress) => void;
  /** also load files with these roles (default: weights only) */
  roles?: string[];
  /**
   * Origins model URLs may come from, besides the page's (or worker's) own origin, e.g.
   * `['https://cdn.example.org']`; `'*'` allows any. A URL of any other origin is an
   * OriginNotAllowedError before anything is fetched. Where there is no page (Node, no `location`)
   * URLs are unrestricted unless this is given; Node file paths are always allowed.
   */
  allowedOrigins?: string[];
  /**
   * The model's files as Blobs by path (a folder the user dropped, or picked with
   * `<input webkitdirectory>`): read from here instead of fetched — never sent anywhere — and checked
   * exactly as fetched ones (manifest validation, size, sha256). A path the manifest lists that is not
   * here is a ModelLoadError naming it. `source` then only labels the model.
   */
  files?: ReadonlyMap<string, Blob>;
  /**
   * The dtype of the weight matrices on the backend (WeightPrecision). Default: the file's — a matrix
   * stored as F16 or BF16 stays f16 (BF16 converted at load, range-checked: a value beyond ±65504 is a
   * ModelFormatError), one stored as F32 stays f32. 'f16' narrows F32 matrices too (round to nearest
   * even; a value beyond f16's range is a ModelFormatError naming the tensor); 'f32' widens F16/BF16.
   */
  weights?: WeightPrecision;
  /**
   * The most bytes the model may take on its backend: its weights plus the activations of one
   * forward at batch 1 and full length (WebGPU reports no memory size, so the caller states it). A
   * model over it is refused with LimitExceededError (limit "memoryBudget") before anything is
   * uploaded. Default: no budget; the binding limits are checked regardless.
   */
  memoryBudget?: number;
  /**
   * Stream the weights into backend buffers tensor by tensor as they arrive (src/models/stream.ts):
   * the host never holds more than about one tensor. Default: on for a sharded checkpoint (a file of
   * role "weights-index", the `model.safetensors.index.json` of a Hugging Face folder), off otherwise.
   */
  stream?: boolean;
}

export const CACHE_NAME = 'samplescope-models-v1';

export function isNode(): boolean {
  return (
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined'
  );
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const d = await subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  const spec = 'node:crypto';
  const { createHash } = (await import(/* @vite-ignore */ spec)) as typeof import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** A source is a URL (http(s):, blob:, relative to the page) or, in Node, a folder path. */
export function resolve(source: string, file: string): string {
  if (isNode() && !/^[a-z]+:/i.test(source)) return source.replace(/\/?$/, '/') + file;
  const base = typeof location !== 'undefined' ? location.href : undefined;
  return new URL(file, new URL(source.replace(/\/?$/, '/'), base)).href;
}

/** The source of a sibling model folder (a manifest's `onnx_form`): `folder` beside `source`. */
export function siblingSource(source: string, folder: string): string {
  return resolve(source.replace(/\/+$/, ''), `../${folder}`);
}

/**
 * A URL's response: from the Cache API when it holds one (unless `opts.cache` is false), else
 * fetched (origin checked first; an HTTP error is a ModelLoadError). `cache` is where a verified
 * download may be kept.
 */
export async function openResponse(
  url: string,
  opts: LoadOptions,
): Promise<{ res: Response; cache?: Cache; fromCache: boolean }> {
  checkOrigin(url, opts);
  let res: Response | undefined;
  let cache: Cache | undefined;
  if (opts.cache !== false && typeof caches !== 'undefined') {
    try {
      cache = await caches.open(CACHE_NAME);
      res = await cache.match(url);
    } catch {
      cache = undefined; // the Cache API can be unavailable (opaque origins, private mode)
    }
  }
  const fromCache = !!res;
  if (!res) {
    try {
      res = await fetch(url);
    } catch (e) {
      throw new ModelLoadError(url, `fetch failed: ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok) throw new ModelLoadError(url, `HTTP ${res.status} ${res.statusText}`);
  }
  return { res, cache, fromCache };
}

/**
 * Bytes of a file. For fetched files, `keep()` stores the response in the Cache API — called only
 * after the bytes passed verification, so a bad download is never cached.
 */
async function readBytes(
  url: string,
  name: string,
  expectedBytes: number | undefined,
  opts: LoadOptions,
): Promise<{ bytes: Uint8Array; keep: () => Promise<void> }> {
  const none = async () => {};
  if (opts.files) {
    const blob = opts.files.get(name);
    if (!blob) throw new ModelLoadError(name, 'not among the files given (a dropped folder needs every listed file)');
    return { bytes: new Uint8Array(await blob.arrayBuffer()), keep: none };
  }
  if (isNode() && !/^[a-z]+:/i.test(url)) {
    const spec = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ spec)) as typeof import('node:fs/promises');
    try {
      return { bytes: new Uint8Array(await fs.readFile(url)), keep: none };
    } catch (e) {
      throw new ModelLoadError(url, `cannot read: ${(e as Error).message}`, { cause: e });
    }
  }
  const { res, cache, fromCache } = await openResponse(url, opts);
  const total = Number(res.headers.get('content-length')) || expectedBytes || 0;
  if (expectedBytes !== undefined && total && total > expectedBytes && !res.headers.get('content-encoding')) {
    throw new ModelLoadError(url, `server announces ${total} bytes, the manifest ${expectedBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.clone().body?.getReader();
  if (!reader) throw new ModelLoadError(url, 'response has no body');
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.byteLength;
    if (expectedBytes !== undefined && loaded > expectedBytes) {
      await reader.cancel();
      throw new ModelLoadError(url, `more than the manifest's ${expectedBytes} bytes arrived`);
    }
    chunks.push(value);
    opts.onProgress?.({ file: name, loaded, total });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  const response = res;
  const keep = async () => {
    if (!cache || fromCache) return;
    try {
      await cache.put(url, response);
    } catch {
      /* caching is best effort */
    }
  };
  return { bytes: out, keep };
}

/** Fetch one listed file and check its size and sha256 (nothing is parsed before that passes). */
export async function loadVerified(source: string, f: ManifestFile, opts: LoadOptions): Promise<Uint8Array> {
  const url = resolve(source, f.path);
  const { bytes, keep } = await readBytes(url, f.path, f.bytes, opts);
  if (bytes.byteLength !== f.bytes)
    throw new IntegrityError(f.path, String(f.bytes), String(bytes.byteLength), 'bytes');
  const got = await sha256Hex(bytes);
  if (got !== f.sha256) {
    if (typeof caches !== 'undefined' && opts.cache !== false) {
      // a cached copy that no longer verifies (e.g. the model was updated) must not be served again
      try {
        await (await caches.open(CACHE_NAME)).delete(url);
      } catch {
        /* ignore */
      }
    }
    throw new IntegrityError(f.path, f.sha256, got);
  }
  await keep();
  return bytes;
}

/** Read and validate a manifest only. */
export async function loadManifest(source: string, opts: LoadOptions = {}): Promise<AnyManifest> {
  const url = resolve(source, 'manifest.json');
  const { bytes } = await readBytes(url, 'manifest.json', undefined, { ...opts, cache: false });
  let json: unknown;
  try {
    json = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFormatError(
      'manifest-json',
      `manifest.json is not strict JSON: ${(e as Error).message}`,
      undefined,
      'manifest.json',
    );
  }
  return validateManifest(json);
}

/**
 * The files of one role (e.g. "reference": a classifier's real-data set), verified and parsed, by
 * manifest path. A manifest with no file of that role is a ModelFormatError.
 */
export async function loadRoleFiles(
  source: string,
  role: string,
  opts: LoadOptions = {},
): Promise<Map<string, SafetensorsFile>> {
  const manifest = await loadManifest(source, opts);
  const wanted = manifest.files.filter((f) => f.role === role);
  if (wanted.length === 0)
    throw new ModelFormatError(
      'manifest-files',
      `${manifest.name} has no file of role "${role}"`,
      undefined,
      'manifest.json',
    );
  const out = new Map<string, SafetensorsFile>();
  for (const f of wanted) out.set(f.path, parseSafetensors(await loadVerified(source, f, opts), { file: f.path }));
  return out;
}

/**
 * The bytes of a manifest's one file of `role` (e.g. an ONNX graph), verified (size, sha256, origin)
 * and not parsed here: the caller hands them to the runtime that reads that format.
 */
export async function loadRawFile(
  source: string,
  manifest: AnyManifest,
  role: string,
  opts: LoadOptions = {},
): Promise<{ path: string; bytes: Uint8Array }> {
  const f = manifest.files.filter((x) => x.role === role);
  if (f.length !== 1)
    throw new ModelFormatError(
      'manifest-files',
      `${manifest.name} needs exactly one file of role "${role}", has ${f.length}`,
      undefined,
      'manifest.json',
    );
  return { path: f[0].path, bytes: await loadVerified(source, f[0], opts) };
}

/**
 * Load a model folder/URL: the manifest, then its weights (and files of `opts.roles`), verified.
 */
export async function loadModelFiles(source: string, opts: LoadOptions = {}): Promise<LoadedModelFiles> {
  const manifest = await loadManifest(source, opts);
  const roles = new Set(['weights', ...(opts.roles ?? [])]);
  const files = new Map<string, SafetensorsFile>();
  const weights = new Map<string, LoadedTensor>();
  for (const f of manifest.files.filter((x) => roles.has(x.role))) {
    const bytes = await loadVerified(source, f, opts);
    const st = parseSafetensors(bytes, { file: f.path });
    files.set(f.path, st);
    if (f.role === 'weights') {
      for (const [name, info] of st.tensors) {
        if (weights.has(name))
          throw new ModelFormatError('duplicate-name', 'tensor appears in two weight files', name, f.path);
        const data = tensorData(st, name, f.path, { f16: opts.weights !== 'f32' });
        weights.set(name, { shape: info.shape, data });
      }
    }
  }
  return { manifest, weights, files };
}

/**
 * A text model's tokenizer from its manifest: the character vocabulary, or the hf tokenizer file
 * (verified like every file, then `parseHfTokenizer`). For hf, the manifest's `tokenizer.mask_id` is
 * filled in from the tokenizer, so the model built from the manifest knows its [MASK] id.
 */
export async function loadTextTokenizer(
  source: string,
  manifest: TextManifest,
  opts: LoadOptions = {},
): Promise<TextTokenizer> {
  const t = manifest.tokenizer;
  if (t.type === 'char') return new CharTokenizer(t.vocab, t.mask_id);
  const { bytes } = await loadRawFile(source, manifest, 'tokenizer', opts);
  const tok = await parseHfTokenizer(t, bytes, manifest.architecture.vocab_size);
  t.mask_id = tok.maskId;
  return tok;
}
