/**
 * The CLI's commands and the options each one declares: the knob flags come from the knob registry
 * (src/knobs/registry.ts, through ./knob-flags.ts), the rest are each command's own. Parsing refuses
 * what is not declared (naming the closest option), and every help text is generated from here, so a
 * flag the parser takes is a flag the help lists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { KNOBS, MODEL_KINDS, type ModelKind } from '../knobs/registry.js';
import { knobFlagHelp } from './knob-flags.js';

/** One declared option: `value` names its argument; absent = a switch that takes none. */
export interface OptionSpec {
  name: string;
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** the words after the options, e.g. 'TEXT' */
  positional?: string;
  options: OptionSpec[];
  /** the registry's knob flags are options of this command */
  knobs?: boolean;
  examples: string[];
}

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec[] = [
  {
    name: 'backend',
    value: 'auto|webgpu|cpu',
    help: 'where to run: WebGPU (Dawn on a Vulkan driver), the CPU twins, or WebGPU when available else cpu (default auto)',
  },
  {
    name: 'path',
    value: 'native|onnx-wasm|auto',
    help: "how a model with an ONNX form (manifest onnx_form) runs: our kernels / the CPU twins (default native), its ONNX form on onnxruntime-web's wasm EP (the fast CPU path), or auto (the ONNX form on the cpu backend, native on WebGPU)",
  },
  {
    name: 'threads',
    value: 'N|auto',
    help: "threads of the fast CPU path (onnxruntime-web's wasm EP, worker threads): a count, or auto (the cores, up to 4; default)",
  },
  { name: 'progress', help: 'a progress line per step on stderr even when stderr is not a terminal' },
  { name: 'quiet', help: 'nothing on stderr but errors (no progress, no summary)' },
  { name: 'verbose', help: "also show the native WebGPU driver's messages (hidden by default) and stack traces" },
  { name: 'help', help: "this command's help" },
];

