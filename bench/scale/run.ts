/**
 * `npm run bench:scale` — a random transformer of ≥ 150M parameters in f16 (our architecture: 12
 * layers, d 768, d_ff 3072, vocab 90,000 by default, so the tied-size embedding and head —
 * 90,000 × 768 f16 = 138 MB — pass lavapipe's real 128 MiB storage binding and are split) is written
 * as a sharded checkpoint (F16 safetensors shards + model.safetensors.index.json + manifest with
 * sha256), then streamed onto Node/Dawn WebGPU with the adapter's real limits, and its logits on a
 * short input (L ≤ 8) compared with the CPU twin's (the same f16 weights, streamed onto the CPU
 * backend, accumulating in f64): atol 1e-3 + rtol 1e-3. Prints the load time, the peak JS memory
 * during the load (V8 heap + array buffers, sampled at every tensor, above the level before it) against
 * the largest tensor, the GPU bytes (weights; buffer pool) and which weights were split. Not part of
 * `npm test`; minutes on lavapipe.
 *
 *   npm run bench:scale
 *   npm run bench:scale -- --layers 2 --vocab 20000 --length 8 --keep /tmp/scale-model
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '../../src/backend/cpu.js';
import { createBackend } from '../../src/backend/create.js';
import { f32ToF16 } from '../../src/backend/f16.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { loadModel, type TransformerModel } from '../../src/models/index.js';
import type { ModelManifest } from '../../src/models/manifest.js';
import { randomManifest } from '../../src/models/random.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const layers = Number(arg('layers', '12'));
const d = Number(arg('d', '768'));
const ff = Number(arg('ff', String(4 * d)));
const V = Number(arg('vocab', '90000'));
const L = Number(arg('length', '8'));
const heads = Number(arg('heads', '12'));
const keep = process.argv.includes('--keep') ? arg('keep', '') : '';
const skipCpu = process.argv.includes('--skip-cpu');

// ---- the checkpoint: tensors in order, written shard by shard without holding the model ----
interface Spec {
  name: string;
  shape: number[];
  scale: number;
  offset: number;
}
const specs: Spec[] = [];
const add = (name: string, shape: number[], scale: number, offset = 0) => specs.push({ name, shape, scale, offset });
const lin = (name: string, out: number, inp: number) => {
  add(`${name}.weight`, [out, inp], 1 / Math.sqrt(inp));
  add(`${name}.bias`, [out], 0.02);
};
const ln = (name: string) => {
  add(`${name}.weight`, [d], 0.2, 1);
  add(`${name}.bias`, [d], 0.05);
};
add('tok_emb.weight', [V, d], 1);
add('cls_emb.weight', [1, d], 0.1);
for (let l = 0; l < layers; l++) {
  const p = `blocks.${l}.`;
  ln(p + 'ln1');
  for (const w of ['wq', 'wk', 'wv', 'wo']) lin(p + w, d, d);
  ln(p + 'ln2');
  lin(p + 'w1', ff, d);
  lin(p + 'w2', d, ff);
}
ln('ln_f');
lin('head', V, d);
const count = (s: Spec) => s.shape.reduce((a, b) => a * b, 1);
const params = specs.reduce((a, s) => a + count(s), 0);

/** f16 bits of uniform offset ± scale values from a fixed-seed xorshift (deterministic) */
let state = 0x9e3779b9;
function values(s: Spec): Uint16Array {
  const n = count(s);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = f32ToF16(s.offset + ((state >>> 0) / 2 ** 32 - 0.5) * 2 * s.scale);
  }
  return out;
}

