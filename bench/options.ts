/**
 * `npm run bench` options → the list of configurations (bench/sections.ts BenchConfig), each run in a
 * fresh Node process or a fresh Chromium. Pure: no I/O, so a unit test can check the parsing and the
 * messages of bad configurations.
 */
import { existsSync } from 'node:fs';
import {
  ALL_SECTIONS,
  FORWARD_MODELS,
  SECTIONS,
  type BenchConfig,
  type ForwardModel,
  type Impl,
  type Section,
} from './sections.js';
import { arg, parseShard } from './util.js';

/** A bad command line: the runner prints the message and exits 2. */
export class BenchConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchConfigError';
  }
}

export type Env = 'node' | 'browser';
const ENVS: readonly Env[] = ['node', 'browser'];
const PEERS: readonly Impl[] = ['ours-cpu', 'ort-webgpu', 'ort-wasm'];

export interface BenchOptions {
  quick: boolean;
  envs: Env[];
  sections: Section[];
  /** sections run in the browser (the software adapter is slow: --quick leaves samplers/diffusion to Node) */
  browserSections: Section[];
  models: ForwardModel[];
  batches: number[];
  length: number;
  sizes: number[];
  runs: number;
  warmup: number;
  peers: Impl[];
  cpuRuns: number;
  samplerLength: number;
  samplerRuns: number;
  ancestralSteps: number;
  ttfsLength: number;
  diffusionBatch: number;
  steps: number;
  ttfsRepeats: number;
  shard: [number, number];
  chromium: string;
  out: string | undefined;
  list: boolean;
  verbose: boolean;
}

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const xs = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const x of xs) {
    if (!allowed.includes(x as T)) throw new BenchConfigError(`unknown ${flag} '${x}' (known: ${allowed.join(', ')})`);
  }
  if (!xs.length) throw new BenchConfigError(`--${flag} is empty`);
  return xs as T[];
}

function ints(flag: string, value: string, min = 1): number[] {
  const xs = value.split(',').map(Number);
  for (const x of xs)
    if (!(Number.isInteger(x) && x >= min))
      throw new BenchConfigError(`--${flag} takes integers ≥ ${min}, got '${value}'`);
  return xs;
}

const KNOWN_FLAGS = new Set([
  'quick',
  'env',
  'only',
  'browser-only',
  'models',
  'batches',
  'length',
  'sizes',
  'runs',
  'warmup',
  'peers',
  'cpu-runs',
  'sampler-length',
  'sampler-runs',
  'ancestral-steps',
  'ttfs-length',
  'diffusion-batch',
  'steps',
  'ttfs-repeats',
  'shard',
  'chromium',
  'out',
  'list',
  'verbose',
]);
const BOOLEAN_FLAGS = new Set(['quick', 'list', 'verbose']);

