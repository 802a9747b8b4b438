/**
 * The measurements of `npm run bench`, written once for both places they run: Node on Dawn
 * (bench/node.ts) and the Chromium page (bench/browser/page.ts, through Vite). Each section first
 * validates its outputs against the CPU reference backend (a failure throws BenchValidationError:
 * no number is reported), then times: the validation run is the first warm-up (it compiles the
 * pipelines), then `warmup` more untimed runs (samplers and diffusion: at least one, since their
 * sampling kernels are not in the validated forward), then the median and IQR of `runs`.
 *
 *   kernels    matmul n×n×n, webgpu vs the CPU twin: GFLOP/s
 *   forward    one model forward (text-mdm logits or digits-diffusion ε̂) incl. input upload and
 *              readback, on webgpu and on the CPU backend: ms
 *   samplers   text-mdm FHS vs ancestral (N = L), text-asarm ASSD (k = 4) vs sequential, text-mam
 *              one-pass log-marginal vs the any-order chain of conditionals: tokens/s and NFE
 *   diffusion  digits-diffusion DDIM: ms per denoising step and samples/s
 *   ttfs       cold time to first sample: backend + model load (sha256-checked) + pipeline compile +
 *              one FHS sample (text-mdm, batch 1), from a fresh process / browser
 *   profile    (only when asked: --only profile) the forward's dispatches, each replayed and timed
 *              (bench/profile.ts): where a forward's time goes, kernel by kernel
 */
import type { Backend } from '../src/backend/backend.js';
import { CpuBackend } from '../src/backend/cpu.js';
import type { WebGPUBackend } from '../src/backend/webgpu.js';
import type { AdapterSummary } from '../src/gpu/device.js';
import { loadDenoiser, loadModel } from '../src/models/index.js';
import type { DenoiserModel, Model } from '../src/models/model.js';
import { sampleAsarm } from '../src/samplers/asarm.js';
import { logMarginals } from '../src/samplers/mam.js';
import { sampleMdm, type MdmOptions } from '../src/samplers/mdm.js';
import { sampleDiffusion } from '../src/samplers/diffusion.js';
import { profileForward, type Profile } from './profile.js';
import { assertClose, BenchValidationError, stats, sum, uniformData, type Stats } from './util.js';

export type Section = 'kernels' | 'forward' | 'samplers' | 'diffusion' | 'ttfs' | 'profile';
export type Impl = 'ours-webgpu' | 'ours-cpu' | 'ort-webgpu' | 'ort-wasm';
/** the sections a plain `npm run bench` runs */
export const SECTIONS: readonly Section[] = ['kernels', 'forward', 'samplers', 'diffusion', 'ttfs'];
/** every section `--only` accepts */
export const ALL_SECTIONS: readonly Section[] = [...SECTIONS, 'profile'];
/** models the forward section knows how to feed (and training/export_onnx.py can export) */
export const FORWARD_MODELS = ['text-mdm', 'digits-diffusion'] as const;
export type ForwardModel = (typeof FORWARD_MODELS)[number];

/** One configuration: what one fresh process (Node) or one fresh browser (Chromium) measures. */
export interface BenchConfig {
  id: string;
  env: 'node' | 'browser';
  section: Section;
  runs: number;
  warmup: number;
  model?: ForwardModel;
  batch?: number;
  length?: number;
  /** kernels: matmul sizes */
  sizes?: number[];
  /** diffusion: DDIM steps; samplers: steps of the classic (one pass per step) ancestral sampler, 0 = not run */
  steps?: number;
  /** forward: implementations beside ours-webgpu (ort-* only in the browser) */
  peers?: Impl[];
  /** CPU-backend runs at most (the f64 twins are slow at batch 64) */
  cpuRuns?: number;
}

