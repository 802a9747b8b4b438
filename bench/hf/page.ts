/**
 * The page side of `npm run bench:hf` (bench/hf/run.ts drives it through puppeteer, one call at a time): one
 * implementation open at a time on this page's WebGPU adapter — ours (src/models/hf on our kernels, weights f16 or
 * f32 on the GPU) or onnxruntime-web's WebGPU EP on the ONNX export of the same weights
 * (training/export_hf_onnx.py) — and forwards of (B, L) token ids through it, each ending with the logits read
 * back to the host (ORT's `session.run` returns them on the CPU; ours reads them with `be.read`).
 *
 * Memory: every GPUBuffer any device on this page creates is counted (bench/util.ts trackGpuMemory, installed on
 * GPUDevice.prototype before any device exists); each implementation runs on its own device (ours: a fresh
 * backend; ORT: the device its EP requests), so the peak of that device is what the implementation allocated:
 * weights, activations, its pools and caches, uniforms and staging buffers alike.
 */
import { createBackend } from '../../src/backend/create.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { loadModel, parseSafetensors, tensorData } from '../../src/models/index.js';
import { loadOrt } from '../browser/ort.js';
import { fromF16, toF16 } from '../../src/backend/f16.js';
import { assertClose, trackGpuMemory, uniformData } from '../util.js';

/** ort-webgpu: model.onnx (f32); ort-webgpu-f16: model-f16.onnx (f16 weights and activations) */
export type Impl = 'ort-webgpu' | 'ort-webgpu-f16' | 'ours-f16' | 'ours-f32';

const memory = trackGpuMemory(GPUDevice.prototype);

interface Open {
  impl: Impl;
  device: GPUDevice;
  /** logits (B, L, V) on the host; `tokens` are what our model is fed (a causal model prepends BOS itself) */
  run(tokens: Uint32Array, batch: number, length: number): Promise<Float32Array>;
  poolBytes(): number | undefined;
  close(): Promise<void>;
}

let cur: Open | undefined;
/** the first implementation's logits per (model, batch, length): the others are cross-checked against them */
const firsts = new Map<string, { impl: Impl; logits: Float32Array }>();

/**
 * Deterministic token ids in [5, vocab): row b is an LCG seeded 12345 + b, so row 0 is the same at every batch
 * (training/export_hf_onnx.py bench_tokens writes the f64 reference logits of that row).
 */
export function benchTokens(batch: number, length: number, vocab: number): Uint32Array {
  const out = new Uint32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let s = (12345 + b) >>> 0;
    for (let i = 0; i < length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      out[b * length + i] = 5 + (s % (vocab - 5));
    }
  }
  return out;
}

const references = new Map<string, Promise<Float32Array>>();

/** The f64 logits of row 0 (`<url>reference-L<length>.safetensors`), after checking its tokens are ours. */
function reference(url: string, length: number, vocab: number): Promise<Float32Array> {
  const key = `${url} ${length}`;
  let r = references.get(key);
  if (!r) {
    r = (async () => {
      const res = await fetch(`${url}reference-L${length}.safetensors`);
      if (!res.ok) throw new Error(`${url}reference-L${length}.safetensors: HTTP ${res.status}`);
      const f = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
      const want = benchTokens(1, length, vocab);
      const got = tensorData(f, 'tokens');
      if (got.length !== want.length || want.some((v, i) => got[i] !== v))
        throw new Error(`${url}reference-L${length}.safetensors was made for other tokens than benchTokens'`);
      return Float32Array.from(tensorData(f, 'logits'));
    })();
    references.set(key, r);
  }
  return r;
}

async function openOurs(url: string, weights: 'f16' | 'f32'): Promise<Open> {
  const be = (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend;
  // the folder is on the bench's cache server, another origin than this page's
  const m = await loadModel(url, be, { cache: false, weights, allowedOrigins: [new URL(url).origin] });
  return {
    impl: weights === 'f16' ? 'ours-f16' : 'ours-f32',
    device: be.runtime.device,
    run: async (tokens, batch, length) => {
      const t = m.forward({ tokens, batch, length });
      const out = await be.read(t);
      be.free(t);
      return out as Float32Array;
    },
    poolBytes: () => be.stats().pool.bytes,
    close: async () => {
      m.dispose();
      be.destroy();
    },
  };
}

async function openOrt(url: string, bos: number, causal: boolean, f16: boolean): Promise<Open> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(`${url}${f16 ? 'model-f16.onnx' : 'model.onnx'}`, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
  });
  const device = (await ort.env.webgpu.device) as GPUDevice;
  return {
    impl: f16 ? 'ort-webgpu-f16' : 'ort-webgpu',
    device,
    run: async (tokens, batch, length) => {
      // the HF convention: input_ids = [bos, x_0 … x_{L−2}] for a causal model (what ours builds internally)
      const ids = new BigInt64Array(batch * length);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < length; i++) {
          const v = causal ? (i === 0 ? bos : tokens[b * length + i - 1]) : tokens[b * length + i];
          ids[b * length + i] = BigInt(v);
        }
      const r = await session.run({ input_ids: new ort.Tensor('int64', ids, [batch, length]) });
      const t = r.logits;
      const data = (await t.getData()) as Float32Array;
      t.dispose();
      return data;
    },
    poolBytes: () => undefined,
    close: () => session.release(),
  };
}

