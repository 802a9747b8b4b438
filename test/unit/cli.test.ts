// The command line, run as a user runs it: the real binary (bin/samplescope.mjs) as a child process,
// on the CPU backend with small settings so each case takes a second or two. Typos and unknown
// options are refused with the closest option named; values are range-checked and outputs checked
// before any model loads (no "# model … loaded" line); exit codes 0 / 1 / 2 / 130; writes are atomic
// and a failed write keeps the samples; the help lists every registry knob, command and model;
// progress appears on a terminal (a pseudo-terminal from `script`) and not in a pipe; Ctrl-C exits
// 130 with the partial samples; Dawn's native stderr lines are hidden behind one explanation.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closest, COMMANDS, editDistance, parseArgs } from '../../src/cli/commands.js';
import { isNativeNoise } from '../../src/cli/native.js';
import { UsageError } from '../../src/errors.js';
import { KNOBS } from '../../src/knobs/registry.js';
import { specHash, type SweepSpec } from '../../src/sweep/spec.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/samplescope.mjs');
const T = 90_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: T,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LOADED = /# model \S+ on/;
const tmp = () => mkdtempSync(join(tmpdir(), 'ss-cli-'));
const TEXT = ['sample', '--model', 'text-mdm', '--backend', 'cpu', '--n', '2', '--length', '8'];

