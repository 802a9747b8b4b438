/**
 * samplescope command line (Node; WebGPU through Dawn, or the CPU twins), over the same `Engine` the
 * browser's worker runs (src/worker/engine.ts): loading, sampling, scoring, sweeps, progress and
 * cancellation go through it. `samplescope --help` lists the commands, every knob (from the knob
 * registry), the shipped models and examples; ./commands.ts declares each command's options.
 *
 * Every run checks first and works second: the options are parsed against the command's declared set
 * (an unknown one names the closest), knob values are range-checked against the model's manifest and
 * outputs are checked (folder, format) before a backend is acquired or a model loaded.
 *
 * Exit codes: 0 done; 1 the run failed (model, driver, write, shard, adapter); 2 usage (nothing ran); 130 Ctrl-C;
 * 143 a sweep stopped by SIGTERM.
 */
import { tokenizerFromSpec, type TextTokenizer } from '../models/tokenizer.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  LimitExceededError,
  OpInputError,
  SamplerConfigError,
  SamplescopeError,
  ShardError,
  UsageError,
  WebGPUUnavailableError,
} from '../errors.js';
import { imageKnobOptions } from '../knobs/options.js';
import {
  defaultOf,
  knobDef,
  knobDefault,
  KNOBS,
  SAMPLERS,
  type KnobContext,
  type ModelKind,
} from '../knobs/registry.js';
import {
  AXES,
  mergeSweeps,
  parseJsonLines,
  sweepFronts,
  timingByAdapter,
  toJsonLine,
  type SweepRecord,
} from '../sweep/records.js';
import { requireHardware, resolveShard } from '../sweep/cluster.js';
import { expandGrid, shardSettings, specHash, type SweepSpec } from '../sweep/spec.js';
import { loadManifest } from '../models/index.js';
import { convertHfFolder } from '../models/hf/convert.js';
import type { AnyManifest } from '../models/manifest.js';
import { Engine } from '../worker/engine.js';
import type { BackendPreference, ModelInfo, ModelPath, TextSampleRequest } from '../worker/protocol.js';
import type { OrtThreads } from '../models/onnx/threads.js';
import { fileStore } from './decision-file.js';
import { closest, cliHelp, commandHelp, commandSpec, parseArgs } from './commands.js';
import { readKnobFlags } from './knob-flags.js';
import { IN_CHILD, runFiltered } from './native.js';
import { planOutput, writeAtomic, type OutputPlan } from './output.js';
import { describeLock, readLock, ShardOutput } from './shard-out.js';
import { encodeGreyPng, gridPixels } from './png.js';
import { Messages, Progress, progressMode } from './progress.js';

type Flags = Map<string, string>;

const MODELS_DIRS = ['../../models/', '../../../models/'].map((r) => fileURLToPath(new URL(r, import.meta.url)));

function modelDir(name: string): string {
  for (const d of [name, ...MODELS_DIRS.map((m) => m + name)]) if (existsSync(`${d}/manifest.json`)) return d;
  const near = closest(
    name,
    MODELS_DIRS.flatMap((m) => (existsSync(m) ? readdirSync(m) : [])),
  );
  throw new UsageError(
    `no model "${name}" (looked in ./${name} and models/${name})${near ? ` — did you mean ${near}?` : ''}; samplescope --help lists the models`,
  );
}

function backendOf(flags: Flags): BackendPreference {
  const b = flags.get('backend') ?? 'auto';
  if (b !== 'auto' && b !== 'webgpu' && b !== 'cpu')
    throw new UsageError(`--backend must be auto, webgpu or cpu, got ${JSON.stringify(b)}`);
  return b;
}

/** --path and --threads: how a model with an ONNX form runs (ModelPath), and the fast CPU path's threads. */
function pathOf(flags: Flags): { path: ModelPath; threads: OrtThreads } {
  const p = flags.get('path') ?? 'native';
  if (p !== 'native' && p !== 'onnx-wasm' && p !== 'auto')
    throw new UsageError(`--path must be native, onnx-wasm or auto, got ${JSON.stringify(p)}`);
  const t = flags.get('threads') ?? 'auto';
  if (t !== 'auto' && !/^[1-9][0-9]*$/.test(t))
    throw new UsageError(`--threads must be a positive integer or auto, got ${JSON.stringify(t)}`);
  return { path: p, threads: t === 'auto' ? 'auto' : Number(t) };
}

function requireModel(flags: Flags, cmd: string): string {
  const name = flags.get('model');
  if (!name) throw new UsageError(`${cmd} needs --model NAME (samplescope ${cmd} --help lists the models)`);
  return modelDir(name);
}