/** One measured figure. `value` is the median of `runs`; `adapterBound` when it ran on a software GPU. */
export interface Figure {
  section: Section;
  metric: string;
  unit: string;
  impl: Impl;
  model?: string;
  setting?: string;
  batch?: number;
  length?: number;
  value: number;
  iqr: number;
  runs: number;
  nfe?: number;
  peakGpuBytes?: number;
  adapterBound: boolean;
}

export interface Validation {
  what: string;
  maxAbsDiff: number;
  atol: number;
  rtol: number;
}

export interface ConfigResult {
  config: BenchConfig;
  env: 'node' | 'browser';
  adapter: AdapterSummary | null;
  figures: Figure[];
  validations: Validation[];
  /** peer adapters (ORT's WebGPU device), to show they ran on the same adapter */
  peerAdapters?: Record<string, unknown>;
  /** Chromium's version (browser runs) */
  browser?: string;
  /** the profile section's per-dispatch table */
  profile?: Profile;
  wallMs: number;
}

/** What a section needs from where it runs. */
export interface Host {
  env: 'node' | 'browser';
  /** a model folder: 'models/<name>' in Node, '/models/<name>/' in the browser */
  modelPath(name: string): string;
  /** the WebGPU backend (a typed error when there is no adapter) */
  webgpu(): Promise<WebGPUBackend>;
  /** peak bytes of GPU buffers on this backend's device so far */
  peakBytes(be: WebGPUBackend): number;
}

/** Tolerances: webgpu vs the f64 CPU twins, as the golden-parity tests (atol + rtol·|ref|). */
export const TOL = { matmul: { atol: 1e-4, rtol: 1e-4 }, forward: { atol: 2e-3, rtol: 2e-3 } };

export const now = (): number => performance.now();

/** Time `fn` (async): `warmup` untimed calls, then `runs` timed ones; the times in ms. */
export async function timeRuns(fn: () => Promise<unknown>, runs: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await fn();
    ts.push(now() - t0);
  }
  return ts;
}

/** Median and IQR of a rate: `work` units per run over each run's time (ms). */
export const rate = (ms: readonly number[], work: number): Stats => stats(ms.map((t) => work / (t / 1000)));

export interface Ctx {
  host: Host;
  config: BenchConfig;
  be: WebGPUBackend;
  cpu: CpuBackend;
  figures: Figure[];
  validations: Validation[];
}

function fig(c: Ctx, f: Omit<Figure, 'section' | 'adapterBound' | 'value' | 'iqr' | 'runs'>, s: Stats): Figure {
  const onGpu = f.impl === 'ours-webgpu' || f.impl === 'ort-webgpu';
  const out: Figure = {
    section: c.config.section,
    ...f,
    value: s.median,
    iqr: s.iqr,
    runs: s.runs,
    adapterBound: onGpu && !!c.be.info.adapter?.software,
  };
  c.figures.push(out);
  return out;
}

function validated(
  c: Ctx,
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { atol: number; rtol: number },
): void {
  const maxAbsDiff = assertClose(what, got, want, tol.atol, tol.rtol);
  c.validations.push({ what, maxAbsDiff, ...tol });
}

// ---- kernels ----------------------------------------------------------------------------------

async function kernels(c: Ctx): Promise<void> {
  const { be, cpu, config } = c;
  for (const n of config.sizes ?? [64, 128, 256]) {
    const a = uniformData(n * n, 1),
      b = uniformData(n * n, 2);
    const ta = be.tensor(a, [n, n]),
      tb = be.tensor(b, [n, n]),
      tc = be.empty([n, n]);
    const ca = cpu.tensor(a, [n, n]),
      cb = cpu.tensor(b, [n, n]);
    be.matmul(ta, tb, { out: tc });
    const want = (await cpu.read(cpu.matmul(ca, cb))) as Float32Array;
    validated(c, `matmul ${n}: webgpu vs CPU twin`, (await be.read(tc)) as Float32Array, want, TOL.matmul);
    const gflop = (2 * n * n * n) / 1e9;
    const g = await timeRuns(
      async () => {
        be.matmul(ta, tb, { out: tc });
        await be.flush();
      },
      config.runs,
      config.warmup,
    );
    fig(
      c,
      {
        metric: 'matmul GFLOP/s',
        unit: 'GFLOP/s',
        impl: 'ours-webgpu',
        setting: `${n}×${n}×${n}`,
        peakGpuBytes: c.host.peakBytes(be),
      },
      rate(g, gflop),
    );
    const k = await timeRuns(async () => cpu.matmul(ca, cb), Math.min(config.runs, config.cpuRuns ?? config.runs), 0);
    fig(c, { metric: 'matmul GFLOP/s', unit: 'GFLOP/s', impl: 'ours-cpu', setting: `${n}×${n}×${n}` }, rate(k, gflop));
    for (const t of [ta, tb, tc]) be.free(t);
  }
}