describe('option parsing (no process)', () => {
  it('edit distance counts a transposition as one edit; closest() finds typos and unique prefixes only', () => {
    expect(editDistance('tempreature', 'temperature')).toBe(1);
    expect(editDistance('seed', 'seed')).toBe(0);
    expect(closest('tempreature', ['temperature', 'top-p', 'seed'])).toBe('temperature');
    expect(closest('gudiance', ['guidance', 'guidance-lo', 'guidance-hi'])).toBe('guidance');
    expect(closest('frobnicate', ['temperature', 'seed', 'n'])).toBeUndefined();
    expect(closest('temp', ['temperature', 'top-p'])).toBe('temperature');
  });
  it('every command declares its options; knob commands take every registry flag; switches take no value', () => {
    const p = parseArgs(['sample', '--model', 'x', '--quiet', '--top-p=0.9', '--guidance', '-1']);
    expect(p.flags.get('top-p')).toBe('0.9');
    expect(p.flags.get('guidance')).toBe('-1'); // a negative value is a value (range-checked later), not an option
    expect(p.flags.get('quiet')).toBe('true');
    for (const k of KNOBS.filter((x) => x.flag)) expect(() => parseArgs(['sample', `--${k.flag}`, '1'])).not.toThrow();
    expect(() => parseArgs(['sample', '--quiet=yes'])).toThrow(/switch/);
    expect(() => parseArgs(['sample', '--seed'])).toThrow(/needs a value/);
    expect(() => parseArgs(['sample', '--seed', '1', '--seed', '2'])).toThrow(/twice/);
    expect(() => parseArgs(['sample', '--quiet', '3'])).toThrow(/takes no words.*a value after a switch/);
    expect(() => parseArgs(['info', '--temperature', '1'])).toThrow(UsageError); // a knob is not an option of info
    expect(() => parseArgs(['merge', '--shard', '0/2'])).toThrow(/--shard is an option of sweep/);
    expect(COMMANDS.map((c) => c.name)).toEqual(['sample', 'score', 'info', 'sweep', 'merge', 'convert', 'help']);
  });
  it('every example in the help parses, and names a shipped model and one of its classes', () => {
    for (const c of COMMANDS) {
      for (const ex of c.examples) {
        const words = [...ex.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(1);
        const p = parseArgs(words);
        expect(p.command.name, ex).toBe(c.name);
        const model = p.flags.get('model');
        if (!model) continue;
        const manifest = JSON.parse(readFileSync(join(ROOT, 'models', model, 'manifest.json'), 'utf8'));
        if (p.flags.has('class')) expect(manifest.classes, ex).toContain(p.flags.get('class'));
      }
    }
  });
  it("native driver lines are noise; the library's own lines and JS stack traces are not", () => {
    const dawn = [
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
      ' - While initializing adapter (backend=BackendType::Vulkan)',
      '    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)',
      'Warning: vkCreateInstance: Found no drivers!',
      '    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)',
    ];
    for (const l of dawn) expect(isNativeNoise(l), l).toBe(true);
    for (const l of [
      'samplescope: WebGPUUnavailableError: no WebGPU adapter',
      '# model text-mdm on cpu',
      'TypeError: x is undefined',
      '    at main (/work/src/cli/main.ts:12:3)',
    ])
      expect(isNativeNoise(l), l).toBe(false);
  });
});

describe('samplescope (the binary)', () => {
  it(
    'a typo is a usage error naming the closest option (exit 2, nothing loaded, nothing on stdout)',
    () => {
      const r = cli([...TEXT, '--tempreature', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown option --tempreature for sample — did you mean --temperature?');
      expect(r.stderr).not.toMatch(LOADED);
      expect(r.stdout).toBe('');
      const u = cli([...TEXT, '--frobnicate', '3']);
      expect(u.code).toBe(2);
      expect(u.stderr).toMatch(/unknown option --frobnicate for sample; samplescope sample --help/);
      const c = cli(['smaple', '--model', 'text-mdm']);
      expect([c.code, c.stderr]).toEqual([2, expect.stringContaining('did you mean sample?')]);
      const m = cli(['info', '--model', 'text-mdn']);
      expect([m.code, m.stderr]).toEqual([2, expect.stringContaining('did you mean text-mdm?')]);
    },
    T,
  );

  it(
    'values are range-checked before any model loads, by their flag and range',
    () => {
      const cases: [string[], RegExp][] = [
        [['--n', '1048576'], /--n must be an integer in \[1, 64\], got 1048576/],
        [['--top-p', '0'], /--top-p must be a number in \(0, 1\], got 0/],
        [['--temperature', 'warm'], /--temperature must be a number in \[0, 5\], got "not a number"/],
        [['--eta', '0.5'], /--eta does not apply to the fhs sampler/],
        [['--sampler', 'fsh'], /--sampler for text-mdm must be one of fhs, ancestral, got "fsh" — did you mean fhs\?/],
        [['--class', 'mobby'], /did you mean moby\?/],
      ];
      for (const [extra, want] of cases) {
        const r = cli([...TEXT.slice(0, 5), '--length', '8', ...extra]);
        expect(r.code, extra.join(' ')).toBe(2);
        expect(r.stderr, extra.join(' ')).toMatch(want);
        expect(r.stderr).not.toMatch(LOADED);
      }
      const len = cli(['sample', '--model', 'text-mdm', '--backend', 'cpu', '--length', '100000']);
      expect([len.code, len.stderr]).toEqual([
        2,
        expect.stringMatching(/--length must be an integer in \[1, \d+\], got 100000/),
      ]);
    },
    T,
  );

  it(
    '--out is checked before work: a missing folder, an unknown or wrong format are usage errors',
    () => {
      const d = tmp();
      const missing = cli([...TEXT, '--out', join(d, 'no-such-folder', 'x.txt')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no-such-folder x?.*does not exist|the folder .*no-such-folder does not exist/);
      expect(missing.stderr).not.toMatch(LOADED);
      expect(missing.stderr).not.toMatch(/ENOENT|\n\s+at /);
      const png = cli([...TEXT, '--out', join(d, 'x.png')]);
      expect([png.code, png.stderr]).toEqual([
        2,
        expect.stringContaining('text samples are written as txt or jsonl, not png'),
      ]);
      const csv = cli([...TEXT, '--out', join(d, 'x.csv')]);
      expect([csv.code, csv.stderr]).toEqual([2, expect.stringContaining('cannot tell the format')]);
      const img = cli(['sample', '--model', 'digits-fewstep', '--backend', 'cpu', '--out', join(d, 'x.jsonl')]);
      expect([img.code, img.stderr]).toEqual([2, expect.stringContaining('images are written as png, not jsonl')]);
      expect(cli([...TEXT, '--out', d]).stderr).toContain('is a folder');
      expect(readdirSync(d)).toEqual([]);
    },
    T,
  );

  it(
    '--path onnx-wasm --threads N: the fast CPU path on N worker threads, said on stderr; a bad count is a usage error',
    () => {
      const r = cli(
        ['sample', '--model', 'text-mdm', '--backend', 'cpu', '--path', 'onnx-wasm', '--threads', '2'].concat([
          '--n',
          '1',
          '--length',
          '8',
        ]),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /its ONNX form text-mdm-onnx on onnxruntime-web's wasm EP; 2 threads \(worker threads\)/,
      );
      const bad = cli([...TEXT, '--threads', '0']);
      expect([bad.code, bad.stderr]).toEqual([
        2,
        expect.stringContaining('--threads must be a positive integer or auto'),
      ]);
    },
    T,
  );

  it(
    'model-valued knobs: --draft-model NAME and --lambda-model NAME load that model; a bad name is a usage error',
    () => {
      const spec = cli(
        ['sample', '--model', 'text-asarm', '--sampler', 'speculative', '--draft-model', 'text-asarm-draft'].concat([
          '--backend',
          'cpu',
          '--n',
          '1',
          '--length',
          '8',
        ]),
      );
      expect(spec.code, spec.stderr).toBe(0);
      expect(spec.stderr).toMatch(/# draft model: text-asarm-draft/);
      expect(spec.stderr).toMatch(/"draftModel":"text-asarm-draft"/);
      const lam = cli(
        ['sample', '--model', 'digits-diffusion', '--lambda', '0.5', '--lambda-model', 'digits-fewstep'].concat([
          '--steps',
          '1',
          '--n',
          '1',
          '--class',
          '3',
          '--backend',
          'cpu',
          '--out',
          join(tmp(), 'l.png'),
        ]),
      );
      expect(lam.code, lam.stderr).toBe(0);
      expect(lam.stderr).toMatch(/# λ = 0.5 toward digits-fewstep/);
      expect(lam.stderr).toMatch(/"lambda":0.5,"lambdaModel":"digits-fewstep"/);
      const bad = cli([
        'sample',
        '--model',
        'text-asarm',
        '--sampler',
        'speculative',
        '--draft-model',
        'text-asarm-drft',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/did you mean text-asarm-draft/);
    },
    T,
  );

  it(
    'text: results on stdout, messages on stderr; --out .jsonl and .txt written whole, no temporary file left',
    () => {
      const r = cli(TEXT);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')).toHaveLength(3); // two samples and the final newline
      expect(r.stdout.split('\n')[0]).toHaveLength(8);
      expect(r.stderr).toMatch(/# 2 samples × 8; NFE \d+/);
      expect(r.stderr).not.toContain('\x1b['); // a pipe gets no progress bar
      expect(cli([...TEXT, '--quiet']).stderr).toBe('');
      const json = cli([...TEXT, '--format', 'jsonl', '--quiet']);
      expect(
        json.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).text),
      ).toEqual(r.stdout.trim().split('\n')); // same seed, same samples
      expect(cli([...TEXT, '--format', 'png']).code).toBe(2);
      const d = tmp();
      const j = cli([...TEXT, '--seed', '7', '--out', join(d, 's.jsonl')]);
      expect(j.code).toBe(0);
      expect(j.stdout).toBe('');
      const lines = readFileSync(join(d, 's.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.sample, l.text.length, l.model, l.sampler, l.seed])).toEqual([
        [0, 8, 'text-mdm', 'fhs', 7],
        [1, 8, 'text-mdm', 'fhs', 7],
      ]);
      expect(lines[0].nfe).toBeGreaterThan(0);
      const t = cli([...TEXT, '--seed', '7', '--out', join(d, 's.txt')]);
      expect(t.code).toBe(0);
      expect(readFileSync(join(d, 's.txt'), 'utf8')).toBe(lines.map((l) => l.text).join('\n') + '\n'); // same seed, same samples
      expect(readdirSync(d).sort()).toEqual(['s.jsonl', 's.txt']);
    },
    T,
  );

  it(
    'a write that fails after sampling keeps the samples and says where (exit 1, no stack trace)',
    () => {
      const d = tmp();
      const target = join(d, 's.txt');
      const r = cli([...TEXT, '--out', target], { SAMPLESCOPE_FAULT_WRITE: '1' });
      expect(r.code).toBe(1);
      const m = /could not write (.+?) \(ENOSPC: .*\); the results are safe in (\S+)/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      expect(m![1]).toBe(target);
      expect(
        readFileSync(m![2], 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.length),
      ).toEqual([8, 8]);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(d)).toEqual([]); // the temporary name was removed
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    T,
  );

  it(
    'a request that cannot fit is refused before its buffers exist, with how many samples would fit (exit 1)',
    () => {
      // the tiny fixture with a long window: 64 × 8192 tokens need 16 GiB logits-wide tensors, over the
      // CPU backend's 2 GiB per-tensor budget; the samplers' checkFits refuses it before allocating
      const d = tmp();
      cpSync(join(ROOT, 'test/fixtures/tiny-bidir'), d, { recursive: true });
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      m.architecture.max_len = 8192;
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      const r = cli(['sample', '--model', d, '--backend', 'cpu', '--n', '64', '--length', '8192']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'samplescope: LimitExceededError: tiny-bidir: a forward of batch 64 × length 8192: needs cpuMaxTensorBytes = 17179869184, but the CPU backend allows 2147483648',
      );
      expect(r.stderr).toContain('64 samples do not fit in one run here; at most 8 would (--n)');
      expect(readdirSync(d).sort()).toEqual(['golden.safetensors', 'manifest.json', 'model.safetensors']);
    },
    T,
  );

  it(
    'images: a PNG grid and a JSON of the knobs and metrics beside it',
    () => {
      const d = tmp();
      const r = cli([
        'sample',
        '--model',
        'digits-fewstep',
        '--backend',
        'cpu',
        '--n',
        '2',
        '--steps',
        '1',
        '--class',
        '3',
        '--out',
        join(d, 'g.png'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`wrote ${join(d, 'g.png')} (2 images`);
      expect([...readFileSync(join(d, 'g.png')).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
      const meta = JSON.parse(readFileSync(join(d, 'g.json'), 'utf8'));
      expect(meta).toMatchObject({
        model: 'digits-fewstep',
        sampler: 'ddim',
        n: 2,
        nfe: 1,
        backend: 'cpu',
        knobs: { steps: 1, classId: 3 },
      });
    },
    T,
  );

  it(
    'help: --help, help <command> and <command> --help list every command, registry knob and shipped model',
    () => {
      const top = cli(['--help']);
      expect(top.code).toBe(0);
      for (const c of COMMANDS) expect(top.stdout).toContain(`  ${c.name} `);
      for (const k of KNOBS.filter((x) => x.flag)) expect(top.stdout, k.name).toContain(`--${k.flag} `);
      for (const m of readdirSync(join(ROOT, 'models'))) expect(top.stdout, m).toContain(`  ${m} `);
      expect(top.stdout).toMatch(/exit codes: 0 .*1 .*\n.*2 .*130/);
      expect(top.stdout).toMatch(/--n N .*\(default 2\); an integer in \[1, 64\]/);
      const sample = cli(['sample', '--help']);
      expect(sample.code).toBe(0);
      expect(cli(['help', 'sample']).stdout).toBe(sample.stdout);
      for (const k of KNOBS.filter((x) => x.flag)) expect(sample.stdout, k.name).toContain(`--${k.flag} `);
      expect(sample.stdout).toContain('examples:');
      expect(cli(['score', '--help']).stdout).toMatch(/usage: samplescope score --model NAME \[options\] TEXT/);
      for (const out of [top.stdout, sample.stdout]) expect(out).not.toMatch(/see src\/cli/);
      expect(cli(['help', 'nosuch']).code).toBe(2);
      expect(cli([]).stdout).toBe(top.stdout);
    },
    T,
  );

  it(
    'score and info run; score checks its text before loading',
    () => {
      const s = cli(['score', '--model', 'text-mam', '--backend', 'cpu', '--class', 'moby', 'the wh?le']);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toMatch(/8 of \d+ characters observed/);
      expect(s.stdout).toMatch(/moby\s+-\d+\.\d{3}/);
      expect(cli(['score', '--model', 'text-mam', '--backend', 'cpu']).code).toBe(2);
      const bad = cli(['score', '--model', 'text-mam', '--backend', 'cpu', 'caf\u00e9']);
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("is not in text-mam's vocabulary")]);
      const asarm = cli(['score', '--model', 'text-asarm', '--backend', 'cpu', 'the']);
      expect([asarm.code, asarm.stderr]).toEqual([
        2,
        'samplescope: text-asarm has no marginal head; score needs a MaM model (text-mam, ising-mam)\n',
      ]);
      const i = cli(['info', '--model', 'text-mdm']);
      expect(i.code).toBe(0);
      expect(JSON.parse(i.stdout).name).toBe('text-mdm');
    },
    T,
  );

  it(
    'merge refuses unreadable parts and unwritable outputs with usage errors',
    () => {
      const d = tmp();
      expect(cli(['merge', join(d, 'nope.jsonl')]).stderr).toContain(`cannot read ${join(d, 'nope.jsonl')}: ENOENT`);
      writeFileSync(join(d, 'a.jsonl'), '');
      const r = cli(['merge', join(d, 'a.jsonl'), '--out', join(d, 'missing', 'm.jsonl')]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('does not exist')]);
    },
    T,
  );

  it(
    'sweep shards on schedulers: a bad index, a changed count, a second writer, an early merge, software adapters: refused, nothing written',
    () => {
      const d = tmp();
      const specFile = join(ROOT, 'bench/sweeps/digits-guidance-steps.json');
      const spec = JSON.parse(readFileSync(specFile, 'utf8')) as SweepSpec;
      const sweep = (args: string[], env: NodeJS.ProcessEnv = {}) =>
        cli(['sweep', '--spec', specFile, '--backend', 'cpu', ...args], env);
      const refused = (r: Run, re: RegExp) => {
        expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(re)]);
        expect(r.stderr).not.toMatch(/# sweep /); // nothing loaded or run
      };
      const part = join(d, 'part-0.jsonl');
      const slurm = { SLURM_ARRAY_JOB_ID: '9', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' };
      // --array=1-5 for a sweep cut in 4: task 5 is shard 4 of 4
      refused(
        sweep(['--out', part], { ...slurm, SLURM_ARRAY_TASK_ID: '5' }),
        /ShardError: shard index 4 .*outside \[0, 4\)/,
      );
      refused(sweep(['--shard', 'auto', '--out', part]), /ShardError: --shard auto: neither SLURM_ARRAY_TASK_ID/);
      refused(
        sweep(['--out', part, '--require-hardware']),
        /AdapterRequirementError: --require-hardware: .*CPU backend/,
      );
      expect(existsSync(part)).toBe(false);

      // part-0.jsonl holds a record of shard 0/4 (setting 4)
      const rec = {
        spec: specHash(spec),
        index: 4,
        knobs: {},
        axes: { consistency: 0, diversity: 1, realism: 0 },
        metrics: {},
        nfe: 1,
        ms: 1,
        backend: 'cpu',
      };
      const text = JSON.stringify({ ...rec, shard: { index: 0, count: 4 } }) + '\n';
      writeFileSync(part, text);
      refused(sweep(['--shard', '1/4', '--out', part]), /ShardError: .*holds records of shard 0\/4, not shard 1\/4/);
      refused(sweep(['--shard', '0/3', '--out', part]), /ShardError: .*the shard count changed/);
      refused(
        sweep(['--out', part], { ...slurm, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' }),
        /count changed/,
      );
      // a live process (this test's runner) holds the lock
      writeFileSync(`${part}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), shard: '0/4', since: 'now' }));
      refused(
        sweep(['--shard', '0/4', '--out', part]),
        new RegExp(`ShardError: .*being written by another process \\(pid ${process.pid}`),
      );
      expect(readFileSync(part, 'utf8')).toBe(text);

      // merging: shard 1 written with n = 2, shards 1-3 of 4 missing; the part still locked is named
      const other = join(d, 'part-1.jsonl');
      writeFileSync(other, JSON.stringify({ ...rec, index: 1, shard: { index: 1, count: 2 } }) + '\n');
      const out = join(d, 'sweep.jsonl');
      refused(
        cli(['merge', part, other, '--spec', specFile, '--out', out]),
        /ShardError: the parts were cut into different numbers of shards: n = 4 \(part 1\); n = 2 \(part 2\)/,
      );
      const early = cli(['merge', part, '--spec', specFile, '--out', out]);
      refused(
        early,
        /ShardError: settings missing .* shards not finished: 0\/4 \(2 of 3 settings missing\), 1\/4 .*, 2\/4 .*, 3\/4 .*; still being written: .*part-0.jsonl \(pid/,
      );
      expect(existsSync(out)).toBe(false);
    },
    T,
  );

  it(
    'merge reports timings per adapter when the parts ran on different ones, never one average',
    () => {
      const d = tmp();
      const grid = { guidance: [1, 2] };
      const specFile = join(d, 'spec.json');
      const spec = { ...JSON.parse(readFileSync(join(ROOT, 'bench/sweeps/digits-guidance-steps.json'), 'utf8')), grid };
      writeFileSync(specFile, JSON.stringify(spec));
      const gpu = { backend: 'webgpu', vendor: 'nvidia', architecture: 'hopper', description: 'H100', software: false };
      const cpu = {
        backend: 'cpu',
        vendor: '',
        architecture: 'cpu',
        description: 'CPU twins (no GPU)',
        software: true,
      };
      const line = (index: number, adapter: object, ms: number) =>
        JSON.stringify({
          spec: specHash(spec),
          index,
          knobs: { guidance: index + 1 },
          axes: { consistency: 0, diversity: 1, realism: 0 },
          metrics: {},
          nfe: 1,
          ms,
          backend: 'cpu',
          adapter,
          version: '0.1.0',
          shard: { index, count: 2 },
        }) + '\n';
      writeFileSync(join(d, 'a.jsonl'), line(0, gpu, 40));
      writeFileSync(join(d, 'b.jsonl'), line(1, cpu, 9000));
      const r = cli([
        'merge',
        join(d, 'a.jsonl'),
        join(d, 'b.jsonl'),
        '--spec',
        specFile,
        '--fronts',
        join(d, 'f.json'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        '# timings (ms) come from 2 adapters and are not averaged together: webgpu nvidia hopper H100: 1 settings, mean 40 ms; cpu cpu CPU twins (no GPU) (software): 1 settings, mean 9000 ms',
      );
      expect(r.stderr).not.toContain('4520');
      expect(
        JSON.parse(readFileSync(join(d, 'f.json'), 'utf8')).timing.map((t: { meanMs: number }) => t.meanMs),
      ).toEqual([40, 9000]);
    },
    T,
  );

  it.runIf(existsSync('/usr/bin/script'))(
    'progress: a bar on a terminal (a pseudo-terminal), none in a pipe; --progress gives lines in a pipe',
    () => {
      const cmd = [process.execPath, BIN, ...TEXT].map((a) => `'${a}'`).join(' ');
      const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: T });
      expect(tty.status).toBe(0);
      // eslint-disable-next-line no-control-regex -- the progress bar's ANSI erase-line is what is tested
      expect(tty.stdout).toMatch(/\r\x1b\[K\[[#-]{20}\] step \d+ · NFE \d+ · [\d.]+ tokens\/s · \d+% · ETA/);
      const quiet = spawnSync('script', ['-qec', `${cmd} --quiet`, '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: T,
      });
      expect(quiet.stdout).not.toContain('ETA');
      const pipe = cli(TEXT);
      expect(pipe.stderr).not.toContain('ETA');
      const lines = cli([...TEXT, '--progress']);
      expect(lines.stderr).toMatch(/^# progress: step \d+ · NFE \d+ .* ETA \S+$/m);
      expect(lines.stderr).not.toContain('\x1b[');
    },
    T,
  );

  it(
    'Ctrl-C (SIGINT) cancels through the engine: exit 130, the partial samples reported, nothing on stdout',
    async () => {
      const child = spawn(
        process.execPath,
        [BIN, 'sample', '--model', 'text-mdm', '--backend', 'cpu', '--n', '2', '--length', '64', '--progress'],
        { cwd: ROOT },
      );
      let stderr = '',
        stdout = '';
      child.stdout.on('data', (b) => (stdout += b));
      const code = await new Promise<number | null>((res) => {
        child.stderr.on('data', (b) => {
          stderr += b;
          if (stderr.includes('# progress:') && !child.killed) child.kill('SIGINT');
        });
        child.on('close', (c) => res(c));
      });
      expect(code).toBe(130);
      expect(stderr).toMatch(/cancelled \(Ctrl-C\) at step \d+ with \d+ of 128 tokens decided/);
      expect(stderr.match(/^# {3}[^\n]{64}$/gm)).toHaveLength(2); // the two partial samples
      expect(stdout).toBe('');
    },
    T,
  );

  it(
    'a sweep killed outright (SIGKILL) mid-shard leaves whole records; the rerun takes over its lock and skips them',
    async () => {
      const d = tmp();
      const spec = { ...JSON.parse(readFileSync(join(ROOT, 'bench/sweeps/digits-guidance-steps.json'), 'utf8')) };
      Object.assign(spec, { grid: { guidance: [1, 2, 3], steps: [1, 2] }, classes: [0, 1], perClass: 3, k: 2 });
      const specFile = join(d, 'spec.json');
      writeFileSync(specFile, JSON.stringify(spec));
      const part = join(d, 'part-1.jsonl');
      const args = [BIN, 'sweep', '--spec', specFile, '--backend', 'cpu', '--out', part];
      // shard 1 of 2 from a SLURM array (--array=0-1): settings 1, 3, 5
      const env = { ...process.env, SLURM_ARRAY_JOB_ID: '5', SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' };
      const child = spawn(process.execPath, args, { cwd: ROOT, env });
      let stderr = '';
      await new Promise<void>((res) => {
        child.stderr.on('data', (b) => {
          stderr += b;
          if (/# setting 1 /.test(stderr) && !child.killed) child.kill('SIGKILL'); // the first is written
        });
        child.on('close', () => res());
      });
      const kept = readFileSync(part, 'utf8');
      const indices = kept
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { index: number }).index);
      expect(indices[0]).toBe(1);
      expect(indices.length).toBeLessThan(3);
      expect(kept.endsWith('\n')).toBe(true);
      // no handler ran: the lock is still there, naming the dead pid and the SLURM task
      expect(JSON.parse(readFileSync(`${part}.lock`, 'utf8'))).toMatchObject({
        pid: child.pid,
        shard: '1/2',
        task: 'slurm:5_1',
      });
      expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const rerun = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', timeout: T });
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stderr).toMatch(/# took over .*part-1\.jsonl\.lock left by an earlier attempt \(pid \d+/);
      expect(rerun.stderr).toContain(`${indices.length} already in ${part}`);
      const all = readFileSync(part, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { index: number; shard: object });
      expect(all.map((r) => r.index)).toEqual([1, 3, 5]);
      expect(all[0].shard).toEqual({ index: 1, count: 2 });
      expect(existsSync(`${part}.lock`)).toBe(false);
    },
    T,
  );

  it(
    "without a Vulkan driver: the library's explanation first, Dawn's native lines hidden unless --verbose",
    () => {
      const env = { VK_ICD_FILENAMES: '/nonexistent/icd.json', XDG_RUNTIME_DIR: '' };
      const r = cli(['sample', '--model', 'text-mdm', '--n', '1', '--length', '4'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.split('\n')[0]).toMatch(/^# WebGPU is unavailable here: .*; running on the cpu backend/);
      expect(r.stderr).not.toMatch(/^Warning:|XDG_RUNTIME_DIR|CheckVkSuccessImpl/m);
      const v = cli(['sample', '--model', 'text-mdm', '--n', '1', '--length', '4', '--verbose'], env);
      expect(v.stderr).toMatch(/^Warning: /m);
      const gpu = cli(['sample', '--model', 'text-mdm', '--n', '1', '--length', '4', '--backend', 'webgpu'], env);
      expect(gpu.code).toBe(1);
      expect(gpu.stderr).toMatch(/^samplescope: WebGPUUnavailableError: .*\nsamplescope: no usable WebGPU adapter/);
      expect(gpu.stderr).not.toMatch(/^Warning:/m);
    },
    T,
  );
});