/** Parse the bench's argv (after `--`). Throws BenchConfigError for anything it does not know. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--'))
      throw new BenchConfigError(`unexpected argument '${a}' (options start with --; see bench/run.ts)`);
    const name = a.slice(2);
    if (!KNOWN_FLAGS.has(name))
      throw new BenchConfigError(`unknown option '${a}' (known: ${[...KNOWN_FLAGS].map((f) => `--${f}`).join(' ')})`);
    if (!BOOLEAN_FLAGS.has(name)) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new BenchConfigError(`${a} needs a value`);
      i++;
    }
  }
  const quick = argv.includes('--quick');
  const get = (name: string, quickDefault: string, fullDefault: string) =>
    arg(name, quick ? quickDefault : fullDefault, argv);
  const sections = list('section', get('only', SECTIONS.join(','), SECTIONS.join(',')), ALL_SECTIONS);
  const models = list('model', get('models', FORWARD_MODELS.join(','), FORWARD_MODELS.join(',')), FORWARD_MODELS);
  const length = ints('length', get('length', '16', '64'))[0];
  if (length > 128) throw new BenchConfigError(`--length ${length} exceeds text-mdm's max_len 128`);
  const samplerLength = ints('sampler-length', get('sampler-length', '8', '64'))[0];
  if (samplerLength > 128)
    throw new BenchConfigError(`--sampler-length ${samplerLength} exceeds the text models' max_len 128`);
  const opts: BenchOptions = {
    quick,
    envs: list('env', get('env', 'node,browser', 'node,browser'), ENVS),
    sections,
    browserSections: list('section', get('browser-only', 'forward,profile', ALL_SECTIONS.join(',')), ALL_SECTIONS),
    models,
    batches: ints('batches', get('batches', '1', '1,64')),
    length,
    sizes: ints('sizes', get('sizes', '64,128,256', '64,128,256,512,1024')),
    runs: ints('runs', get('runs', '3', '10'))[0],
    warmup: ints('warmup', get('warmup', '0', '2'), 0)[0],
    peers: list('peer', get('peers', PEERS.join(','), PEERS.join(',')), PEERS),
    cpuRuns: ints('cpu-runs', get('cpu-runs', '1', '3'), 0)[0],
    samplerLength,
    samplerRuns: ints('sampler-runs', get('sampler-runs', '2', '5'))[0],
    ancestralSteps: ints('ancestral-steps', get('ancestral-steps', '0', '256'), 0)[0],
    ttfsLength: ints('ttfs-length', get('ttfs-length', '8', '16'))[0],
    diffusionBatch: ints('diffusion-batch', get('diffusion-batch', '1', '16'))[0],
    steps: ints('steps', get('steps', '4', '20'))[0],
    ttfsRepeats: ints('ttfs-repeats', get('ttfs-repeats', '1', '3'))[0],
    shard: [0, 1],
    chromium: arg('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', argv),
    out: argv.includes('--out') ? arg('out', '', argv) : undefined,
    list: argv.includes('--list'),
    verbose: argv.includes('--verbose'),
  };
  try {
    opts.shard = parseShard(arg('shard', '0/1', argv));
  } catch (e) {
    throw new BenchConfigError((e as Error).message);
  }
  return opts;
}

/** Every configuration of the grid, in a fixed order; a shard i/n keeps those with index ≡ i (mod n). */
export function buildConfigs(o: BenchOptions): BenchConfig[] {
  const all: BenchConfig[] = [];
  const base = { runs: o.runs, warmup: o.warmup, cpuRuns: o.cpuRuns };
  for (const env of o.envs) {
    const sections = env === 'browser' ? o.sections.filter((s) => o.browserSections.includes(s)) : o.sections;
    const peers = o.peers.filter((p) => env === 'browser' || !p.startsWith('ort-'));
    for (const section of sections) {
      const add = (c: Partial<BenchConfig>, tag: string) =>
        all.push({ id: `${env}/${section}${tag}`, env, section, ...base, ...c });
      if (section === 'kernels') add({ sizes: o.sizes }, `/${o.sizes.join(',')}`);
      if (section === 'forward' || section === 'profile') {
        for (const model of o.models) {
          for (const batch of o.batches) {
            const length = model === 'text-mdm' ? o.length : undefined;
            add(
              { model, batch, ...(length ? { length } : {}), ...(section === 'forward' ? { peers } : {}) },
              `/${model}/b${batch}${length ? `-l${length}` : ''}`,
            );
          }
        }
      }
      if (section === 'samplers')
        add(
          { batch: 1, length: o.samplerLength, runs: o.samplerRuns, steps: o.ancestralSteps },
          `/l${o.samplerLength}`,
        );
      if (section === 'diffusion')
        add({ batch: o.diffusionBatch, steps: o.steps }, `/b${o.diffusionBatch}-s${o.steps}`);
      if (section === 'ttfs') {
        for (let r = 0; r < o.ttfsRepeats; r++)
          add({ length: o.ttfsLength, runs: 1, warmup: 0 }, `/text-mdm-l${o.ttfsLength}#${r}`);
      }
    }
  }
  const [i, n] = o.shard;
  return all.filter((_, k) => k % n === i);
}

/** Checks that need the file system: the model folders, and Chromium when the browser runs. */
export function checkEnvironment(o: BenchOptions, configs: BenchConfig[], root = '.'): void {
  const needed = new Set<string>();
  for (const c of configs) {
    if (c.model) needed.add(c.model);
    if (c.section === 'samplers') ['text-mdm', 'text-asarm', 'text-mam'].forEach((m) => needed.add(m));
    if (c.section === 'diffusion') needed.add('digits-diffusion');
    if (c.section === 'ttfs') needed.add('text-mdm');
  }
  for (const m of needed) {
    if (!existsSync(`${root}/models/${m}/manifest.json`))
      throw new BenchConfigError(`model '${m}' not found (models/${m}/manifest.json is missing)`);
  }
  if (configs.some((c) => c.env === 'browser') && !existsSync(o.chromium)) {
    throw new BenchConfigError(
      `Chromium not found at ${o.chromium} (run scripts/setup.sh, set CHROMIUM_PATH or pass --chromium, or --env node)`,
    );
  }
  if (!configs.length) throw new BenchConfigError('no configuration to run (check --only, --env and --shard)');
}