// ---- forward ----------------------------------------------------------------------------------

/** Deterministic inputs of a forward, shared with the ORT peer (which feeds the same values). */
export interface TextInputs {
  kind: 'text';
  tokens: Uint32Array;
  classes: Uint32Array;
  batch: number;
  length: number;
}
export interface ImageInputs {
  kind: 'image';
  x: Float32Array;
  t: Uint32Array;
  classes: Uint32Array;
  batch: number;
  size: number;
  channels: number;
  tDim: number;
}

export function textInputs(m: Model, batch: number, length: number): TextInputs {
  const tokens = new Uint32Array(batch * length);
  for (let i = 0; i < tokens.length; i++) tokens[i] = i % 3 === 0 ? (m.maskId ?? 0) : 1 + ((i * 7) % 60);
  const classes = Uint32Array.from({ length: batch }, (_, b) => b % (m.numClasses + 1));
  return { kind: 'text', tokens, classes, batch, length };
}

export function imageInputs(m: DenoiserModel, batch: number): ImageInputs {
  const S = m.imageSize;
  const x = uniformData(batch * S * S * m.channels, 3);
  const t = Uint32Array.from({ length: batch }, (_, b) => (37 + 101 * b) % m.timesteps);
  const classes = Uint32Array.from({ length: batch }, (_, b) => b % (m.numClasses + 1));
  const a = m.manifest.architecture;
  return { kind: 'image', x, t, classes, batch, size: S, channels: m.channels, tDim: a.type === 'dit' ? a.t_dim : 0 };
}

/** Loads the model on a backend and returns a forward that uploads inputs, runs and reads back. */
export async function forwardFn(
  host: Host,
  name: ForwardModel,
  be: Backend,
  batch: number,
  length: number,
): Promise<{ run: () => Promise<Float32Array>; inputs: TextInputs | ImageInputs; dispose(): void }> {
  if (name === 'text-mdm') {
    const m = await loadModel(host.modelPath(name), be);
    const inputs = textInputs(m, batch, length);
    const run = async () => {
      const out = await m.forward({ tokens: inputs.tokens, classes: inputs.classes, batch, length });
      const r = (await be.read(out)) as Float32Array;
      be.free(out);
      return r;
    };
    return { run, inputs, dispose: () => m.dispose() };
  }
  const m = await loadDenoiser(host.modelPath(name), be);
  const inputs = imageInputs(m, batch);
  const run = async () => {
    const x = be.tensor(inputs.x, [batch, m.imageSize, m.imageSize, m.channels]);
    const out = await m.forward({ x, t: inputs.t, classes: inputs.classes });
    const r = (await be.read(out)) as Float32Array;
    be.free(x);
    be.free(out);
    return r;
  };
  return { run, inputs, dispose: () => m.dispose() };
}

/**
 * The configured model's forward on webgpu and on the CPU backend, the webgpu output validated
 * against the CPU one (the first run of each: their warm-up). `cpuFirstMs` is that CPU run's time.
 */