/** What a model is, from its manifest alone (nothing loaded): its knob kind and the bounds its knobs take. */
function describe(manifest: AnyManifest, cmd: string): { kind: ModelKind; ctx: KnobContext; classes: string[] } {
  const a = manifest.architecture;
  if (a.type === 'dit' || (a.type === 'onnx' && a.kind === 'denoiser')) {
    const m = manifest as Extract<AnyManifest, { diffusion: unknown }>;
    return { kind: 'image', ctx: { timesteps: m.diffusion.timesteps }, classes: m.classes.slice(0, a.n_classes) };
  }
  if (a.type === 'transformer' || a.type === 'onnx' || a.type === 'hf')
    return {
      // AS-ARM knobs for two-stream and causal models (sequential sampling), MDM knobs for masked diffusion
      kind: (a.type === 'transformer' && a.attention === 'two-stream') || isCausal(manifest) ? 'asarm' : 'mdm',
      ctx: { maxLength: a.max_len, vocab: a.vocab_size },
      classes: manifest.classes.slice(0, a.n_classes),
    };
  throw new UsageError(
    `${manifest.name} is ${a.type === 'cnn' ? 'an image' : 'a text'} classifier; ${cmd} needs a ${cmd === 'score' ? 'MaM text model (text-mam, ising-mam)' : 'text or image generator'}${a.type === 'cnn' ? ' (an image classifier goes with sample --classifier)' : ''}`,
  );
}

/** A causal LM (an ONNX causal graph, a converted GPT-2 / causal LLaMA): left-to-right conditionals only. */
function isCausal(m: AnyManifest): boolean {
  const a = m.architecture;
  return (a.type === 'onnx' && a.kind === 'causal') || (a.type === 'hf' && a.causal);
}

function classOf(classes: string[], flags: Flags): number | undefined {
  const c = flags.get('class');
  if (c === undefined) return undefined;
  const i = classes.indexOf(c);
  if (i < 0) {
    const near = closest(c, classes);
    throw new UsageError(
      `--class must be one of ${classes.join(', ')}, got ${JSON.stringify(c)}${near ? ` — did you mean ${near}?` : ''}`,
    );
  }
  return i;
}

/**
 * Ctrl-C: the first cancels the run in flight through the engine (AbortError after the model call in
 * flight); a second one a second later quits at once.
 */
let cancelRun: (() => void) | undefined;
let firstInterrupt = 0;
function onInterrupt(msg: Messages): void {
  process.on('SIGINT', () => {
    const now = Date.now();
    if (firstInterrupt && now - firstInterrupt > 1000) process.exit(130);
    if (firstInterrupt) return; // the same Ctrl-C seen twice (the terminal's and the launcher's)
    firstInterrupt = now;
    if (cancelRun) {
      msg.info('# cancelling after the model call in flight (Ctrl-C again to quit at once)');
      cancelRun();
    } else {
      msg.error('samplescope: cancelled before sampling started');
      process.exit(130);
    }
  });
}

/** The engine on the asked backend; one line saying which backend it got and, after a fallback, why. */
async function startEngine(flags: Flags, msg: Messages): Promise<Engine> {
  const engine = new Engine({ decisions: fileStore() });
  const info = await engine.init(backendOf(flags));
  if (info.fallbackReason) {
    msg.info(
      `# ${info.fallbackReason.replace(/^WebGPU unavailable: /, 'WebGPU is unavailable here: ')}; running on the cpu backend (the reference twins: the same samples, slower). --backend cpu skips the probe; --verbose shows the driver's messages`,
    );
  }
  return engine;
}

/**
 * Run a request that Ctrl-C cancels (by its id): on AbortError `cancelled` says how far it got and the
 * result is undefined (the command exits 130); any other error propagates.
 */
async function cancellable<T>(
  engine: Engine,
  rid: string,
  cancelled: (e: AbortError) => void,
  run: (requestId: string) => Promise<T>,
): Promise<T | undefined> {
  cancelRun = () => engine.cancel(rid);
  try {
    return await run(rid);
  } catch (e) {
    if (!(e instanceof AbortError)) throw e;
    cancelled(e);
    return undefined;
  } finally {
    cancelRun = undefined;
  }
}

function backendLine(engine: Engine, model: ModelInfo, ms: number): Promise<string> {
  return engine
    .info()
    .then(
      (i) =>
        `# model ${model.name} on ${i.name}${i.adapter ? ` (${i.adapter.description || `${i.adapter.vendor} ${i.adapter.architecture}`})` : ''}${model.path?.used === 'onnx-wasm' ? ` — ${model.path.reason}` : ''}; loaded in ${ms.toFixed(0)} ms`,
    );
}

// ---------------------------------------------------------------------------------------------- sample

interface SamplePlan {
  dir: string;
  manifest: AnyManifest;
  kind: ModelKind;
  sampler: string;
  knobs: Record<string, unknown>;
  n: number;
  classId?: number;
  out: OutputPlan;
  classifier?: string;
  /** speculative decoding: the draft model's folder (loaded under the handle "draft") */
  draft?: string;
  /** λ > 0: the partner model's folder (loaded under the handle "partner") */
  partner?: string;
}

