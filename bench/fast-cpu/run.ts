/**
 * The fast CPU path vs the f64 twins (issue 19 item 1; not part of `npm test`): on the CPU backend, the
 * same engine calls with `path: 'native'` (the twins) and `path: 'onnx-wasm'` (the model's ONNX form on
 * onnxruntime-web's wasm EP, `--threads` threads, default 1; threads are fixed per process, so compare counts in
 * separate runs). First it validates (FHS tokens equal on ≥ 99 % of positions, DDIM
 * images within 1e-3), then times, in one process: one forward of text-mdm (B = 1 and 16, L = 128) and of
 * digits-diffusion (B = 16), and whole samplers — FHS L = 128 B = 1 and DDIM 20 steps B = 16.
 * Writes bench/results/fast-cpu-<host>.json.
 *
 *   npx tsx bench/fast-cpu/run.ts [--runs 3] [--threads 1|N|auto] [--skip-twin-samplers]
 */
import { cpus } from 'node:os';
import { arg, median } from '../util.js';
import { writeResults } from '../results-file.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadDenoiser, loadModel } from '../../src/models/index.js';
import { loadOnnxDenoiser, loadOnnxModel } from '../../src/models/onnx.js';
import { Engine } from '../../src/worker/engine.js';
import { ortThreads } from '../../src/models/onnx/threads.js';

const runs = Number(arg('runs', '3'));
const threadsArg = arg('threads', '1');
const plan = ortThreads(threadsArg === 'auto' ? 'auto' : Number(threadsArg));
console.log(`fast path: ${plan.reason}`);
const be = new CpuBackend();
const rows: { what: string; twinMs: number; fastMs: number; ratio: number }[] = [];
const time = async (n: number, f: () => Promise<unknown>) => {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
};
const row = (what: string, twinMs: number, fastMs: number) => {
  rows.push({ what, twinMs, fastMs, ratio: twinMs / fastMs });
  console.log(
    `${what}: twins ${twinMs.toFixed(1)} ms, fast path ${fastMs.toFixed(1)} ms → ${(twinMs / fastMs).toFixed(1)}×`,
  );
};

// validate first, through the engine (the same calls users make)
const e = new Engine();
await e.init('cpu');
await e.loadModel('models/text-mdm', { id: 'twin' });
await e.loadModel('models/text-mdm', { id: 'fast', path: 'onnx-wasm' });
await e.loadModel('models/digits-diffusion', { id: 'dtwin' });
await e.loadModel('models/digits-diffusion', { id: 'dfast', path: 'onnx-wasm' });
const fhs = { length: 128, batch: 1, seed: 1, classId: 0 };
const ddim = { sampler: 'ddim' as const, steps: 20, batch: 16, seed: 1, classId: 3, previewEvery: 0 };
const a = await e.sampleText({ model: 'fast', sampler: 'fhs', options: fhs });
let same = 0;
const skipTwin = process.argv.includes('--skip-twin-samplers');
let twinFhsMs = NaN,
  twinDdimMs = NaN;
if (!skipTwin) {
  const t0 = performance.now();
  const b = await e.sampleText({ model: 'twin', sampler: 'fhs', options: fhs });
  twinFhsMs = performance.now() - t0;
  a.samples.forEach((t, i) => (same += t === b.samples[i] ? 1 : 0));
  if (same / a.samples.length < 0.99) throw new Error(`validation failed: FHS tokens equal on ${same} of 128`);
  const t1 = performance.now();
  const di = await e.sampleImage({ model: 'dtwin', options: ddim });
  twinDdimMs = performance.now() - t1;
  const df = await e.sampleImage({ model: 'dfast', options: ddim });
  let worst = 0;
  df.images.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - di.images[i]))));
  if (!(worst < 1e-3)) throw new Error(`validation failed: DDIM images differ by ${worst}`);
  console.log(`validated: FHS tokens equal on ${same}/128, DDIM images max |Δ| ${worst.toExponential(2)}`);
}

// forward passes
const twin = await loadModel('models/text-mdm', be),
  fast = await loadOnnxModel('models/text-mdm-onnx', be, { ep: 'wasm' });
for (const B of [1, 16]) {
  const tokens = new Uint32Array(B * 128).fill(twin.maskId!),
    classes = new Uint32Array(B).fill(2);
  const fwd = (m: typeof twin | typeof fast) => async () =>
    be.free(await m.forward({ tokens, batch: B, length: 128, classes }));
  row(`text-mdm forward B=${B} L=128`, await time(1, fwd(twin)), await time(runs, fwd(fast)));
}
const dt = await loadDenoiser('models/digits-diffusion', be),
  df = await loadOnnxDenoiser('models/digits-diffusion-onnx', be, { ep: 'wasm' });
{
  const B = 16,
    x = be.tensor(new Float32Array(B * dt.imageSize * dt.imageSize * dt.channels), [
      B,
      dt.imageSize,
      dt.imageSize,
      dt.channels,
    ]);
  const t = new Uint32Array(B).fill(500),
    classes = new Uint32Array(B).fill(3);
  const fwd = (m: typeof dt | typeof df) => async () => be.free(await m.forward({ x, t, classes }));
  row(`digits-diffusion forward B=${B}`, await time(runs, fwd(dt)), await time(runs, fwd(df)));
}
// whole samplers (the fast path timed again after its warm-up above)
const fastFhs = await time(runs, () => e.sampleText({ model: 'fast', sampler: 'fhs', options: fhs }));
const fastDdim = await time(runs, () => e.sampleImage({ model: 'dfast', options: ddim }));
if (!skipTwin) {
  row('FHS L=128 B=1 (text-mdm, whole sampler)', twinFhsMs, fastFhs);
  row('DDIM 20 steps B=16 (digits-diffusion, whole sampler)', twinDdimMs, fastDdim);
}
const file = writeResults('fast-cpu', `node-${cpus().length}cpu`, plan.threads > 1 ? `-${plan.threads}threads` : '', {
  backend: 'cpu',
  threads: plan.threads,
  note: `twins: f64 reference kernels; fast path: the ONNX form on onnxruntime-web wasm EP (${plan.reason})`,
  rows,
});
console.log(`wrote ${file}`);
e.dispose();