const dir = keep || mkdtempSync(join(tmpdir(), 'scale-'));
const shardBytes = 160 * 1024 * 1024;
const groups: Spec[][] = [[]];
let inGroup = 0;
for (const s of specs) {
  const b = count(s) * 2;
  if (inGroup && inGroup + b > shardBytes) {
    groups.push([]);
    inGroup = 0;
  }
  groups[groups.length - 1].push(s);
  inGroup += b;
}
const t0 = performance.now();
const files: { path: string; role: string; bytes: number; sha256: string }[] = [];
const map: Record<string, string> = {};
groups.forEach((g, i) => {
  const path = `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const s of g) {
    header[s.name] = { dtype: 'F16', shape: s.shape, data_offsets: [off, off + count(s) * 2] };
    off += count(s) * 2;
    map[s.name] = path;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const hb = new Uint8Array(raw.length + ((8 - ((8 + raw.length) % 8)) % 8)).fill(0x20);
  hb.set(raw);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setUint32(0, hb.length, true);
  const fd = openSync(join(dir, path), 'w');
  const hash = createHash('sha256');
  for (const part of [len, hb]) {
    writeSync(fd, part);
    hash.update(part);
  }
  for (const s of g) {
    const v = new Uint8Array(values(s).buffer);
    writeSync(fd, v);
    hash.update(v);
  }
  closeSync(fd);
  files.push({ path, role: 'weights', bytes: 8 + hb.length + off, sha256: hash.digest('hex') });
});
const index = new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: map }));
const indexPath = 'model.safetensors.index.json';
const fdi = openSync(join(dir, indexPath), 'w');
writeSync(fdi, index);
closeSync(fdi);
files.push({
  path: indexPath,
  role: 'weights-index',
  bytes: index.length,
  sha256: createHash('sha256').update(index).digest('hex'),
});
const manifest: ModelManifest = {
  ...randomManifest({ vocab: V - 1, length: 64, dModel: d, layers, heads, dFF: ff }),
  name: `random-${Math.round(params / 1e6)}m`,
  // token names, not characters: 90,000 code points would run into the surrogate range
  tokenizer: { type: 'char', vocab: [...Array.from({ length: V - 1 }, (_, i) => `t${i}`), '[MASK]'], mask_id: V - 1 },
  files,
};
const fdm = openSync(join(dir, 'manifest.json'), 'w');
writeSync(fdm, JSON.stringify(manifest));
closeSync(fdm);
const written = files.reduce((a, f) => a + f.bytes, 0);
console.log(
  `[scale] ${params} parameters (${layers} layers, d ${d}, d_ff ${ff}, vocab ${V}); ` +
    `${files.length - 1} f16 shards, ${written} bytes, written in ${((performance.now() - t0) / 1000).toFixed(1)} s to ${dir}`,
);

// ---- the load: streamed onto WebGPU with the adapter's real limits ----
const mem = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const gpu = (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend;
const a = gpu.info.adapter!;
console.log(
  `[scale] adapter: ${a.description || a.device}; storage binding ${gpu.maxTensor.bytes} bytes (${gpu.maxTensor.limit}), ` +
    `maxBufferSize ${gpu.runtime.limits.maxBufferSize}`,
);
// the baseline after a full collection (the checkpoint's generation left garbage behind)
(globalThis as { gc?: () => void }).gc?.();
const base = mem();
let peak = base;
const t1 = performance.now();
const model = await loadModel(dir, gpu, {
  onProgress: () => {
    peak = Math.max(peak, mem());
  },
});
await gpu.flush();
const loadMs = performance.now() - t1;
peak = Math.max(peak, mem());
const largest = Math.max(...specs.map((s) => count(s) * 2));
const split = specs
  .map((s) => ({ s, n: Math.ceil((count(s) * 2) / gpu.maxTensor.bytes) }))
  .filter((x) => x.n > 1)
  .map((x) => `${x.s.name} [${x.s.shape.join(', ')}]`);
const wb = model.weightBytes();
console.log(
  `[scale] load (stream ${files.length - 1} shards → GPU): ${(loadMs / 1000).toFixed(1)} s; ` +
    `peak JS heap + array buffers during load ${((peak - base) / 2 ** 20).toFixed(1)} MiB above the start ` +
    `(${(base / 2 ** 20).toFixed(1)} → ${(peak / 2 ** 20).toFixed(1)} MiB${(globalThis as { gc?: unknown }).gc ? ', start after gc' : ''}) ` +
    `(largest tensor ${(largest / 2 ** 20).toFixed(1)} MiB: ${((peak - base) / largest).toFixed(2)}×)`,
);
console.log(
  `[scale] GPU bytes: weights ${wb.total} (f16 ${wb.f16}, f32 ${wb.f32}); pool ${gpu.stats().pool.bytes}; ` +
    `split over bindings: ${split.join(', ') || 'none'}`,
);
const est = (model as TransformerModel).memoryEstimate(1, L);
console.log(`[scale] memory estimate at batch 1, length ${L}: weights ${est.weights}, activations ${est.activations}`);

// ---- logits: GPU vs the CPU twin on the same f16 weights ----
const tokens = Uint32Array.from({ length: L }, (_, i) => (i * 7919 + 13) % (V - 1));
const input = { tokens, batch: 1, length: L };
const t2 = performance.now();
const g = (await gpu.read(model.forward(input))) as Float32Array;
const fwdMs = performance.now() - t2;
console.log(`[scale] GPU forward (B 1, L ${L}, incl. readback): ${fwdMs.toFixed(0)} ms`);
if (!skipCpu) {
  const cpu = new CpuBackend();
  const twin = await loadModel(dir, cpu);
  const t3 = performance.now();
  const c = (await cpu.read(twin.forward(input))) as Float32Array;
  let worst = 0,
    excess = 0,
    top = 0;
  for (let i = 0; i < c.length; i++) {
    top = Math.max(top, Math.abs(c[i]));
    const diff = Math.abs(g[i] - c[i]);
    worst = Math.max(worst, diff);
    excess = Math.max(excess, diff - (1e-3 + 1e-3 * Math.abs(c[i])));
  }
  const ok = excess <= 0 && g.every(Number.isFinite);
  console.log(
    `[scale] CPU twin forward ${((performance.now() - t3) / 1000).toFixed(1)} s; logits max |GPU − CPU| ${worst.toExponential(2)} ` +
      `over ${c.length} values (max |logit| ${top.toFixed(2)}): ${ok ? 'PASS' : 'FAIL'} (atol 1e-3 + rtol 1e-3)`,
  );
  if (!ok) process.exitCode = 1;
}
model.dispose();
gpu.destroy();
if (!keep) rmSync(dir, { recursive: true, force: true });