async function validatedForward(c: Ctx) {
  const { be, cpu, config, host } = c;
  const name = config.model!,
    B = config.batch ?? 1,
    L = config.length ?? 32;
  const gpu = await forwardFn(host, name, be, B, L);
  const ref = await forwardFn(host, name, cpu, B, L);
  const t0 = now();
  const reference = await ref.run();
  const cpuFirstMs = now() - t0;
  validated(
    c,
    `${name} B=${B}${name === 'text-mdm' ? ` L=${L}` : ''}: ours webgpu vs ours cpu`,
    await gpu.run(),
    reference,
    TOL.forward,
  );
  return { name, B, L, gpu, ref, reference, cpuFirstMs };
}

/** Ours on webgpu and on the CPU backend; returns the CPU reference output and inputs for peers. */
export async function forward(c: Ctx): Promise<{ reference: Float32Array; inputs: TextInputs | ImageInputs }> {
  const { be, config, host } = c;
  const { name, B, L, gpu, ref, reference, cpuFirstMs } = await validatedForward(c);
  const base = {
    metric: 'forward ms',
    unit: 'ms',
    model: name,
    batch: B,
    ...(name === 'text-mdm' ? { length: L } : {}),
  };
  const g = await timeRuns(gpu.run, config.runs, config.warmup);
  fig(c, { ...base, impl: 'ours-webgpu', peakGpuBytes: host.peakBytes(be) }, stats(g));
  if (config.peers?.includes('ours-cpu')) {
    // the validation run above was the CPU warm-up; the f64 twins are slow, so `cpuRuns` caps the repeats
    const n = Math.min(config.runs, config.cpuRuns ?? config.runs);
    fig(c, { ...base, impl: 'ours-cpu' }, stats(n > 0 ? await timeRuns(ref.run, n, 0) : [cpuFirstMs]));
  }
  gpu.dispose();
  ref.dispose();
  return { reference, inputs: gpu.inputs };
}

/** The forward's dispatches one by one (bench/profile.ts), after the same validation as `forward`. */
async function profile(c: Ctx): Promise<Profile> {
  const { gpu, ref } = await validatedForward(c);
  ref.dispose();
  const p = await profileForward(c.be, gpu.run);
  gpu.dispose();
  return p;
}

// ---- samplers ---------------------------------------------------------------------------------

async function validModel(c: Ctx, name: string, twoStream = false): Promise<Model> {
  const m = await loadModel(c.host.modelPath(name), c.be);
  const r = await loadModel(c.host.modelPath(name), c.cpu);
  const B = 2,
    n = Math.min(16, m.maxLength);
  const { tokens, classes } = textInputs(m, B, n);
  const input = {
    tokens,
    classes,
    batch: B,
    length: n,
    ...(twoStream ? { order: Uint32Array.from({ length: B * n }, (_, i) => i % n) } : {}),
  };
  const got = (await c.be.read(await m.forward(input))) as Float32Array;
  const want = (await c.cpu.read(await r.forward(input))) as Float32Array;
  validated(c, `${name} B=${B} L=${n}: ours webgpu vs ours cpu`, got, want, TOL.forward);
  r.dispose();
  return m;
}