/**
 * The other model a run mixes in: a name the user gave (a folder or models/NAME; "self:N" loads nothing), or by
 * default the first shipped model whose manifest `made` says it was made for this one (a draft's `draft_for`,
 * a guidance-distilled student's `guidance_distilled.teacher`).
 */
function partnerDir(spec: unknown, made: (m: Record<string, unknown>) => boolean): string | undefined {
  if (typeof spec === 'string') return /^self:\d+$/.test(spec) ? undefined : modelDir(spec);
  for (const m of MODELS_DIRS)
    for (const name of existsSync(m) ? readdirSync(m).sort() : []) {
      const f = `${m}${name}/manifest.json`;
      if (existsSync(f) && made(JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>)) return m + name;
    }
  return undefined;
}

async function prepareSample(flags: Flags): Promise<SamplePlan> {
  const dir = requireModel(flags, 'sample');
  const manifest = await loadManifest(dir);
  const { kind, ctx, classes } = describe(manifest, 'sample');
  // a causal graph has left-to-right conditionals only: sequential sampling is all it supports
  const causal = isCausal(manifest);
  const samplers = causal
    ? ['sequential']
    : [...SAMPLERS[kind].map(([s]) => s), ...(kind === 'image' ? ['consistency'] : [])];
  const sampler = flags.get('sampler') ?? samplers[0];
  if (!samplers.includes(sampler)) {
    const near = closest(sampler, samplers);
    throw new UsageError(
      `--sampler for ${manifest.name} must be one of ${samplers.join(', ')}, got ${JSON.stringify(sampler)}${near ? ` — did you mean ${near}?` : ''}`,
    );
  }
  const gi = flags.get('guidance-interval'); // the older spelling of --guidance-lo/--guidance-hi
  if (gi !== undefined) {
    if (kind !== 'image') throw new UsageError('--guidance-interval applies to image models only');
    if (flags.has('guidance-lo') || flags.has('guidance-hi'))
      throw new UsageError('give --guidance-interval or --guidance-lo/--guidance-hi, not both');
    const [lo, hi = ''] = gi.split(',');
    flags.set('guidance-lo', lo);
    flags.set('guidance-hi', hi);
  }
  const { n, ...knobs } = readKnobFlags(flags, kind, sampler, ctx);
  const classId = classOf(classes, flags);
  const clf = flags.get('classifier');
  if (clf !== undefined && kind !== 'image')
    throw new UsageError('--classifier applies to image models (text samples are scored by sweeps)');
  const out = planOutput(
    flags.get('out') ?? (kind === 'image' ? 'samples.png' : undefined),
    flags.get('format'),
    kind === 'image' ? 'image' : 'text',
  );
  return {
    dir,
    manifest,
    kind,
    sampler,
    knobs,
    n: (n as number | undefined) ?? defaultOf<number>('n'),
    classId,
    out,
    classifier: clf === undefined ? undefined : modelDir(clf),
    draft: sampler === 'speculative' ? partnerDir(knobs.draftModel, (m) => m.draft_for === manifest.name) : undefined,
    partner:
      kind === 'image' && ((knobs.lambda as number | undefined) ?? 0) > 0
        ? partnerDir(
            knobs.lambdaModel,
            (m) => (m.guidance_distilled as { teacher?: string } | undefined)?.teacher === manifest.name,
          )
        : undefined,
  };
}

/** Row b of (batch, L) tokens as text, masked positions as _ (the model's tokenizer). */
function decode(tok: TextTokenizer, tokens: Uint32Array, b: number, L: number): string {
  return tok.decode(tokens.subarray(b * L, (b + 1) * L), '_');
}

async function sampleCommand(flags: Flags, msg: Messages): Promise<number> {
  const plan = await prepareSample(flags);
  const engine = await startEngine(flags, msg);
  try {
    const t0 = performance.now();
    const info = await engine.loadModel(plan.dir, { id: 'model', ...pathOf(flags) });
    msg.info(await backendLine(engine, info, performance.now() - t0));
    if (plan.draft) {
      const d = await engine.loadModel(plan.draft, { id: 'draft' });
      plan.knobs.draftModel = 'draft';
      msg.info(`# draft model: ${d.name}`);
    }
    if (plan.partner) {
      const d = await engine.loadModel(plan.partner, { id: 'partner' });
      plan.knobs.lambdaModel = 'partner';
      msg.info(`# λ = ${String(plan.knobs.lambda)} toward ${d.name}`);
    }
    const mode = progressMode({ quiet: flags.has('quiet'), progress: flags.has('progress') });
    try {
      return plan.kind === 'image'
        ? await sampleImages(engine, plan, msg, mode)
        : await sampleTexts(engine, plan, await tokenizerFromSpec(info.tokenizer!), info.maxLength!, msg, mode);
    } catch (e) {
      // the samplers check a request against the backend's largest tensor (model.checkFits) before
      // allocating anything for it; the bytes needed grow linearly with the batch, so say what fits
      if (!(e instanceof LimitExceededError)) throw e;
      msg.error(`samplescope: ${e.name}: ${e.message}`);
      msg.error(
        `samplescope: ${plan.n} samples do not fit in one run here; at most ${Math.floor((plan.n * e.available) / e.requested)} would (--n)${plan.kind === 'image' ? '' : ', or more of them with a shorter --length'}`,
      );
      return 1;
    }
  } finally {
    engine.dispose();
  }
}

