/**
 * samplescope command line (Node; WebGPU through Dawn, or the CPU twins).
 *
 *   samplescope sample --model text-mdm --sampler fhs --n 8 --seed 1 [--class moby] [--length 128]
 *                      [--steps N | --tokens-per-step k] [--draft k] [--temperature T] [--top-k K]
 *                      [--top-p P] [--guidance s] [--precision precise|naive-f32] [--backend auto|webgpu|cpu]
 *   samplescope score  --model text-mam "partial text with ? for unknown characters" [--class jargon]
 *   samplescope info   --model NAME
 * --model takes a name under models/ or a folder path.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../backend/create.js';
import { SamplescopeError } from '../errors.js';
import { loadModel } from '../models/index.js';
import type { Model } from '../models/model.js';
import { sampleAsarm } from '../samplers/asarm.js';
import { logMarginals } from '../samplers/mam.js';
import { sampleMdm } from '../samplers/mdm.js';
import type { SampleResult } from '../samplers/common.js';

class UsageError extends Error {}

function parse(argv: string[]): { cmd: string; flags: Map<string, string>; rest: string[] } {
  const [cmd = 'help', ...args] = argv;
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

function num(flags: Map<string, string>, k: string): number | undefined {
  const v = flags.get(k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${k} needs a number, got "${v}"`);
  return n;
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

function classOf(model: Model, flags: Map<string, string>): number | undefined {
  const c = flags.get('class');
  if (c === undefined) return undefined;
  const i = model.manifest.classes.indexOf(c);
  if (i < 0 || i >= model.numClasses) throw new UsageError(`--class must be one of ${model.manifest.classes.slice(0, model.numClasses).join(', ')}`);
  return i;
}

async function main(argv: string[]): Promise<number> {
  const { cmd, flags, rest } = parse(argv);
  if (cmd === 'help' || flags.has('help')) {
    console.log('usage: samplescope sample|score|info --model NAME [options]  (see src/cli/main.ts)');
    return 0;
  }
  const name = flags.get('model');
  if (!name) throw new UsageError('--model is required');
  const prefer = (flags.get('backend') ?? 'auto') as 'auto' | 'webgpu' | 'cpu';
  if (!['auto', 'webgpu', 'cpu'].includes(prefer)) throw new UsageError('--backend must be auto, webgpu or cpu');
  const be = await createBackend({ prefer });
  const t0 = performance.now();
  const model = await loadModel(modelDir(name), be);
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
      const t1 = performance.now();
      const [lp] = await logMarginals(model, tokens, 1, L, classOf(model, flags));
      const observed = tokens.filter((t) => t !== model.maskId).length;
      console.log(`log p = ${lp.toFixed(3)} nats (${(lp / Math.max(1, observed)).toFixed(4)} per observed character, ${observed} observed) in one pass, ${(performance.now() - t1).toFixed(0)} ms`);
      return 0;
    }
    if (cmd !== 'sample') throw new UsageError(`unknown command "${cmd}"`);
    const common = {
      batch: num(flags, 'n') ?? 4,
      length: num(flags, 'length') ?? model.maxLength,
      seed: num(flags, 'seed') ?? 0,
      classId: classOf(model, flags),
      guidance: num(flags, 'guidance'),
      temperature: num(flags, 'temperature'),
      topK: num(flags, 'top-k'),
      topP: num(flags, 'top-p'),
      precision: flags.get('precision') as 'precise' | 'naive-f32' | undefined,
    };
    const sampler = flags.get('sampler') ?? (model.attention === 'two-stream' ? 'assd' : 'fhs');
    let res: SampleResult;
    const t1 = performance.now();
    if (model.attention === 'two-stream') {
      res = await sampleAsarm(model, { ...common, sampler: sampler as 'sequential' | 'assd', draft: num(flags, 'draft') });
    } else {
      res = await sampleMdm(model, { ...common, sampler: sampler as 'fhs' | 'ancestral', steps: num(flags, 'steps'), tokensPerStep: num(flags, 'tokens-per-step') });
    }
    const ms = performance.now() - t1;
    for (let b = 0; b < res.batch; b++) console.log(decode(model, res.samples, b, res.length));
    console.error(`# ${res.batch} samples × ${res.length}; NFE ${res.nfe}; ${ms.toFixed(0)} ms (${(ms / res.nfe).toFixed(1)} ms per pass); backend ${res.backend}; knobs ${JSON.stringify(res.knobs)}`);
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
