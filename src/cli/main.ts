/**
 * samplescope command line (Node; WebGPU through Dawn, or the CPU twins). `samplescope --help` lists the
 * commands and every knob flag; the knobs, their flags, ranges and defaults come from the knob registry
 * (src/knobs/registry.ts, read through ./knob-flags.ts).
 *
 *   samplescope sample --model text-mdm --sampler fhs --n 8 --seed 1 --class moby
 *   samplescope score  --model text-mam "partial text with ? for unknown characters" [--class jargon]
 *   samplescope sample --model digits-diffusion --sampler ddim --steps 20 --class 3 --guidance 2 --out grid.png
 *   samplescope info   --model NAME
 *   samplescope sweep  --spec sweep.json [--shard i/n] [--out part.jsonl] [--backend …]
 *       runs a knob grid (src/metrics/sweep.ts SweepSpec; model fields are names under models/),
 *       appending one JSON line per finished setting; rerun to continue (settings already in --out are skipped)
 *   samplescope merge  part0.jsonl part1.jsonl … [--spec sweep.json] [--out sweep.jsonl] [--fronts fronts.json]
 *       joins shards (same spec; with --spec every setting must be present) and prints the Pareto fronts
 * --model takes a name under models/ or a folder path.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { AXES, expandGrid, shardSettings, mergeSweeps, parseJsonLines, parseShard, specHash, sweepFronts, toJsonLine, type SweepRecord, type SweepSpec } from '../metrics/sweep.js';
import { Engine } from '../worker/engine.js';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../backend/create.js';
import { SamplescopeError } from '../errors.js';
import { loadClassifier, loadDenoiser, loadManifest, loadModel } from '../models/index.js';
import type { Backend } from '../backend/backend.js';
import { sampleDiffusion } from '../samplers/diffusion.js';
import { encodeGreyPng, gridPixels } from './png.js';
import { marginalFormOf } from '../models/manifest.js';
import type { Model } from '../models/model.js';
import { sampleAsarm, type AsarmOptions } from '../samplers/asarm.js';
import { logMarginals } from '../samplers/mam.js';
import { sampleMdm, type MdmOptions } from '../samplers/mdm.js';
import type { SampleResult } from '../samplers/common.js';
import { imageKnobOptions } from '../knobs/options.js';
import { defaultOf, knobDefault, SAMPLERS } from '../knobs/registry.js';
import { cliHelp, readKnobFlags, UsageError } from './knob-flags.js';

function parse(argv: string[]): { cmd: string; flags: Map<string, string>; rest: string[] } {
  // `samplescope --help` has no command: the first word is a flag
  const [cmd = 'help', ...args] = argv[0]?.startsWith('--') ? ['help', ...argv] : argv;
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (v !== undefined) flags.set(k, v);
      else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags.set(k, args[++i]);
      else flags.set(k, 'true');
    } else rest.push(a);
  }
  return { cmd, flags, rest };
}

function modelDir(name: string): string {
  const bundled = fileURLToPath(new URL(`../../models/${name}`, import.meta.url));
  const bundledDist = fileURLToPath(new URL(`../../../models/${name}`, import.meta.url));
  for (const d of [name, bundled, bundledDist]) if (existsSync(`${d}/manifest.json`)) return d;
  throw new UsageError(`no model "${name}" (looked in ./${name}, models/${name})`);
}

function decode(model: Model, tokens: Uint32Array, b: number, L: number): string {
  const vocab = model.manifest.tokenizer.vocab;
  let s = '';
  for (let i = 0; i < L; i++) {
    const t = tokens[b * L + i];
    s += t === model.maskId ? '_' : vocab[t].length === 1 ? vocab[t] : `[${vocab[t]}]`;
  }
  return s;
}

function classOf(model: { manifest: { classes: string[] }; numClasses: number }, flags: Map<string, string>): number | undefined {
  const c = flags.get('class');
  if (c === undefined) return undefined;
  const i = model.manifest.classes.indexOf(c);
  if (i < 0 || i >= model.numClasses) throw new UsageError(`--class must be one of ${model.manifest.classes.slice(0, model.numClasses).join(', ')}`);
  return i;
}

async function main(argv: string[]): Promise<number> {
  const { cmd, flags, rest } = parse(argv);
  if (cmd === 'help' || flags.has('help')) {
    console.log(cliHelp());
    return 0;
  }
  if (cmd === 'sweep') return sweepCommand(flags);
  if (cmd === 'merge') return mergeCommand(flags, rest);
  const name = flags.get('model');
  if (!name) throw new UsageError('--model is required');
  const prefer = (flags.get('backend') ?? 'auto') as 'auto' | 'webgpu' | 'cpu';
  if (!['auto', 'webgpu', 'cpu'].includes(prefer)) throw new UsageError('--backend must be auto, webgpu or cpu');
  const be = await createBackend({ prefer });
  const dir = modelDir(name);
  const manifest = await loadManifest(dir);
  if (manifest.architecture.type === 'dit') return imageCommand(cmd, dir, be, flags);
  const t0 = performance.now();
  const model = await loadModel(dir, be);
  const loadMs = performance.now() - t0;
  const a = be.info.adapter;
  console.error(`# model ${model.name} on ${be.name}${a ? ` (${a.description || a.vendor + ' ' + a.architecture})` : ''}${be.info.fallbackReason ? ` — ${be.info.fallbackReason}` : ''}; loaded in ${loadMs.toFixed(0)} ms`);
  try {
    if (cmd === 'info') {
      console.log(JSON.stringify({ ...model.manifest, training: undefined }, null, 1));
      return 0;
    }
    if (cmd === 'score') {
      const text = rest.join(' ');
      if (!text) throw new UsageError('score needs the text to score ("?" marks unknown characters)');
      const vocab = model.manifest.tokenizer.vocab;
      const L = model.maxLength;
      if (text.length > L) throw new UsageError(`text is longer than the model's ${L} characters`);
      const tokens = new Uint32Array(L).fill(model.maskId!);
      for (let i = 0; i < text.length; i++) {
        if (text[i] === '?') continue;
        const id = vocab.indexOf(text[i]);
        if (id < 0) throw new UsageError(`character ${JSON.stringify(text[i])} is not in the vocabulary`);
        tokens[i] = id;
      }
      const observed = tokens.filter((t) => t !== model.maskId).length;
      if (observed === 0) {
        console.log(`nothing observed: all ${L} characters are unknown, so there is nothing to score (the log-probability of an empty observation is 0)`);
        return 0;
      }
      const asked = classOf(model, flags);
      const classes: [string, number | undefined][] = asked !== undefined ? [[model.manifest.classes[asked], asked]]
        : [...model.manifest.classes.slice(0, model.numClasses).map((c, i): [string, number] => [c, i]), ['(no class)', undefined]];
      const t1 = performance.now();
      console.log(`${observed} of ${L} characters observed; log p under ${model.name}, one pass per class:`);
      console.log(`  ${'class'.padEnd(12)} ${'log p (nats)'.padStart(13)} ${'per observed char'.padStart(18)}`);
      for (const [label, c] of classes) {
        const [lp] = await logMarginals(model, tokens, 1, L, c);
        console.log(`  ${label.padEnd(12)} ${lp.toFixed(3).padStart(13)} ${(lp / observed).toFixed(4).padStart(18)}`);
      }
      console.log(`  (${classes.length} passes, ${(performance.now() - t1).toFixed(0)} ms)`);
      const cal = model.manifest.calibration;
      if (cal) {
        console.log(`calibration (${cal.command ?? 'scripts/calibrate-mam.ts'}): on ${cal.snippets} held-out snippets the one-pass log p is off from ${cal.evaluator}'s exact likelihood by ${cal.vsExact.meanAbsPerChar.toFixed(3)} nats per observed character on average (Spearman ${cal.vsExact.spearman.toFixed(3)}); moving a text within the window changes it by ${cal.padding.meanAbsPerChar.toFixed(3)} nats per character`);
      } else {
        console.log(`calibration: not measured for this model${marginalFormOf(model.manifest) === 'mean-linear' ? '; its marginal head is unconstrained, so these values need not be normalized log-probabilities' : ''}`);
      }
      return 0;
    }
    if (cmd !== 'sample') throw new UsageError(`unknown command "${cmd}"`);
    const kind = model.attention === 'two-stream' ? 'asarm' : 'mdm';
    const sampler = flags.get('sampler') ?? SAMPLERS[kind][0][0];
    const { n, ...knobs } = readKnobFlags(flags, kind, sampler, { maxLength: model.maxLength, vocab: model.vocabSize });
    const common = {
      ...knobs,
      batch: (n as number | undefined) ?? defaultOf<number>('n'),
      length: (knobs.length as number | undefined) ?? model.maxLength,
      seed: (knobs.seed as number | undefined) ?? defaultOf<number>('seed'),
      classId: classOf(model, flags),
    } as Omit<MdmOptions, 'sampler' | 'order'> & Pick<AsarmOptions, 'draft'>;
    if (sampler === 'ancestral' && common.steps === undefined && common.tokensPerStep === undefined) common.steps = knobDefault('steps', kind, sampler) as number;
    let res: SampleResult;
    const t1 = performance.now();
    if (kind === 'asarm') res = await sampleAsarm(model, { ...common, sampler: sampler as 'sequential' | 'assd' });
    else res = await sampleMdm(model, { ...common, sampler: sampler as 'fhs' | 'ancestral' });
    const ms = performance.now() - t1;
    for (let b = 0; b < res.batch; b++) console.log(decode(model, res.samples, b, res.length));
    console.error(`# ${res.batch} samples × ${res.length}; NFE ${res.nfe}; ${ms.toFixed(0)} ms (${(ms / res.nfe).toFixed(1)} ms per pass); backend ${res.backend}; knobs ${JSON.stringify(res.knobs)}`);
    return 0;
  } finally {
    model.dispose();
  }
}

function readSpec(path: string | undefined): SweepSpec {
  if (!path) throw new UsageError('--spec sweep.json is required');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SweepSpec;
  } catch (e) {
    throw new UsageError(`cannot read the sweep spec ${path}: ${(e as Error).message}`);
  }
}

function printFronts(records: SweepRecord[]): Record<string, number[]> {
  const fronts = sweepFronts(records);
  console.log(['index', 'knobs', ...AXES, 'nfe', 'ms'].join('\t'));
  for (const r of records) console.log([r.index, JSON.stringify(r.knobs), ...AXES.map((a) => r.axes[a].toFixed(4)), r.nfe.toFixed(1), r.ms.toFixed(0)].join('\t'));
  for (const [k, idx] of Object.entries(fronts)) console.log(`front ${k}: ${idx.map((i) => `#${records[i].index} ${JSON.stringify(records[i].knobs)}`).join('; ')}`);
  return Object.fromEntries(Object.entries(fronts).map(([k, idx]) => [k, idx.map((i) => records[i].index)]));
}

/** Run a sweep spec (or a shard), appending each finished setting to --out as a JSON line. */
async function sweepCommand(flags: Map<string, string>): Promise<number> {
  const spec = readSpec(flags.get('spec'));
  const shard = flags.has('shard') ? parseShard(flags.get('shard')!) : undefined;
  const out = flags.get('out');
  const hash = specHash(spec);
  const done = out && existsSync(out) ? parseJsonLines(readFileSync(out, 'utf8')).filter((r) => r.spec === hash).map((r) => r.index) : [];
  const engine = new Engine();
  const prefer = (flags.get('backend') ?? 'auto') as 'auto' | 'webgpu' | 'cpu';
  const info = await engine.init(prefer);
  try {
    for (const name of new Set([spec.model, spec.classifier, spec.evaluator, spec.student].filter((x): x is string => !!x))) {
      await engine.loadModel(modelDir(name), { id: name });
    }
    const total = shardSettings(expandGrid(spec.grid), shard).length;
    console.error(`# sweep ${spec.name ?? ''} ${hash} on ${info.name}: ${total} settings${shard ? ` (shard ${shard.index}/${shard.count})` : ''}, ${out ? `${done.length} already in ${out}` : 'printing JSON lines (no --out)'}`);
    const records = await engine.sweep(spec, { shard, skip: done }, (r) => {
      if (out) appendFileSync(out, toJsonLine(r) + '\n');
      console.error(`# setting ${r.index} ${JSON.stringify(r.knobs)}: ${AXES.map((a) => `${a} ${r.axes[a].toFixed(3)}`).join(', ')} (${(r.ms / 1000).toFixed(1)} s)`);
    });
    if (!out) for (const r of records) console.log(toJsonLine(r));
    return 0;
  } finally {
    engine.dispose();
  }
}