async function sampleTexts(
  engine: Engine,
  plan: SamplePlan,
  tok: TextTokenizer,
  maxLength: number,
  msg: Messages,
  mode: ReturnType<typeof progressMode>,
): Promise<number> {
  const { knobs, sampler, kind } = plan;
  const options = {
    ...knobs,
    batch: plan.n,
    length: (knobs.length as number | undefined) ?? maxLength,
    seed: (knobs.seed as number | undefined) ?? defaultOf<number>('seed'),
    classId: plan.classId,
  } as TextSampleRequest['options'];
  if (sampler === 'ancestral' && options.steps === undefined && options.tokensPerStep === undefined)
    options.steps = knobDefault('steps', kind, sampler) as number;
  const cells = options.batch * options.length;
  const progress = new Progress(msg, mode, 'tokens');
  let partial: Uint32Array | undefined;
  const cancelled = (e: AbortError) => {
    const at = progress.latest;
    msg.error(
      `samplescope: cancelled (Ctrl-C) at step ${e.step}${at ? ` with ${at.done} of ${cells} tokens decided (NFE ${at.nfe})` : ''}; nothing was written. The partial samples ("_" = undecided):`,
    );
    if (partial) for (let b = 0; b < options.batch; b++) msg.error(`#   ${decode(tok, partial, b, options.length)}`);
  };
  const t1 = performance.now();
  const res = await cancellable(engine, 'cli-sample', cancelled, (requestId) =>
    engine
      .sampleText(
        { model: 'model', sampler: sampler as TextSampleRequest['sampler'], options },
        (p) => {
          partial = p.tokens;
          let decided = 0;
          if (p.tokens) for (const t of p.tokens) if (t !== tok.maskId) decided++;
          progress.update({ step: p.step, nfe: p.nfe, fraction: decided / cells, done: decided });
        },
        { requestId },
      )
      .finally(() => progress.done()),
  );
  if (!res) return 130;
  const ms = performance.now() - t1;
  const texts = Array.from({ length: res.batch }, (_, b) => decode(tok, res.samples, b, res.length));
  const body =
    plan.out.format === 'jsonl'
      ? texts
          .map((text, b) =>
            JSON.stringify({
              sample: b,
              text,
              model: plan.manifest.name,
              sampler,
              seed: options.seed,
              class: plan.classId === undefined ? null : plan.manifest.classes[plan.classId],
              nfe: res.nfe,
              backend: res.backend,
              knobs: res.knobs,
            }),
          )
          .join('\n') + '\n'
      : texts.join('\n') + '\n';
  if (plan.out.path) {
    writeAtomic(plan.out.path, body);
    msg.info(`# wrote ${res.batch} samples to ${plan.out.path}`);
  } else {
    process.stdout.write(body);
  }
  msg.info(
    `# ${res.batch} samples × ${res.length}; NFE ${res.nfe}; ${ms.toFixed(0)} ms (${(ms / res.nfe).toFixed(1)} ms per pass); backend ${res.backend}; knobs ${JSON.stringify(res.knobs)}`,
  );
  return 0;
}

