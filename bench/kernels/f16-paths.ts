/**
 * f16 weight read paths benchmark (not part of `npm test`): the same f16 weights read natively
 * (`shader-f16`: vec2<f16> loads widened to f32, shaders/lib/f16_native.wgsl) and packed (u32 words +
 * unpack2x16float, f16_packed.wgsl), switched on one device with `WebGPUBackend.f16Path`.
 * 1. matmul with an f16 Bᵀ (nn.Linear layout) at the shapes of a 768-wide transformer: M 128 / 1024,
 *    K 768, N 768 / 2048 / 32000;
 * 2. a model forward: text-mdm (its shipped F16 weights) at B = 8, L = 128, and a random 768-wide model
 *    of our architecture (2 layers, d_ff 3072, vocab 32,000 by default; f16 matrices) at L = 128.
 * Validates first — native and packed bitwise equal, and the CPU twin (first rows of each matmul; the
 * random model at L = 8, the same f16 weights, atol 1e-3 + rtol 1e-3) — then times: a warm-up of each,
 * then `--runs` rounds alternating the two paths, submit → work done, median (and IQR). Prints
 * packed/native (> 1: native faster) and writes bench/results/f16-paths-<adapter>.json. Needs an
 * adapter with shader-f16 (lavapipe has it; SwiftShader does not, and there it stops).
 *
 *   npm run bench:f16 [-- --runs 3 --shapes 128x768x768,1024x768x32000 --layers 2 --vocab 32000 --batches 1,8]
 *   npm run bench:f16 -- --skip-models --runs 11 --suffix -matmul   (matmul only, more rounds, another file)
 */
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { toF16 } from '../../src/backend/f16.js';
import type { Tensor } from '../../src/backend/tensor.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import type { F16Path } from '../../src/gpu/kernels.js';
import type { LoadedTensor } from '../../src/models/load.js';
import { loadModel, TransformerModel } from '../../src/models/index.js';
import { randomManifest } from '../../src/models/random.js';
import { writeResults } from '../results-file.js';
import { arg, assertClose, BenchValidationError, stats, uniformData, type Stats } from '../util.js';

const runs = Number(arg('runs', '3'));
const shapes = arg('shapes', '128x768x768,128x768x2048,128x768x32000,1024x768x768,1024x768x2048,1024x768x32000')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
const layers = Number(arg('layers', '2'));
const vocab = Number(arg('vocab', '32000'));
const batches = arg('batches', '1').split(',').map(Number);
const skipModels = process.argv.includes('--skip-models');
const suffix = arg('suffix', '');
const PATHS: F16Path[] = ['native', 'packed'];

const gpu = (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend;
const cpu = new CpuBackend();
const adapter = gpu.info.adapter!;
const adapterName = adapter.description || `${adapter.vendor} ${adapter.architecture}`;
console.log(`adapter: ${adapterName}${adapter.software ? ' (software)' : ''}; f16 path by default: ${gpu.f16Path}`);
if (gpu.runtime.ctx.f16 !== 'native') {
  console.log('this adapter has no shader-f16: only the packed path runs here, nothing to compare');
  process.exit(1);
}

const same = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) throw new BenchValidationError(`${what}: native [${i}] = ${a[i]}, packed ${b[i]}`);
};

/** warm-up of each path, then `runs` rounds alternating them; `once` encodes the work, then flush */
async function time(once: () => Tensor | void): Promise<Record<F16Path, Stats>> {
  const ms: Record<F16Path, number[]> = { native: [], packed: [] };
  for (let r = -1; r < runs; r++)
    for (const p of PATHS) {
      gpu.f16Path = p;
      const t0 = performance.now();
      const out = once();
      await gpu.flush();
      if (r >= 0) ms[p].push(performance.now() - t0);
      if (out) gpu.free(out);
    }
  gpu.f16Path = 'native';
  return { native: stats(ms.native), packed: stats(ms.packed) };
}

const report = (what: string, t: Record<F16Path, Stats>, extra = '') => {
  const ratio = t.packed.median / t.native.median;
  console.log(
    `${what}: native ${t.native.median.toFixed(1)} ms (IQR ${t.native.iqr.toFixed(1)}), packed ` +
      `${t.packed.median.toFixed(1)} ms (IQR ${t.packed.iqr.toFixed(1)}); packed/native ${ratio.toFixed(3)}${extra}`,
  );
  return { nativeMs: t.native, packedMs: t.packed, packedOverNative: ratio };
};