/** Merge shard files, check them, print the table and fronts. */
async function mergeCommand(flags: Map<string, string>, files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('merge needs the JSON-lines files to merge');
  const parts = files.map((f) => parseJsonLines(readFileSync(f, 'utf8')));
  let expected: number | undefined;
  if (flags.has('spec')) {
    const spec = readSpec(flags.get('spec'));
    expected = expandGrid(spec.grid).length;
    const hash = specHash(spec);
    for (const [i, p] of parts.entries()) if (p.some((r) => r.spec !== hash)) throw new UsageError(`${files[i]} holds records of another spec than ${flags.get('spec')}`);
  }
  const records = mergeSweeps(parts, expected);
  const out = flags.get('out');
  if (out) writeFileSync(out, records.map(toJsonLine).join('\n') + '\n');
  const fronts = printFronts(records);
  const fr = flags.get('fronts');
  if (fr) writeFileSync(fr, JSON.stringify({ spec: records[0]?.spec, axes: AXES, fronts }, null, 1) + '\n');
  return 0;
}

/** Image denoisers: `sample` writes a PNG grid (and prints the classifier's verdicts when asked). */
async function imageCommand(cmd: string, dir: string, be: Backend, flags: Map<string, string>): Promise<number> {
  const t0 = performance.now();
  const model = await loadDenoiser(dir, be);
  console.error(`# model ${model.name} on ${be.name}; loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    if (cmd === 'info') {
      console.log(JSON.stringify({ ...model.manifest, training: undefined }, null, 1));
      return 0;
    }
    if (cmd !== 'sample') throw new UsageError(`"${cmd}" is not available for image models (sample, info)`);
    const classId = classOf(model, flags);
    const sampler = flags.get('sampler') ?? SAMPLERS.image[0][0];
    const gi = flags.get('guidance-interval'); // the older spelling of --guidance-lo/--guidance-hi
    if (gi !== undefined) {
      const [lo, hi = ''] = gi.split(',');
      flags.set('guidance-lo', lo);
      flags.set('guidance-hi', hi);
    }
    const { n: nFlag, ...knobs } = readKnobFlags(flags, 'image', sampler, { timesteps: model.timesteps });
    const n = (nFlag as number | undefined) ?? defaultOf<number>('n');
    const im = imageKnobOptions(knobs, model.timesteps);
    const t1 = performance.now();
    const res = await sampleDiffusion(model, {
      ...im.options, sampler: sampler as 'ddim' | 'ddpm' | 'consistency', steps: (knobs.steps as number | undefined) ?? (knobDefault('steps', 'image', sampler) as number | undefined),
      batch: n, seed: (knobs.seed as number | undefined) ?? defaultOf<number>('seed'), classId, guidanceInterval: im.guidanceInterval, previewEvery: 0,
    });
    const ms = performance.now() - t1;
    const [H, W] = res.shape;
    const out = flags.get('out') ?? 'samples.png';
    const g = gridPixels(res.images, n, H, W);
    writeFileSync(out, encodeGreyPng(g.width, g.height, g.pixels));
    console.log(`wrote ${out} (${n} images, ${g.width}×${g.height})`);
    const clfName = flags.get('classifier');
    if (clfName) {
      const clf = await loadClassifier(modelDir(clfName), be);
      const x = be.tensor(res.images, [n, H, W, 1]);
      const { features, logits } = clf.run(x);
      const l = (await be.read(logits)) as Float32Array;
      for (const t of [x, features, logits]) be.free(t);
      clf.dispose();
      const pred = Array.from({ length: n }, (_, b) => { let k = 0; for (let j = 1; j < clf.numClasses; j++) if (l[b * clf.numClasses + j] > l[b * clf.numClasses + k]) k = j; return k; });
      const acc = classId === undefined ? undefined : pred.filter((p) => p === classId).length / n;
      console.log(`classifier ${clf.name}: ${pred.join(' ')}${acc === undefined ? '' : `; accuracy on class ${classId}: ${(100 * acc).toFixed(1)}%`}`);
    }
    console.error(`# ${n} images; NFE ${res.nfe} per image; ${ms.toFixed(0)} ms (${(ms / res.stepTimesMs.length).toFixed(1)} ms per step); backend ${res.backend}; knobs ${JSON.stringify(res.knobs)}`);
    return 0;
  } finally {
    model.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) console.error(`samplescope: ${e.message}`);
    else if (e instanceof SamplescopeError) console.error(`samplescope: ${e.name}: ${e.message}`);
    else console.error(e);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