const MODEL: OptionSpec = {
  name: 'model',
  value: 'NAME',
  help: 'a model name under models/ (see the list below) or a model folder',
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'sample',
    summary: 'draw samples from a text or image model',
    knobs: true,
    options: [
      MODEL,
      {
        name: 'out',
        value: 'FILE',
        help: 'write the samples to FILE: .txt (one per line) or .jsonl (one JSON object per sample) for text, .png (a grid, plus FILE.json with the knobs and metrics) for images; written to a temporary name and renamed, so a failure never leaves half a file. Default: text to stdout, images to samples.png',
      },
      {
        name: 'format',
        value: 'txt|jsonl|png',
        help: "the output format when FILE's extension does not say it (or for stdout: txt or jsonl)",
      },
      { name: 'classifier', value: 'NAME', help: 'images: run this classifier on the samples and print its verdicts' },
      { name: 'guidance-interval', value: 'LO,HI', help: 'older spelling of --guidance-lo LO --guidance-hi HI' },
    ],
    examples: [
      'samplescope sample --model text-mdm --sampler fhs --n 8 --seed 1 --class moby',
      'samplescope sample --model text-asarm --temperature 0.8 --out samples.jsonl',
      'samplescope sample --model text-asarm --sampler speculative --draft-model text-asarm-draft --draft 4 --class moby',
      'samplescope sample --model digits-diffusion --sampler ddim --steps 20 --class 3 --guidance 2 --out grid.png',
    ],
  },
  {
    name: 'score',
    summary: 'log p of a partial text under a MaM model ("?" marks an unknown character), per class',
    positional: 'TEXT',
    options: [
      MODEL,
      { name: 'class', value: 'NAME', help: 'score under this class only (default: every class and none)' },
    ],
    examples: [
      'samplescope score --model text-mam "the wh?le"',
      'samplescope score --model text-mam --class moby "call me ?shmael"',
    ],
  },
  {
    name: 'info',
    summary: "the model's manifest (architecture, classes, files, metrics) as JSON",
    options: [MODEL],
    examples: ['samplescope info --model text-mdm'],
  },
  {
    name: 'sweep',
    summary: 'run a knob grid (a sweep spec), one JSON line per finished setting; rerun to continue',
    options: [
      {
        name: 'spec',
        value: 'FILE',
        help: 'the sweep spec (JSON; src/sweep/spec.ts SweepSpec; model fields are names under models/)',
      },
      {
        name: 'shard',
        value: 'I/N|auto|auto/N',
        help: 'run only shard I of N (0-based: the settings with index ≡ I mod N). auto: I (and N) from a SLURM job array (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; N from auto/N or SAMPLESCOPE_SHARD_COUNT); without --shard, a task of either is its shard and anything else runs the whole sweep',
      },
      {
        name: 'out',
        value: 'FILE',
        help: "add each finished setting here (.jsonl; the file is rewritten and renamed after each, so a killed task loses at most the setting in flight); settings already in FILE are skipped; FILE.lock keeps a second process out, and another shard's or spec's FILE is refused. Default: stdout",
      },
      {
        name: 'require-hardware',
        help: 'fail before loading anything (AdapterRequirementError, exit 1) unless WebGPU runs on a hardware adapter: not the CPU backend, lavapipe, SwiftShader or a fallback adapter',
      },
    ],
    examples: [
      'samplescope sweep --spec sweep.json --shard 0/4 --out part0.jsonl',
      'samplescope sweep --spec sweep.json --shard auto --out part-$SLURM_ARRAY_TASK_ID.jsonl --require-hardware',
    ],
  },
  {
    name: 'merge',
    summary:
      'join sweep shards (same spec, same shard count), print the table, the Pareto fronts and timings per adapter',
    positional: 'PART.jsonl…',
    options: [
      {
        name: 'spec',
        value: 'FILE',
        help: "check the parts against this spec: every setting present (else the unfinished shards are named), no other spec's records",
      },
      { name: 'out', value: 'FILE', help: 'write the merged records (.jsonl)' },
      { name: 'fronts', value: 'FILE', help: 'write the Pareto fronts (.json)' },
    ],
    examples: ['samplescope merge part0.jsonl part1.jsonl --spec sweep.json --out sweep.jsonl --fronts fronts.json'],
  },
  {
    name: 'convert',
    summary:
      'write our manifest for a local Hugging Face folder (llama, qwen2, mistral, gpt2, bert, roberta) so --model DIR loads it',
    positional: 'HF-FOLDER',
    options: [
      {
        name: 'out',
        value: 'DIR',
        help: 'where to write manifest.json (and copies of the files it names); default: the HF folder itself, weights left in place',
      },
      {
        name: 'dtype',
        value: 'f16|f32',
        help: "rewrite the weights as one model.safetensors in this dtype (default: keep the checkpoint's files; F16/BF16 load as f32)",
      },
      {
        name: 'attention',
        value: 'causal|bidirectional',
        help: 'LLaMA-family models: a causal LM (sequential sampling, the NLL evaluator) or a LLaDA/Dream-style masked-diffusion denoiser (default: bidirectional when config.json names mask_token_id, else causal); gpt2 is causal, bert/roberta bidirectional',
      },
      { name: 'name', value: 'NAME', help: "the model's name in the manifest (default: the folder's name)" },
      {
        name: 'max-len',
        value: 'N',
        help: "the longest sequence the manifest allows (default: the config's positions, at most 2048)",
      },
    ],
    examples: [
      'samplescope convert ./llada-tiny --out models/llada-tiny --attention bidirectional',
      'samplescope convert ./gpt2 --out models/gpt2 --dtype f16',
    ],
  },
  {
    name: 'help',
    summary: "the overview, or one command's help",
    positional: '[COMMAND]',
    options: [],
    examples: ['samplescope help sample'],
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The options a command takes: its own, the common ones and (for knob commands) every registry knob flag. */
export function commandOptions(c: CommandSpec): OptionSpec[] {
  const knobs: OptionSpec[] = c.knobs
    ? KNOBS.filter((k) => k.flag).map((k) => ({ name: k.flag!, value: 'X', help: k.help }))
    : [];
  const own = new Set(c.options.map((o) => o.name));
  return [...c.options, ...knobs.filter((k) => !own.has(k.name)), ...COMMON_OPTIONS];
}

/** Edit distance with adjacent transpositions (optimal string alignment): "tempreature" → "temperature" is 1. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest of `names` to `word`, when close enough to be a typo (or a prefix of exactly one). */
export function closest(word: string, names: readonly string[]): string | undefined {
  const prefixed = names.filter((n) => n.startsWith(word));
  if (word.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | undefined,
    bestD = Infinity;
  for (const n of names) {
    const dist = editDistance(word, n);
    if (dist < bestD) [best, bestD] = [n, dist];
  }
  return best !== undefined && bestD <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : undefined;
}

export interface ParsedArgs {
  command: CommandSpec;
  /** option name → value ('true' for switches) */
  flags: Map<string, string>;
  rest: string[];
}

/**
 * Parse `argv` (after the program name) against the command's declared options. Unknown options,
 * a value missing, an option given twice, stray words for a command that takes none: UsageError.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help')
    return { command: commandSpec('help')!, flags: new Map(), rest: [] };
  if (first.startsWith('-'))
    throw new UsageError(
      `the command comes first: samplescope <command> [options] (commands: ${COMMANDS.map((c) => c.name).join(', ')}); samplescope --help lists them`,
    );
  const command = commandSpec(first);
  if (!command) {
    const near = closest(
      first,
      COMMANDS.map((c) => c.name),
    );
    throw new UsageError(
      `unknown command "${first}"${near ? ` — did you mean ${near}?` : ''} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`,
    );
  }
  const options = commandOptions(command);
  const byName = new Map(options.map((o) => [o.name, o]));
  const flags = new Map<string, string>();
  const rest: string[] = [];
  let onlyWords = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (onlyWords || !a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    if (a === '--') {
      onlyWords = true;
      continue;
    }
    if (a === '-h') {
      flags.set('help', 'true');
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (a.startsWith('--') ? 2 : 1));
    const o = byName.get(name);
    if (!o) throw new UsageError(unknownOption(command, name, options));
    if (flags.has(name)) throw new UsageError(`--${name} is given twice`);
    if (!o.value) {
      if (eq >= 0) throw new UsageError(`--${name} is a switch and takes no value`);
      flags.set(name, 'true');
    } else if (eq >= 0) {
      flags.set(name, a.slice(eq + 1));
    } else {
      // the next word is the value even when it starts with "-" (--guidance -1 is then range-checked)
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value (${o.value})`);
      flags.set(name, argv[++i]);
    }
  }
  if (!command.positional && rest.length > 0 && !flags.has('help')) {
    throw new UsageError(
      `${command.name} takes no words besides its options, got ${rest.map((r) => JSON.stringify(r)).join(' ')}${rest.length === 1 && !Number.isNaN(Number(rest[0])) ? ' (a value after a switch?)' : ''}`,
    );
  }
  return { command, flags, rest };
}

function unknownOption(command: CommandSpec, name: string, options: OptionSpec[]): string {
  const near = closest(
    name,
    options.map((o) => o.name),
  );
  const elsewhere = COMMANDS.filter((c) => c !== command && commandOptions(c).some((o) => o.name === name)).map(
    (c) => c.name,
  );
  return `unknown option --${name} for ${command.name}${near ? ` — did you mean --${near}?` : ''}${elsewhere.length ? ` (--${name} is an option of ${elsewhere.join(', ')})` : ''}; samplescope ${command.name} --help lists its options`;
}

/** The shipped models (models/*), one line each: name, kind, description. */
export function shippedModels(): string[] {
  for (const rel of ['../../models/', '../../../models/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    return names.flatMap((n) => {
      try {
        const m = JSON.parse(readFileSync(`${dir}${n}/manifest.json`, 'utf8')) as {
          architecture: { type: string; attention?: string };
          description?: string;
          classes?: string[];
        };
        const a = m.architecture;
        const kind =
          a.type === 'dit'
            ? 'image denoiser (sample)'
            : a.type === 'cnn'
              ? 'image classifier (--classifier)'
              : a.type === 'textcnn'
                ? 'text classifier (sweep metrics)'
                : a.attention === 'two-stream'
                  ? 'AS-ARM text (sample)'
                  : 'masked diffusion text (sample, score)';
        return [`  ${n.padEnd(18)} ${kind}${m.classes?.length ? `; classes ${m.classes.join(', ')}` : ''}`];
      } catch {
        return [];
      }
    });
  }
  return ['  (no models/ folder next to this installation)'];
}

const KIND_TITLES: Record<ModelKind, string> = {
  mdm: 'masked diffusion text models (text-mdm, text-mam, ising-mam)',
  asarm: 'AS-ARM text models (text-asarm)',
  image: 'image denoisers (digits-diffusion, digits-fewstep)',
};

const EXIT_CODES = [
  'exit codes: 0 done; 1 the run failed (a model, driver or write error; the message says which);',
  '            2 the command line is wrong (nothing was loaded or run); 130 cancelled by Ctrl-C (partial work reported);',
  '            143 a sweep stopped by SIGTERM (scancel, a pod deletion: its finished settings are in --out)',
];

function optionLines(opts: OptionSpec[]): string[] {
  return opts.map((o) => `  --${o.name}${o.value ? ` ${o.value}` : ''}  ${o.help}`);
}

/** `samplescope <command> --help` / `samplescope help <command>`. */
export function commandHelp(c: CommandSpec): string {
  const model = c.options.some((o) => o.name === 'model');
  return [
    `usage: samplescope ${c.name}${model ? ' --model NAME' : ''} [options]${c.positional ? ` ${c.positional}` : ''}`,
    '',
    c.summary,
    '',
    'options:',
    ...optionLines(c.options),
    ...(c.knobs
      ? MODEL_KINDS.flatMap((k) => [
          '',
          `knobs for ${KIND_TITLES[k]} (range-checked before the model loads):`,
          ...knobFlagHelp(k),
        ])
      : []),
    '',
    'options of every command:',
    ...optionLines(COMMON_OPTIONS),
    ...(model ? ['', 'models:', ...shippedModels()] : []),
    '',
    'examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    ...EXIT_CODES,
  ].join('\n');
}

/** `samplescope --help`: every command, every knob, the shipped models, examples, exit codes. */
export function cliHelp(): string {
  const sample = commandSpec('sample')!;
  return [
    'usage: samplescope <command> [options]        samplescope <command> --help  (or: samplescope help <command>)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(7)} ${c.summary}`),
    '',
    'sample options:',
    ...optionLines(sample.options),
    ...MODEL_KINDS.flatMap((k) => ['', `sample knobs for ${KIND_TITLES[k]}:`, ...knobFlagHelp(k)]),
    '',
    'options of every command:',
    ...optionLines(COMMON_OPTIONS),
    '',
    'models (--model NAME; or a folder holding a manifest.json):',
    ...shippedModels(),
    '',
    'examples:',
    ...COMMANDS.flatMap((c) => c.examples.map((e) => `  ${e}`)),
    '',
    'output: results go to stdout (or --out); messages, progress and the summary to stderr.',
    ...EXIT_CODES,
  ].join('\n');
}