async function sampleImages(
  engine: Engine,
  plan: SamplePlan,
  msg: Messages,
  mode: ReturnType<typeof progressMode>,
): Promise<number> {
  const { knobs, sampler, n } = plan;
  const timesteps = engine.modelInfo('model').timesteps!;
  const im = imageKnobOptions(knobs, timesteps);
  const progress = new Progress(msg, mode, 'steps');
  const options = {
    ...im.options,
    sampler: sampler as 'ddim' | 'ddpm' | 'consistency',
    steps: (knobs.steps as number | undefined) ?? (knobDefault('steps', 'image', sampler) as number | undefined),
    batch: n,
    seed: (knobs.seed as number | undefined) ?? defaultOf<number>('seed'),
    classId: plan.classId,
    guidanceInterval: im.guidanceInterval,
    previewEvery: 0,
  };
  const t1 = performance.now();
  const res = await cancellable(
    engine,
    'cli-sample',
    (e) => {
      const at = progress.latest;
      msg.error(
        `samplescope: cancelled (Ctrl-C) at step ${e.step}${at ? ` (${(100 * at.fraction).toFixed(0)}% of the denoising steps, NFE ${at.nfe})` : ''}; no image was written`,
      );
    },
    (requestId) =>
      engine
        .sampleImage(
          { model: 'model', options },
          (p) => progress.update({ step: p.step, nfe: p.nfe, fraction: p.steps ? p.step / p.steps : 0, done: p.step }),
          { requestId },
        )
        .finally(() => progress.done()),
  );
  if (!res) return 130;
  const ms = performance.now() - t1;
  const [H, W] = res.shape;
  const g = gridPixels(res.images, n, H, W);
  let verdicts: { classifier: string; predictions: number[]; accuracy?: number } | undefined;
  if (plan.classifier) {
    const clf = await engine.loadModel(plan.classifier, { id: 'classifier' });
    const { logits } = await engine.classify('classifier', res.images, n);
    const k = logits.length / n;
    const predictions = Array.from({ length: n }, (_, b) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits[b * k + j] > logits[b * k + best]) best = j;
      return best;
    });
    verdicts = {
      classifier: clf.name,
      predictions,
      ...(plan.classId === undefined ? {} : { accuracy: predictions.filter((p) => p === plan.classId).length / n }),
    };
  }
  const path = plan.out.path!;
  const sidecar = path.replace(/\.png$/i, '') + '.json';
  writeAtomic(path, encodeGreyPng(g.width, g.height, g.pixels));
  writeAtomic(
    sidecar,
    JSON.stringify(
      {
        model: plan.manifest.name,
        sampler,
        n,
        shape: res.shape,
        grid: [g.width, g.height],
        nfe: res.nfe,
        ms,
        backend: res.backend,
        knobs: res.knobs,
        ...(verdicts ? { classifier: verdicts } : {}),
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote ${path} (${n} images, ${g.width}×${g.height}) and ${sidecar}`);
  if (verdicts)
    console.log(
      `classifier ${verdicts.classifier}: ${verdicts.predictions.join(' ')}${verdicts.accuracy === undefined ? '' : `; accuracy on class ${plan.classId}: ${(100 * verdicts.accuracy).toFixed(1)}%`}`,
    );
  msg.info(
    `# ${n} images; NFE ${res.nfe} per image; ${ms.toFixed(0)} ms (${(ms / res.stepTimesMs.length).toFixed(1)} ms per step); backend ${res.backend}; knobs ${JSON.stringify(res.knobs)}`,
  );
  return 0;
}

// ----------------------------------------------------------------------------------------------- score

async function prepareScore(
  flags: Flags,
  rest: string[],
): Promise<{
  dir: string;
  tokens: Uint32Array;
  observed: number;
  L: number;
  classes: [string, number | undefined][];
  manifest: AnyManifest;
}> {
  const dir = requireModel(flags, 'score');
  const manifest = await loadManifest(dir);
  const { ctx, classes } = describe(manifest, 'score');
  if (manifest.architecture.type !== 'transformer' || !manifest.architecture.marginal_head)
    throw new UsageError(`${manifest.name} has no marginal head; score needs a MaM model (text-mam, ising-mam)`);
  const text = rest.join(' ');
  if (!text)
    throw new UsageError(
      'score needs the text to score ("?" marks unknown characters), e.g. samplescope score --model text-mam "te?t"',
    );
  const L = ctx.maxLength!;
  if (text.length > L) throw new UsageError(`the text has ${text.length} characters, more than the model's ${L}`);
  const m = manifest as Extract<AnyManifest, { tokenizer: unknown }>;
  if (m.tokenizer.type !== 'char') throw new UsageError(`score needs a character-level model; ${manifest.name} is not`);
  const vocab = m.tokenizer.vocab;
  const maskId = vocab.indexOf('[MASK]');
  const tokens = new Uint32Array(L).fill(maskId);
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '?') continue;
    const id = vocab.indexOf(text[i]);
    if (id < 0)
      throw new UsageError(
        `character ${JSON.stringify(text[i])} (position ${i}) is not in ${manifest.name}'s vocabulary`,
      );
    tokens[i] = id;
  }
  const asked = classOf(classes, flags);
  const list: [string, number | undefined][] =
    asked !== undefined
      ? [[classes[asked], asked]]
      : [...classes.map((c, i): [string, number] => [c, i]), ['(no class)', undefined]];
  return { dir, tokens, observed: tokens.filter((t) => t !== maskId).length, L, classes: list, manifest };
}