export interface OpenResult {
  loadMs: number;
  adapter: string;
  shaderF16: boolean;
}

/** Open one implementation on the model folder at `url` (closing the previous one). */
export async function open(impl: Impl, url: string, bos: number, causal: boolean): Promise<OpenResult> {
  if (cur) await close();
  const t0 = performance.now();
  cur =
    impl === 'ort-webgpu' || impl === 'ort-webgpu-f16'
      ? await openOrt(url, bos, causal, impl === 'ort-webgpu-f16')
      : await openOurs(url, impl === 'ours-f16' ? 'f16' : 'f32');
  const loadMs = performance.now() - t0;
  const a = await navigator.gpu.requestAdapter();
  const info = cur.device.adapterInfo;
  return {
    loadMs,
    adapter: info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' '),
    shaderF16: !!a?.features.has('shader-f16'),
  };
}

export interface ForwardResult {
  ms: number;
  /** on a validation call: the largest |Δ| of row 0 vs the f64 reference */
  maxAbsDiffRef?: number;
  /** on a validation call: the first implementation run at this (model, batch) and the largest |Δ| vs its logits */
  crossAgainst?: Impl;
  maxAbsDiffCross?: number;
  peakGpuBytes: number;
  poolBytes?: number;
}

/**
 * One forward through the open implementation. `validate`: row 0 of the logits must agree with the f64 reference
 * within atol + rtol·|ref|, and all rows with the first implementation validated at this (model, batch), within
 * the same tolerance (else BenchValidationError).
 */
export async function forward(
  url: string,
  batch: number,
  length: number,
  vocab: number,
  validate: { atol: number; rtol: number } | null,
): Promise<ForwardResult> {
  if (!cur) throw new Error('no implementation is open');
  const tokens = benchTokens(batch, length, vocab);
  const t0 = performance.now();
  const logits = await cur.run(tokens, batch, length);
  const ms = performance.now() - t0;
  const r: ForwardResult = { ms, peakGpuBytes: memory.peakOf(cur.device), poolBytes: cur.poolBytes() };
  if (validate) {
    const what = `${url} B=${batch} L=${length}: ${cur.impl}`;
    const ref = await reference(url, length, vocab);
    r.maxAbsDiffRef = assertClose(
      `${what} (row 0) vs f64`,
      logits.subarray(0, ref.length),
      ref,
      validate.atol,
      validate.rtol,
    );
    const key = `${url} ${batch} ${length}`;
    const first = firsts.get(key);
    if (!first) firsts.set(key, { impl: cur.impl, logits });
    else {
      r.crossAgainst = first.impl;
      r.maxAbsDiffCross = assertClose(`${what} vs ${first.impl}`, logits, first.logits, validate.atol, validate.rtol);
    }
  }
  return r;
}

export async function close(): Promise<void> {
  const c = cur;
  cur = undefined;
  await c?.close();
}

/** Drop the stored logits of a model (at B = 8 they are 131 MB for the 124.7M model). */
export function forget(url: string): void {
  for (const k of [...firsts.keys()]) if (k.startsWith(`${url} `)) firsts.delete(k);
}

export interface MatmulResult {
  dtype: 'f16' | 'f32';
  ms: number[];
  maxAbsDiff: number;
}

/**
 * One product of the 150m model's shapes on our WebGPU backend, weights f16 vs f32: (M, K) activations times an
 * (N, K) nn.Linear weight (transB), the same weight values (f16-representable) in both forms; a warm-up, then
 * `runs` timed products, each ending with the (M, N) result read back. The f16 result must equal the f32 one
 * within 1e-5 + 1e-5·|ref| (the same values, widened on load).
 */
export async function matmulF16VsF32(M: number, K: number, N: number, runs: number): Promise<MatmulResult[]> {
  const be = (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend;
  try {
    const x = be.tensor(uniformData(M * K, 1), [M, K]);
    const w16 = toF16(Float32Array.from(uniformData(N * K, 2), (v) => v * 0.05));
    if (!(w16 instanceof Uint16Array)) throw new Error('weights out of f16 range');
    const weights = { f16: be.tensor(w16, [N, K], { weight: true }), f32: be.tensor(fromF16(w16), [N, K]) };
    const out: MatmulResult[] = [];
    let ref: Float32Array | undefined;
    for (const dtype of ['f32', 'f16'] as const) {
      const once = async () => {
        const y = be.matmul(x, weights[dtype], { transB: true });
        const v = (await be.read(y)) as Float32Array;
        be.free(y);
        return v;
      };
      const first = await once();
      ref ??= first;
      const maxAbsDiff = assertClose(`matmul ${dtype} vs f32`, first, ref, 1e-5, 1e-5);
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await once();
        ms.push(performance.now() - t0);
      }
      out.push({ dtype, ms, maxAbsDiff });
    }
    return out;
  } finally {
    be.destroy();
  }
}
