/**
 * `samplescope convert <hf-folder> --out <dir> [--dtype f16|f32]` as a library function (Node): writes
 * our manifest (architecture type "hf") for a local Hugging Face folder — config.json, model.safetensors
 * or a sharded model.safetensors.index.json, tokenizer.json — so that loadModel(<dir>) loads it through
 * the normal path (sha256 per file, the same checks).
 *
 *   - the architecture comes from config.json (config.ts; an unknown model_type is refused with the
 *     supported list), and every weight is checked against it (names.ts) before anything is written;
 *   - LLaMA-family models: `attention` says causal or bidirectional (LLaDA/Dream); by default a config
 *     naming a `mask_token_id` is bidirectional, any other causal. GPT-2 is causal, BERT/RoBERTa not;
 *   - special ids: the mask token from config's mask_token_id or the tokenizer's [MASK] / <mask> /
 *     <|mask|> (a bidirectional model needs one), BOS from config (a causal model needs one);
 *   - weights: without `dtype` left as they are — in place when `out` is the folder, else copied (the
 *     manifest names plain file names only: no folders, no "..", so nothing outside `out` is ever read);
 *     a sharded folder's model.safetensors.index.json is listed too (role "weights-index"), so the model
 *     streams onto the backend by default (src/models/hf/stream.ts);
 *     with `dtype` rewritten as one model.safetensors of F32 or F16 (a value outside f16's range is a
 *     ModelFormatError naming the tensor, not a silent ±inf).
 */
import { ModelFormatError } from '../../errors.js';
import { sha256Hex, type LoadedTensor } from '../load.js';
import { parseStrictJson } from '../json.js';
import { validateManifest, type HfManifest, type ManifestFile } from '../manifest.js';
import { parseSafetensors, tensorData, writeSafetensors, type SafetensorsFile } from '../safetensors.js';
import { parseHfConfig, type HfSpec } from './config.js';
import { checkHfWeights } from './names.js';

export interface ConvertOptions {
  /** the folder to write manifest.json (and any rewritten or copied files) into; default: the HF folder */
  out?: string;
  /** rewrite the weights in this dtype (default: leave them as they are) */
  dtype?: 'f16' | 'f32';
  /** LLaMA family: 'causal' or 'bidirectional' (default: bidirectional iff config names mask_token_id) */
  attention?: 'causal' | 'bidirectional';
  /** the model's name (default: the folder's name) */
  name?: string;
  /** the longest sequence the manifest allows (default: the config's positions, at most 2048) */
  maxLen?: number;
}

const PLAIN = /^[A-Za-z0-9._-]+$/;
const MASK_TOKENS = ['[MASK]', '<mask>', '<|mask|>', '<|mdm_mask|>'];

type Fs = typeof import('node:fs/promises');
type PathMod = typeof import('node:path');

async function node(): Promise<{ fs: Fs; path: PathMod }> {
  const fsSpec = 'node:fs/promises';
  const pathSpec = 'node:path';
  return {
    fs: (await import(/* @vite-ignore */ fsSpec)) as Fs,
    path: (await import(/* @vite-ignore */ pathSpec)) as PathMod,
  };
}

/** A plain file name inside the folder (what a shard index may name), else a ModelFormatError. */
function plainFile(name: unknown, file: string, what: string): string {
  if (typeof name !== 'string' || !PLAIN.test(name) || name === '.' || name === '..')
    throw new ModelFormatError(
      'hf-path',
      `${what} ${JSON.stringify(name)} must be a plain file name inside the folder (no folders, no "..")`,
      undefined,
      file,
    );
  return name;
}

/** f32 → f16 bits, round to nearest even; |x| beyond f16's largest finite value (65504) is refused. */
function f16Bits(x: number, tensor: string, file: string): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN stay what they are
  const e = exp - 127 + 15;
  if (e >= 31 || (e === 30 && mant > 0x7fefff))
    throw new ModelFormatError('f16-range', `value ${x} is outside f16's range (±65504)`, tensor, file);
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  if ((h & 0x7fff) >= 0x7c00)
    throw new ModelFormatError('f16-range', `value ${x} rounds past f16's largest value 65504`, tensor, file);
  return h;
}

/** The token with `id` in a tokenizer.json (its vocabulary or added tokens), or undefined. */
function tokenOf(tok: Record<string, unknown>, id: number): string | undefined {
  const added = (tok.added_tokens as { id: number; content: string }[] | undefined) ?? [];
  const a = added.find((t) => t.id === id);
  if (a) return a.content;
  const vocab = (tok.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab))
    for (const [k, v] of Object.entries(vocab as Record<string, number>)) if (v === id) return k;
  if (Array.isArray(vocab)) {
    const e = vocab[id];
    return Array.isArray(e) ? String(e[0]) : undefined; // Unigram: [piece, score]
  }
  return undefined;
}