async function scoreCommand(flags: Flags, rest: string[], msg: Messages): Promise<number> {
  const p = await prepareScore(flags, rest);
  if (p.observed === 0) {
    console.log(
      `nothing observed: all ${p.L} characters are unknown, so there is nothing to score (the log-probability of an empty observation is 0)`,
    );
    return 0;
  }
  const engine = await startEngine(flags, msg);
  try {
    const t0 = performance.now();
    const info = await engine.loadModel(p.dir, { id: 'model', ...pathOf(flags) });
    msg.info(await backendLine(engine, info, performance.now() - t0));
    const t1 = performance.now();
    console.log(`${p.observed} of ${p.L} characters observed; log p under ${info.name}, one pass per class:`);
    console.log(`  ${'class'.padEnd(12)} ${'log p (nats)'.padStart(13)} ${'per observed char'.padStart(18)}`);
    for (const [label, c] of p.classes) {
      const [lp] = await engine.score('model', p.tokens, 1, p.L, c);
      console.log(`  ${label.padEnd(12)} ${lp.toFixed(3).padStart(13)} ${(lp / p.observed).toFixed(4).padStart(18)}`);
    }
    console.log(`  (${p.classes.length} passes, ${(performance.now() - t1).toFixed(0)} ms)`);
    const cal = info.calibration;
    if (cal) {
      console.log(
        `calibration (${cal.command ?? 'scripts/calibrate-mam.ts'}): on ${cal.snippets} held-out snippets the one-pass log p is off from ${cal.evaluator}'s exact likelihood by ${cal.vsExact.meanAbsPerChar.toFixed(3)} nats per observed character on average (Spearman ${cal.vsExact.spearman.toFixed(3)}); moving a text within the window changes it by ${cal.padding.meanAbsPerChar.toFixed(3)} nats per character`,
      );
    } else {
      console.log(
        `calibration: not measured for this model${(info.marginalForm ?? 'mean-linear') === 'mean-linear' ? '; its marginal head is unconstrained, so these values need not be normalized log-probabilities' : ''}`,
      );
    }
    return 0;
  } finally {
    engine.dispose();
  }
}

// ---------------------------------------------------------------------------------------- sweep, merge

function readSpec(path: string | undefined): SweepSpec {
  if (!path) throw new UsageError('--spec sweep.json is required');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SweepSpec;
  } catch (e) {
    throw new UsageError(`cannot read the sweep spec ${path}: ${(e as Error).message}`);
  }
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpInputError) throw new UsageError(e.message.replace(/^sweep: /, ''));
    throw e;
  }
}