async function samplers(c: Ctx): Promise<void> {
  const { config, host, be } = c;
  const L = config.length ?? 16,
    B = config.batch ?? 1,
    runs = config.runs,
    warm = Math.max(1, config.warmup);
  const row = (model: string, setting: string, ms: number[], nfe: number) =>
    fig(
      c,
      {
        metric: 'tokens/s',
        unit: 'tok/s',
        impl: 'ours-webgpu',
        model,
        setting,
        batch: B,
        length: L,
        nfe,
        peakGpuBytes: host.peakBytes(be),
      },
      rate(ms, B * L),
    );
  const mdm = await validModel(c, 'text-mdm');
  const mdmSettings: [string, Omit<MdmOptions, 'batch' | 'length' | 'seed'>][] = [
    ['fhs', { sampler: 'fhs' }],
    [`ancestral N=${L}`, { sampler: 'ancestral', steps: L }],
  ];
  // the classic sampler: a fine time grid, one network pass per step
  if (config.steps)
    mdmSettings.push([
      `ancestral N=${config.steps} classic`,
      { sampler: 'ancestral', steps: config.steps, reuseLogits: false },
    ]);
  for (const [setting, o] of mdmSettings) {
    for (let i = 0; i < warm; i++) await sampleMdm(mdm, { ...o, batch: B, length: L, seed: 1, classId: 0 });
    const ms: number[] = [];
    let nfe = 0;
    for (let i = 0; i < runs; i++) {
      const r = await sampleMdm(mdm, { ...o, batch: B, length: L, seed: 2 + i, classId: 0 });
      ms.push(sum(r.stepTimesMs));
      nfe += r.nfe / runs;
    }
    row('text-mdm', setting, ms, nfe);
  }
  mdm.dispose();
  const asarm = await validModel(c, 'text-asarm', true);
  for (const [setting, o] of [
    ['sequential', { sampler: 'sequential' }],
    ['assd k=4', { sampler: 'assd', draft: 4 }],
  ] as const) {
    for (let i = 0; i < warm; i++) await sampleAsarm(asarm, { ...o, batch: B, length: L, seed: 1 });
    const ms: number[] = [];
    let nfe = 0;
    for (let i = 0; i < runs; i++) {
      const r = await sampleAsarm(asarm, { ...o, batch: B, length: L, seed: 2 + i });
      ms.push(sum(r.stepTimesMs));
      nfe += r.nfe / runs;
    }
    row('text-asarm', setting, ms, nfe);
  }
  asarm.dispose();
  // MaM: log p of the observed half of a text, one pass vs the chain of conditionals (batch 1)
  const mam = await validModel(c, 'text-mam');
  const tokens = new Uint32Array(L).fill(mam.maskId!);
  const observed: number[] = [];
  for (let i = 0; i < L; i += 2) {
    tokens[i] = 1 + ((i * 7) % 60);
    observed.push(i);
  }
  const one = async () => {
    await logMarginals(mam, tokens, 1, L);
  };
  const chain = async () => {
    const cur = new Uint32Array(L).fill(mam.maskId!);
    for (const i of observed) {
      const out = await mam.forward({ tokens: cur, batch: 1, length: L });
      await be.read(out);
      be.free(out);
      cur[i] = tokens[i];
    }
  };
  for (const [setting, fn, nfe] of [
    ['marginal (one pass)', one, 1],
    [`chain (${observed.length} passes)`, chain, observed.length],
  ] as const) {
    const ms = await timeRuns(fn, runs, warm);
    fig(
      c,
      {
        metric: 'observed tokens/s',
        unit: 'tok/s',
        impl: 'ours-webgpu',
        model: 'text-mam',
        setting,
        batch: 1,
        length: L,
        nfe,
        peakGpuBytes: host.peakBytes(be),
      },
      rate(ms, observed.length),
    );
  }
  mam.dispose();
}

// ---- diffusion --------------------------------------------------------------------------------