// ---- 1. matmul ----
const matmuls = [];
for (const [M, K, N] of shapes) {
  const a = uniformData(M * K, 1);
  const w = toF16(uniformData(N * K, 2).map((v) => v / Math.sqrt(K))) as Uint16Array;
  const A = gpu.tensor(a, [M, K]);
  const W = gpu.tensor(w, [N, K], { weight: true });
  const C = gpu.empty([M, N]);
  const got: Record<string, Float32Array> = {};
  for (const p of PATHS) {
    gpu.f16Path = p;
    got[p] = (await gpu.read(gpu.matmul(A, W, { transB: true, out: C }))) as Float32Array;
  }
  same(`matmul ${M}x${K}x${N}`, got.native, got.packed);
  const rows = 4;
  const want = await cpu.read(
    cpu.matmul(cpu.tensor(a.subarray(0, rows * K), [rows, K]), cpu.tensor(w, [N, K]), {
      transB: true,
    }),
  );
  const maxAbsErr = assertClose(`matmul ${M}x${K}x${N} vs twin`, got.native.subarray(0, rows * N), want, 1e-4, 1e-4);
  const t = await time(() => void gpu.matmul(A, W, { transB: true, out: C }));
  const gflop = (2 * M * K * N) / 1e9;
  const path = gpu.pickMatmulPath(M, N, K);
  const r = report(
    `matmul M ${M} K ${K} N ${N} (${path})`,
    t,
    `; ${(gflop / (t.native.median / 1e3)).toFixed(2)} GFLOP/s native`,
  );
  matmuls.push({ M, K, N, kernel: path, maxAbsErr, ...r });
  for (const x of [A, W, C]) gpu.free(x);
}

// ---- 2. model forwards ----
const models = [];
if (!skipModels) {
  const m = await loadModel('models/text-mdm', gpu);
  const [B, L] = [8, m.maxLength];
  const tokens = Uint32Array.from({ length: B * L }, (_, i) => (i * 7919) % (m.vocabSize - 1));
  const input = { tokens, batch: B, length: L };
  const got: Record<string, Float32Array> = {};
  for (const p of PATHS) {
    gpu.f16Path = p;
    got[p] = (await gpu.read(m.forward(input) as Tensor)) as Float32Array;
  }
  same('text-mdm forward', got.native, got.packed);
  const t = await time(() => m.forward(input) as Tensor);
  models.push({ model: 'text-mdm (F16 file)', batch: B, length: L, ...report(`text-mdm forward B ${B} L ${L}`, t) });
  m.dispose();
}
if (!skipModels) {
  const d = 768;
  const manifest = randomManifest({ vocab: vocab - 1, length: 128, dModel: d, layers, heads: 12, dFF: 4 * d });
  const w = new Map<string, LoadedTensor>();
  let stream = 10;
  const rand = (shape: number[], s: number, offset = 0) => {
    const n = shape.reduce((x, y) => x * y, 1);
    return { shape, data: uniformData(n, stream++).map((v) => offset + v * s) };
  };
  const lin = (name: string, out: number, inp: number) => {
    w.set(`${name}.weight`, rand([out, inp], 1 / Math.sqrt(inp)));
    w.set(`${name}.bias`, rand([out], 0.02));
  };
  const ln = (name: string) => {
    w.set(`${name}.weight`, rand([d], 0.2, 1));
    w.set(`${name}.bias`, rand([d], 0.05));
  };
  w.set('tok_emb.weight', rand([vocab, d], 1));
  w.set('cls_emb.weight', rand([1, d], 0.1));
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}.`;
    ln(p + 'ln1');
    for (const x of ['wq', 'wk', 'wv', 'wo']) lin(p + x, d, d);
    ln(p + 'ln2');
    lin(p + 'w1', 4 * d, d);
    lin(p + 'w2', d, 4 * d);
  }
  ln('ln_f');
  lin('head', vocab, d);
  const mg = new TransformerModel(manifest, w, gpu, { weights: 'f16' });
  const input = (B: number, L: number) => ({
    tokens: Uint32Array.from({ length: B * L }, (_, i) => (i * 7919) % vocab),
    batch: B,
    length: L,
  });
  // validate at L = 8 against the CPU twin on the same f16 weights
  const mc = new TransformerModel(manifest, w, cpu, { weights: 'f16' });
  const small = input(1, 8);
  const got: Record<string, Float32Array> = {};
  for (const p of PATHS) {
    gpu.f16Path = p;
    got[p] = (await gpu.read(mg.forward(small))) as Float32Array;
  }
  same('random model forward', got.native, got.packed);
  const maxAbsErr = assertClose('random model vs twin', got.native, await cpu.read(mc.forward(small)), 1e-3, 1e-3);
  mc.dispose();
  const what = `random d ${d}, ${layers} layers, vocab ${vocab}`;
  console.log(`${what}: ${(mg.weightBytes().total / 2 ** 20).toFixed(1)} MiB of weights; max |Δ| vs twin ${maxAbsErr}`);
  for (const B of batches) {
    const x = input(B, 128);
    const t = await time(() => mg.forward(x));
    models.push({ model: what, batch: B, length: 128, maxAbsErr, ...report(`${what} forward B ${B} L 128`, t) });
  }
  mg.dispose();
}

const file = writeResults('f16-paths', adapterName, suffix, { adapter, runs, matmuls, models });
console.log(`wrote ${file}`);
gpu.destroy();
process.exit(0);