function printFronts(records: SweepRecord[]): Record<string, number[]> {
  const fronts = sweepFronts(records);
  console.log(['index', 'knobs', ...AXES, 'nfe', 'ms'].join('\t'));
  for (const r of records)
    console.log(
      [
        r.index,
        JSON.stringify(r.knobs),
        ...AXES.map((a) => r.axes[a].toFixed(4)),
        r.nfe.toFixed(1),
        r.ms.toFixed(0),
      ].join('\t'),
    );
  for (const [k, idx] of Object.entries(fronts))
    console.log(`front ${k}: ${idx.map((i) => `#${records[i].index} ${JSON.stringify(records[i].knobs)}`).join('; ')}`);
  return Object.fromEntries(Object.entries(fronts).map(([k, idx]) => [k, idx.map((i) => records[i].index)]));
}

/**
 * Run a sweep spec (or a shard: `--shard i/n`, or from a SLURM array / Kubernetes Indexed Job environment), adding
 * each finished setting to --out (rewritten and renamed per setting, under a lock: ./shard-out.ts).
 */
async function sweepCommand(flags: Flags, msg: Messages): Promise<number> {
  const spec = readSpec(flags.get('spec'));
  const { shard, source, task } = usage(() => resolveShard(flags.get('shard'), process.env));
  const out = planOutput(flags.get('out'), undefined, 'records').path;
  // models the spec names, including knobs whose values are models (a draft, λ's partner), loaded under their names
  const refs = KNOBS.filter((k) => k.modelRef).flatMap((k) => [
    spec.base?.[k.name],
    ...((spec.grid?.[k.name] as unknown[] | undefined) ?? []),
  ]);
  const names = [
    ...new Set(
      [spec.model, spec.classifier, spec.evaluator, spec.student, ...refs].filter(
        (x): x is string => typeof x === 'string' && !!x && !/^self:\d+$/.test(x),
      ),
    ),
  ];
  const dirs = names.map((n) => modelDir(n));
  const total = usage(() => shardSettings(expandGrid(spec.grid), shard).length);
  const hash = specHash(spec);
  const file = out ? new ShardOutput(out, hash, shard, task) : undefined;
  const done = file?.done ?? [];
  // a scheduler stops a task with SIGTERM (scancel, a pod deletion): every finished setting is already in
  // the file; release the lock and go
  const onTerm = () => {
    file?.close();
    msg.error(
      `samplescope: sweep stopped (SIGTERM)${out ? `; finished settings are in ${out} — rerun to continue` : ''}`,
    );
    process.exit(143);
  };
  process.on('SIGTERM', onTerm);
  let finished = 0;
  let engine: Engine | undefined;
  try {
    if (file?.tookOver) msg.info(`# took over ${out}.lock left by an earlier attempt (${describeLock(file.tookOver)})`);
    engine = await startEngine(flags, msg);
    const info = await engine.info();
    if (flags.has('require-hardware')) requireHardware(info);
    for (const [i, name] of names.entries()) await engine.loadModel(dirs[i], { id: name, ...pathOf(flags) });
    msg.info(
      `# sweep ${spec.name ?? ''} ${hash} on ${info.name}: ${total} settings${shard ? ` (shard ${shard.index}/${shard.count}${source === 'flag' ? '' : ` from ${source === 'slurm' ? 'SLURM_ARRAY_TASK_ID' : 'JOB_COMPLETION_INDEX'}`})` : ''}, ${out ? `${done.length} already in ${out}` : 'printing JSON lines (no --out)'}`,
    );
    const e = engine;
    const cancelled = () =>
      msg.error(
        `samplescope: sweep cancelled (Ctrl-C): ${finished} settings finished this run${out ? ` and kept in ${out}; rerun the same command to continue` : ''}`,
      );
    const records = await cancellable(e, 'cli-sweep', cancelled, (requestId) =>
      e.sweep(spec, { shard, skip: done, requestId, requireHardware: flags.has('require-hardware') }, (r) => {
        finished++;
        if (file) file.add(r);
        else console.log(toJsonLine(r));
        msg.info(
          `# setting ${r.index} (${done.length + finished}/${total}) ${JSON.stringify(r.knobs)}: ${AXES.map((a) => `${a} ${r.axes[a].toFixed(3)}`).join(', ')} (${(r.ms / 1000).toFixed(1)} s)`,
        );
      }),
    );
    if (!records) return 130;
    msg.info(`# sweep done: ${records.length} settings run${out ? `, ${done.length + records.length} in ${out}` : ''}`);
    return 0;
  } finally {
    process.off('SIGTERM', onTerm);
    file?.close();
    engine?.dispose();
  }
}

/** Merge shard files, check them, print the table, the fronts and the timings per adapter. */
function mergeCommand(flags: Flags, files: string[], msg: Messages): number {
  if (files.length === 0) throw new UsageError('merge needs the JSON-lines files to merge');
  const out = planOutput(flags.get('out'), undefined, 'records').path;
  const frontsOut = planOutput(flags.get('fronts'), undefined, 'fronts', 'fronts').path;
  const parts = files.map((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return usage(() => parseJsonLines(text));
  });
  let expected: number | undefined;
  if (flags.has('spec')) {
    const spec = readSpec(flags.get('spec'));
    expected = expandGrid(spec.grid).length;
    const hash = specHash(spec);
    for (const [i, p] of parts.entries())
      if (p.some((r) => r.spec !== hash))
        throw new UsageError(`${files[i]} holds records of another spec than ${flags.get('spec')}`);
  }
  let records: SweepRecord[];
  try {
    records = usage(() => mergeSweeps(parts, expected));
  } catch (e) {
    if (!(e instanceof ShardError) || e.problem !== 'incomplete') throw e;
    const running = files.flatMap((f) => {
      const l = readLock(f);
      return l ? [`${f} (${describeLock(l)})`] : [];
    });
    throw new ShardError(
      'incomplete',
      `${e.message}${running.length ? `; still being written: ${running.join(', ')}` : ''}; nothing was written`,
      e.missing,
    );
  }
  if (out) writeAtomic(out, records.map(toJsonLine).join('\n') + '\n');
  const fronts = printFronts(records);
  const timing = timingByAdapter(records);
  if (timing.length > 1)
    msg.info(
      `# timings (ms) come from ${timing.length} adapters and are not averaged together: ${timing.map((t) => `${t.adapter}${t.software ? ' (software)' : ''}: ${t.settings} settings, mean ${t.meanMs.toFixed(0)} ms`).join('; ')}`,
    );
  else if (timing.length === 1)
    msg.info(`# timings: one adapter (${timing[0].adapter}), mean ${timing[0].meanMs.toFixed(0)} ms per setting`);
  if (frontsOut)
    writeAtomic(frontsOut, JSON.stringify({ spec: records[0]?.spec, axes: AXES, fronts, timing }, null, 1) + '\n');
  return 0;
}

// --------------------------------------------------------------------------------------------- convert

async function convertCommand(flags: Flags, rest: string[], msg: Messages): Promise<number> {
  if (rest.length !== 1) throw new UsageError('convert needs one HF-FOLDER (samplescope convert --help)');
  const dtype = flags.get('dtype');
  if (dtype !== undefined && dtype !== 'f16' && dtype !== 'f32')
    throw new UsageError(`--dtype must be f16 or f32, got ${JSON.stringify(dtype)}`);
  const attention = flags.get('attention');
  if (attention !== undefined && attention !== 'causal' && attention !== 'bidirectional')
    throw new UsageError(`--attention must be causal or bidirectional, got ${JSON.stringify(attention)}`);
  const ml = flags.get('max-len');
  const maxLen = ml === undefined ? undefined : Number(ml);
  if (maxLen !== undefined && !(Number.isSafeInteger(maxLen) && maxLen >= 1))
    throw new UsageError(`--max-len must be a positive integer, got ${JSON.stringify(ml)}`);
  const out = flags.get('out') ?? rest[0];
  const m = await convertHfFolder(rest[0], { out, dtype, attention, name: flags.get('name'), maxLen });
  const a = m.architecture;
  msg.info(
    `# ${out}/manifest.json: ${m.family} ${a.causal ? 'causal LM' : 'masked-diffusion denoiser'}, vocab ${a.vocab_size}, max length ${a.max_len}, ${m.files.length} files (sha256 each); load it with --model ${out}`,
  );
  return 0;
}

// ------------------------------------------------------------------------------------------------ main

async function main(argv: string[]): Promise<number> {
  const { command, flags, rest } = parseArgs(argv);
  if (command.name === 'help') {
    const about = rest[0] === undefined ? undefined : commandSpec(rest[0]);
    if (rest[0] !== undefined && !about)
      throw new UsageError(`no command "${rest[0]}" to explain (samplescope --help lists them)`);
    console.log(about ? commandHelp(about) : cliHelp());
    return 0;
  }
  if (flags.has('help')) {
    console.log(commandHelp(command));
    return 0;
  }
  const quiet = flags.has('quiet');
  const m = new Messages(quiet);
  const backend = backendOf(flags);
  // Dawn writes its own lines to stderr from native code: run a GPU-capable command as a child whose
  // stderr is filtered (./native.ts), after the checks that need no model so usage errors stay fast
  if (command.name === 'sample') await prepareSample(new Map(flags));
  if (command.name === 'score') await prepareScore(flags, rest);
  if (['sample', 'score', 'sweep'].includes(command.name) && backend !== 'cpu' && !IN_CHILD)
    return runFiltered(argv, flags.has('verbose'));
  onInterrupt(m);
  switch (command.name) {
    case 'sample':
      return sampleCommand(flags, m);
    case 'score':
      return scoreCommand(flags, rest, m);
    case 'info': {
      const manifest = await loadManifest(requireModel(flags, 'info'));
      console.log(JSON.stringify({ ...manifest, training: undefined }, null, 1));
      return 0;
    }
    case 'sweep':
      return sweepCommand(flags, m);
    case 'merge':
      return mergeCommand(flags, rest, m);
    case 'convert':
      return convertCommand(flags, rest, m);
  }
  throw new UsageError(`unknown command "${command.name}"`);
}

/**
 * The exit code and message for an error: usage → 2, typed run errors → 1 with their class, anything else
 * → 1 without a stack unless --verbose.
 */
export function reportError(e: unknown, msg: Messages, verbose: boolean): number {
  if (e instanceof UsageError) {
    msg.error(`samplescope: ${e.message}`);
    return 2;
  }
  if (e instanceof SamplerConfigError) {
    // named by its flag where it has one (a registry knob name or flag → "--top-p")
    const flag = knobDef(e.knob)?.flag ?? KNOBS.find((k) => k.flag === e.knob)?.flag;
    msg.error(
      `samplescope: ${flag ? `--${flag} must be ${e.allowed}, got ${typeof e.value === 'bigint' ? e.value.toString() : JSON.stringify(e.value)}` : e.message}`,
    );
    return 2;
  }
  if (e instanceof AbortError) {
    msg.error(`samplescope: ${e.message}`);
    return 130;
  }
  if (e instanceof SamplescopeError) {
    msg.error(`samplescope: ${e.name}: ${e.message}`);
    if (e instanceof WebGPUUnavailableError)
      msg.error(
        "samplescope: no usable WebGPU adapter (Dawn needs a Vulkan driver: scripts/setup.sh installs lavapipe and `npm run cli` uses it); --backend cpu runs on the CPU twins; --verbose shows the driver's messages",
      );
    if (verbose && e.stack) msg.error(e.stack);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  msg.error(
    `samplescope: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(e)}${verbose ? '' : ' (an unexpected failure; --verbose shows where)'}`,
  );
  if (verbose && err?.stack) msg.error(err.stack);
  return 1;
}

const argv = process.argv.slice(2);
const messages = new Messages(false);
// `samplescope sample … | head -1`: a reader that stops early is not a failure (no EPIPE stack trace)
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
main(argv).then(
  (code) => process.exit(code),
  (e) => process.exit(reportError(e, messages, argv.includes('--verbose'))),
);