async function diffusion(c: Ctx): Promise<void> {
  const { config, host, be, cpu } = c;
  const B = config.batch ?? 1,
    steps = config.steps ?? 4;
  const m = await loadDenoiser(host.modelPath('digits-diffusion'), be);
  // validate the ε̂ the sampler uses against the CPU backend
  const r = await loadDenoiser(host.modelPath('digits-diffusion'), cpu);
  const inputs = imageInputs(m, Math.min(B, 2));
  const shape = [inputs.batch, m.imageSize, m.imageSize, m.channels];
  const [xg, xc] = [be.tensor(inputs.x, shape), cpu.tensor(inputs.x, shape)];
  const got = (await be.read(await m.forward({ x: xg, t: inputs.t, classes: inputs.classes }))) as Float32Array;
  const want = (await cpu.read(await r.forward({ x: xc, t: inputs.t, classes: inputs.classes }))) as Float32Array;
  validated(c, `digits-diffusion B=${inputs.batch}: ours webgpu vs ours cpu`, got, want, TOL.forward);
  r.dispose();
  const o = { sampler: 'ddim' as const, steps, batch: B, classId: 3, previewEvery: 0 };
  for (let i = 0; i < Math.max(1, config.warmup); i++) await sampleDiffusion(m, { ...o, seed: 1 });
  const perStep: number[] = [],
    perSample: number[] = [];
  for (let i = 0; i < config.runs; i++) {
    const res = await sampleDiffusion(m, { ...o, seed: 2 + i });
    perStep.push(stats(res.stepTimesMs).median);
    perSample.push(sum(res.stepTimesMs));
  }
  const base = {
    impl: 'ours-webgpu' as const,
    model: 'digits-diffusion',
    setting: `ddim ${steps} steps`,
    batch: B,
    nfe: steps,
    peakGpuBytes: host.peakBytes(be),
  };
  fig(c, { ...base, metric: 'ms/step', unit: 'ms' }, stats(perStep));
  fig(c, { ...base, metric: 'samples/s', unit: 'samples/s' }, rate(perSample, B));
  m.dispose();
}

// ---- time to first sample ---------------------------------------------------------------------

async function ttfs(c: Ctx, ttfsMs: number): Promise<void> {
  // the timed part ran before anything else (see runSection); validate its model afterwards
  const m = await validModel(c, 'text-mdm');
  m.dispose();
  fig(
    c,
    {
      metric: 'time to first sample (cold)',
      unit: 'ms',
      impl: 'ours-webgpu',
      model: 'text-mdm',
      setting: 'fhs',
      batch: 1,
      length: c.config.length ?? 16,
      nfe: c.config.length ?? 16,
      peakGpuBytes: c.host.peakBytes(c.be),
    },
    { median: ttfsMs, iqr: 0, runs: 1 },
  );
}

/**
 * Run one configuration. The ttfs section times backend creation, model load and the first sample
 * before anything else touches the GPU; every other section creates the backend first.
 * Returns the result and, for `forward`, the reference output and inputs (for peers).
 */
export async function runSection(
  host: Host,
  config: BenchConfig,
  t0 = now(),
): Promise<{
  result: ConfigResult;
  forward?: { reference: Float32Array; inputs: TextInputs | ImageInputs };
  ctx: Ctx;
}> {
  let ttfsMs = 0;
  let be: WebGPUBackend;
  if (config.section === 'ttfs') {
    const L = config.length ?? 16;
    be = await host.webgpu();
    const m = await loadModel(host.modelPath('text-mdm'), be);
    const r = await sampleMdm(m, { sampler: 'fhs', batch: 1, length: L, seed: 1, classId: 0 });
    ttfsMs = now() - t0;
    if (r.samples.length !== L) throw new BenchValidationError(`ttfs: ${r.samples.length} tokens, expected ${L}`);
    m.dispose();
  } else {
    be = await host.webgpu();
  }
  const ctx: Ctx = { host, config, be, cpu: new CpuBackend(), figures: [], validations: [] };
  let fwd;
  let prof: Profile | undefined;
  switch (config.section) {
    case 'kernels':
      await kernels(ctx);
      break;
    case 'forward':
      fwd = await forward(ctx);
      break;
    case 'samplers':
      await samplers(ctx);
      break;
    case 'diffusion':
      await diffusion(ctx);
      break;
    case 'ttfs':
      await ttfs(ctx, ttfsMs);
      break;
    case 'profile':
      prof = await profile(ctx);
      break;
    default:
      throw new Error(`unknown section ${String(config.section)}`);
  }
  const result: ConfigResult = {
    config,
    env: host.env,
    adapter: be.info.adapter ?? null,
    figures: ctx.figures,
    validations: ctx.validations,
    wallMs: now() - t0,
    ...(prof ? { profile: prof } : {}),
  };
  return { result, forward: fwd, ctx };
}