function hasToken(tok: Record<string, unknown>, t: string): boolean {
  const added = (tok.added_tokens as { content: string }[] | undefined) ?? [];
  if (added.some((a) => a.content === t)) return true;
  const vocab = (tok.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) return Object.hasOwn(vocab, t);
  return Array.isArray(vocab) && vocab.some((e) => Array.isArray(e) && e[0] === t);
}

async function readWhole(fs: Fs, p: string, f: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(p));
  } catch (e) {
    throw new ModelFormatError('hf-missing-file', `cannot read: ${(e as Error).message}`, undefined, f);
  }
  return parseSafetensors(bytes, { file: f });
}

/** A weight file's header, checked by every rule against the file's size; no tensor bytes are read. */
async function readHeaderOnly(fs: Fs, p: string, f: string): Promise<SafetensorsFile> {
  let fh: Awaited<ReturnType<Fs['open']>>;
  try {
    fh = await fs.open(p, 'r');
  } catch (e) {
    throw new ModelFormatError('hf-missing-file', `cannot read: ${(e as Error).message}`, undefined, f);
  }
  try {
    const size = (await fh.stat()).size;
    const len = new Uint8Array(8);
    await fh.read(len, 0, 8, 0);
    const n = new DataView(len.buffer).getBigUint64(0, true);
    const max = 16 * 1024 * 1024;
    const head = new Uint8Array(8 + (n <= BigInt(Math.min(max, Math.max(0, size - 8))) ? Number(n) : 0));
    await fh.read(head, 0, head.length, 0);
    return parseSafetensors(head, { file: f, fileBytes: size, maxHeaderBytes: max });
  } finally {
    await fh.close();
  }
}

/** A file's size and sha256, read as a stream. */
async function hashFile(p: string): Promise<{ bytes: number; sha256: string }> {
  const cryptoSpec = 'node:crypto';
  const fsSpec = 'node:fs';
  const [{ createHash }, { createReadStream }] = await Promise.all([
    import(/* @vite-ignore */ cryptoSpec) as Promise<typeof import('node:crypto')>,
    import(/* @vite-ignore */ fsSpec) as Promise<typeof import('node:fs')>,
  ]);
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(p)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: h.digest('hex') };
}

async function readJson(fs: Fs, p: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(p, 'utf8');
  } catch (e) {
    throw new ModelFormatError('hf-missing-file', `cannot read: ${(e as Error).message}`, undefined, file);
  }
  try {
    return parseStrictJson(text);
  } catch (e) {
    throw new ModelFormatError('hf-json', `is not JSON: ${(e as Error).message}`, undefined, file);
  }
}

/** Convert a local HF folder; returns the manifest written to `<out>/manifest.json`. */
export async function convertHfFolder(folder: string, o: ConvertOptions = {}): Promise<HfManifest> {
  const { fs, path } = await node();
  const src = path.resolve(folder);
  const out = path.resolve(o.out ?? folder);
  const config = (await readJson(fs, path.join(src, 'config.json'), 'config.json')) as Record<string, unknown>;
  const spec: HfSpec = parseHfConfig(config, 'config.json');

  // the weight files: one model.safetensors, or the shards a model.safetensors.index.json names
  let weightFiles: string[];
  const index = path.join(src, 'model.safetensors.index.json');
  const hasIndex = await fs.stat(index).then(
    () => true,
    () => false,
  );
  if (hasIndex) {
    const j = (await readJson(fs, index, 'model.safetensors.index.json')) as { weight_map?: Record<string, unknown> };
    if (!j || typeof j.weight_map !== 'object' || j.weight_map === null)
      throw new ModelFormatError('hf-index', 'has no weight_map', undefined, 'model.safetensors.index.json');
    const names = new Set<string>();
    for (const [t, f] of Object.entries(j.weight_map))
      names.add(plainFile(f, 'model.safetensors.index.json', `the shard of tensor "${t}"`));
    weightFiles = [...names].sort();
  } else weightFiles = ['model.safetensors'];

  // with weights left as they are only the headers are read (a 150M-parameter checkpoint never sits in
  // memory: the files are hashed and copied as streams); a dtype rewrite reads every tensor
  const weights = new Map<string, LoadedTensor>();
  for (const f of weightFiles) {
    const st = o.dtype ? await readWhole(fs, path.join(src, f), f) : await readHeaderOnly(fs, path.join(src, f), f);
    for (const name of st.tensors.keys()) {
      if (weights.has(name))
        throw new ModelFormatError('duplicate-name', 'tensor appears in two weight files', name, f);
      const info = st.tensors.get(name)!;
      // integer buffers (position_ids …) are not weights; names.ts decides whether their names are known
      const int = info.dtype.startsWith('I') || info.dtype.startsWith('U');
      const data = int ? new Int32Array(0) : o.dtype ? tensorData(st, name, f) : new Float32Array(0);
      weights.set(name, { shape: info.shape, data });
    }
  }
  const rawNames = new Map<string, string>();
  const checked = checkHfWeights(spec, weights, weightFiles.join(', '), rawNames);

  const tokPath = path.join(src, 'tokenizer.json');
  const tokBytes = await fs.readFile(tokPath).catch(() => {
    throw new ModelFormatError(
      'hf-missing-file',
      "convert needs the folder's tokenizer.json",
      undefined,
      'tokenizer.json',
    );
  });
  const tok = (await readJson(fs, tokPath, 'tokenizer.json')) as Record<string, unknown>;

  const causal = spec.attention
    ? spec.attention === 'causal'
    : o.attention
      ? o.attention === 'causal'
      : spec.maskId === undefined;
  if (o.attention && spec.attention && (o.attention === 'causal') !== causal)
    throw new ModelFormatError(
      'hf-attention',
      `a ${spec.modelType} model is ${causal ? 'causal' : 'bidirectional'}; --attention ${o.attention} contradicts it`,
      undefined,
      'config.json',
    );
  const maskToken = spec.maskId !== undefined ? tokenOf(tok, spec.maskId) : MASK_TOKENS.find((t) => hasToken(tok, t));
  if (!causal && maskToken === undefined)
    throw new ModelFormatError(
      'hf-mask-token',
      `a masked-diffusion model needs a mask token: config's mask_token_id or one of ${MASK_TOKENS.join(' ')} in tokenizer.json`,
      undefined,
      'tokenizer.json',
    );
  if (causal && spec.bosId === undefined)
    throw new ModelFormatError(
      'hf-bos',
      'a causal model needs bos_token_id (the id fed before the first token)',
      undefined,
      'config.json',
    );

  await fs.mkdir(out, { recursive: true });
  const files: ManifestFile[] = [];
  const entry = async (name: string, role: string, bytes: Uint8Array) =>
    files.push({ path: name, role, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) });
  let weightsDtype: string;
  if (o.dtype) {
    // the checkpoint's own tensor names (LLaDA's stay LLaDA's), so the rewritten file is still that model's
    const entries = [...checked].map(([canon, t]) => {
      const name = rawNames.get(canon)!;
      const x = t.data as Float32Array;
      if (o.dtype === 'f32') return { name, dtype: 'F32' as const, shape: t.shape, data: x };
      const h = new Uint16Array(x.length);
      for (let i = 0; i < x.length; i++) h[i] = f16Bits(x[i], name, weightFiles.join(', '));
      return { name, dtype: 'F16' as const, shape: t.shape, data: h };
    });
    const bytes = writeSafetensors(entries, { format: 'pt', converted_by: 'samplescope convert' });
    const name = 'model.safetensors';
    await fs.writeFile(path.join(out, name), bytes);
    await entry(name, 'weights', bytes);
    weightsDtype = o.dtype;
  } else {
    for (const f of weightFiles) {
      if (out !== src) await fs.copyFile(path.join(src, f), path.join(out, f));
      files.push({ path: f, role: 'weights', ...(await hashFile(path.join(src, f))) });
    }
    // a sharded checkpoint keeps its index (role "weights-index"): loadModel then streams it by default
    if (hasIndex) {
      const name = 'model.safetensors.index.json';
      if (out !== src) await fs.copyFile(index, path.join(out, name));
      files.push({ path: name, role: 'weights-index', ...(await hashFile(index)) });
    }
    weightsDtype = 'as in the checkpoint';
  }
  if (out !== src) await fs.writeFile(path.join(out, 'tokenizer.json'), tokBytes);
  await entry('tokenizer.json', 'tokenizer', new Uint8Array(tokBytes));

  const padToken = spec.padId !== undefined ? tokenOf(tok, spec.padId) : undefined;
  const manifest = {
    format: 'samplescope-model/1',
    name: o.name ?? path.basename(src),
    family: spec.modelType,
    description: `${spec.modelType} (${spec.layers} layers, d ${spec.d}, ${spec.heads} heads${spec.kvHeads !== spec.heads ? ` / ${spec.kvHeads} KV` : ''}, vocab ${spec.vocab}) converted from a Hugging Face folder`,
    architecture: {
      type: 'hf',
      config,
      causal,
      vocab_size: spec.vocab,
      max_len: Math.min(spec.maxLen, o.maxLen ?? 2048),
      n_classes: 0,
      ...(causal ? { bos_id: spec.bosId } : {}),
    },
    tokenizer: {
      type: 'hf',
      file: 'tokenizer.json',
      ...(maskToken !== undefined ? { mask_token: maskToken } : {}),
      ...(padToken !== undefined ? { pad_token: padToken } : {}),
    },
    classes: ['none'],
    null_class: 0,
    files,
    weights_dtype: weightsDtype,
  };
  // what loadModel will check, checked now: a manifest we write always validates
  const valid = validateManifest(JSON.parse(JSON.stringify(manifest))) as HfManifest;
  await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return valid;
}
