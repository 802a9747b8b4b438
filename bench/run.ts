/**
 * `npm run bench` — the whole benchmark (not part of `npm test`). Every configuration runs in a fresh
 * Node process on Dawn (bench/node.ts) or a fresh headless Chromium with WebGPU (puppeteer-core,
 * bench/browser/, served by Vite on 127.0.0.1); each validates against the CPU reference before it
 * times (bench/sections.ts). In the browser the peers — onnxruntime-web on its WebGPU and wasm EPs,
 * running the ONNX export of the same weights (training/export_onnx.py → bench/.onnx/, made here when
 * missing or older than the weights) — run in the same page on the same adapter.
 *
 *   npm run bench -- --quick                        # < 2 min on a 2-core machine with software GPUs
 *   npm run bench                                   # the full grid (see bench/options.ts for defaults)
 *   npm run bench -- --env browser --only forward --models text-mdm --batches 1,64 --length 128 --runs 10
 *   npm run bench -- --shard 0/2 --out a.json; npm run bench -- --shard 1/2 --out b.json
 *   npm run bench -- merge a.json b.json [--out merged.json]
 *   npm run bench -- --list                         # print the configurations and exit
 *   npm run bench -- --only profile --quick         # where a forward's time goes, dispatch by dispatch
 *
 * Writes bench/results/<date>-<adapter>[-quick][-shard<i>of<n>].json (adapter info, commit, every
 * figure, every validation, the ratios) and a Markdown table beside it (.md), also printed.
 * Exit status: 0 done; 1 a run failed (validation, no adapter, a crash, a timeout: the others still
 * run and the report lists it); 2 a bad command line.
 */
import { spawn, execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ViteDevServer } from 'vite';
import { buildConfigs, BenchConfigError, checkEnvironment, parseOptions, type BenchOptions } from './options.js';
import { markdown, ratios, type Report } from './report.js';
import type { BenchConfig, ConfigResult } from './sections.js';
import { slug } from './util.js';

const argv = process.argv.slice(2);

function commit(): string {
  try {
    const c = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return dirty ? `${c}+dirty` : c;
  } catch {
    return 'unknown';
  }
}

/** The ONNX files the browser peers need; exported (PyTorch) when missing or older than the weights. */
function ensureOnnx(configs: BenchConfig[]): void {
  const text = new Set<string>(),
    digits = new Set<number>();
  for (const c of configs) {
    if (c.env !== 'browser' || c.section !== 'forward' || !c.peers?.some((p) => p.startsWith('ort-'))) continue;
    const [file, weights] =
      c.model === 'text-mdm'
        ? [`bench/.onnx/text-mdm-b${c.batch}-l${c.length}.onnx`, 'models/text-mdm/model.safetensors']
        : [`bench/.onnx/digits-diffusion-b${c.batch}.onnx`, 'models/digits-diffusion/model.safetensors'];
    if (existsSync(file) && statSync(file).mtimeMs >= statSync(weights).mtimeMs) continue;
    if (c.model === 'text-mdm') text.add(`${c.batch}x${c.length}`);
    else digits.add(c.batch!);
  }
  if (!text.size && !digits.size) return;
  const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const args = [
    'training/export_onnx.py',
    ...(text.size ? ['--text-mdm', [...text].join(',')] : []),
    ...(digits.size ? ['--digits', [...digits].join(',')] : []),
  ];
  console.log(`exporting ONNX for the peers: ${python} ${args.join(' ')}`);
  try {
    execFileSync(python, args, {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join('\n');
    throw new Error(
      `the ONNX export for the ORT peers failed: it needs PyTorch (\`bash scripts/setup.sh --bench\` installs Debian's python3-torch; or set $PYTHON), or leave the ORT peers out with --peers ours-cpu:\n${err ?? (e as Error).message}`,
    );
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'samplescope-bench-'));

/** One configuration in a fresh Node process on Dawn. */
function runNode(c: BenchConfig, o: BenchOptions, limitMs: number): Promise<ConfigResult> {
  const file = join(tmp, `${slug(c.id, 80)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/node.ts', JSON.stringify(c), file], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      err += s;
      if (o.verbose) process.stderr.write(s);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${c.id}: no result after ${limitMs / 1000} s`));
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(file)) return resolve(JSON.parse(readFileSync(file, 'utf8')) as ConfigResult);
      // Dawn's limit warnings are noise; the last other lines say what went wrong
      const msg = err
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('Warning: '))
        .slice(-4)
        .join('\n');
      reject(new Error(`${c.id} (Node, Dawn): ${msg || `exit ${code}`}`));
    });
  });
}

let server: { server: ViteDevServer; url: string } | undefined;

/** One configuration in a fresh headless Chromium, on the bench page. */
async function runBrowser(c: BenchConfig, o: BenchOptions, limitMs: number): Promise<ConfigResult> {
  process.env.CHROMIUM_PATH = o.chromium;
  const { launchBrowser, startServer } = await import('../test/util/browser.js');
  server ??= await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`  page error: ${(e as Error).message}`));
    if (o.verbose) page.on('console', (m) => console.log(`  [page] ${m.text()}`));
    let report!: (json: string) => void;
    const done = new Promise<string>((res) => {
      report = res;
    });
    await page.exposeFunction('__benchReport', (json: string) => report(json));
    await page.goto(new URL('bench/browser/index.html', server.url).href);
    await page.waitForFunction('window.__benchReady === true', { timeout: 120_000 });
    await page.evaluate((cfg) => {
      void window.__bench(cfg);
    }, c);
    let timer: NodeJS.Timeout | undefined;
    const json = await Promise.race([
      done,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${c.id}: no result after ${limitMs / 1000} s`)), limitMs);
      }),
    ]);
    clearTimeout(timer);
    const msg = JSON.parse(json) as { ok: true; result: ConfigResult } | { ok: false; error: string };
    if (!msg.ok) throw new Error(`${c.id} (Chromium ${o.chromium}): ${msg.error}`);
    msg.result.browser = await browser.version();
    return msg.result;
  } finally {
    await browser.close();
  }
}

function outPath(o: BenchOptions | null, results: ConfigResult[], suffix = ''): string {
  if (o?.out) return o.out;
  const names = new Set<string>();
  for (const env of ['browser', 'node'] as const) {
    const a = results.find((r) => r.env === env)?.adapter;
    if (a) names.add(slug(a.description || `${a.vendor}-${a.architecture}`, 24));
  }
  const shard = o && o.shard[1] > 1 ? `-shard${o.shard[0]}of${o.shard[1]}` : '';
  const profile = o && o.sections.length === 1 && o.sections[0] === 'profile' ? '-profile' : '';
  return `bench/results/${new Date().toISOString().slice(0, 10)}-${[...names].join('+') || 'no-adapter'}${o?.quick ? '-quick' : ''}${profile}${shard}${suffix}.json`;
}

function write(rep: Report, file: string): void {
  mkdirSync(file.replace(/\/[^/]*$/, '') || '.', { recursive: true });
  writeFileSync(file, JSON.stringify(rep, null, 1) + '\n');
  const md = markdown(rep);
  writeFileSync(file.replace(/\.json$/, '') + '.md', md);
  console.log(`\n${md}\nwrote ${file} and ${file.replace(/\.json$/, '')}.md`);
}

function adaptersOf(results: ConfigResult[]): Report['adapters'] {
  const a: Report['adapters'] = {};
  const node = results.find((r) => r.env === 'node');
  const br = results.find((r) => r.env === 'browser');
  if (node) a['Node (Dawn, npm webgpu)'] = node.adapter;
  if (br) a[`Chromium ${br.browser ?? ''} (navigator.gpu)`.replace(/\s+\(/, ' (')] = br.adapter;
  const peer = results.find((r) => r.peerAdapters?.['ort-webgpu'])?.peerAdapters?.['ort-webgpu'];
  if (peer) a['ORT-web WebGPU EP (same page)'] = peer as Record<string, unknown>;
  return a;
}

function merge(args: string[]): number {
  const files = args.filter((x, i) => !x.startsWith('--') && args[i - 1] !== '--out');
  if (files.length < 2) throw new BenchConfigError('merge needs two or more result files');
  const reps = files.map((f) => {
    if (!existsSync(f)) throw new BenchConfigError(`no such result file: ${f}`);
    return JSON.parse(readFileSync(f, 'utf8')) as Report;
  });
  const commits = new Set(reps.map((r) => r.commit));
  if (commits.size > 1) console.warn(`warning: merging results of different commits (${[...commits].join(', ')})`);
  const seen = new Set<string>();
  const results: ConfigResult[] = [];
  for (const r of reps) {
    for (const x of r.results) {
      if (seen.has(x.config.id))
        throw new BenchConfigError(`configuration ${x.config.id} is in more than one file (shards overlap)`);
      seen.add(x.config.id);
      results.push(x);
    }
  }
  const rep: Report = {
    ...reps[0],
    date: new Date().toISOString(),
    shard: `merged ${reps.map((r) => r.shard).join(' + ')}`,
    argv: ['merge', ...args],
    results,
    ratios: ratios(results),
    adapters: adaptersOf(results),
  };
  const failures = reps.flatMap((r) => r.failures ?? []);
  if (failures.length) rep.failures = failures;
  else delete rep.failures;
  const i = args.indexOf('--out');
  write(rep, i >= 0 ? args[i + 1] : outPath(null, results, '-merged'));
  return 0;
}

async function main(): Promise<number> {
  if (argv[0] === 'merge') return merge(argv.slice(1));
  const o = parseOptions(argv);
  const configs = buildConfigs(o);
  checkEnvironment(o, configs);
  if (o.list) {
    for (const c of configs) console.log(c.id);
    return 0;
  }
  ensureOnnx(configs);
  const limitMs = (o.quick ? 180 : 1200) * 1000;
  const results: ConfigResult[] = [];
  const t0 = performance.now();
  const failures: { id: string; error: string }[] = [];
  for (const [k, c] of configs.entries()) {
    const t = performance.now();
    let r: ConfigResult;
    try {
      r = c.env === 'node' ? await runNode(c, o, limitMs) : await runBrowser(c, o, limitMs);
    } catch (e) {
      // one failed configuration must not lose the others' figures: record it, go on, exit 1 at the end
      failures.push({ id: c.id, error: (e as Error).message });
      console.error(
        `[${k + 1}/${configs.length}] ${c.id} FAILED (${((performance.now() - t) / 1000).toFixed(1)} s): ${(e as Error).message}`,
      );
      continue;
    }
    results.push(r);
    const figs = r.figures
      .map((f) => `${f.impl}${f.setting ? ` ${f.setting}` : ''} ${f.value.toPrecision(3)} ${f.unit}`)
      .join('; ');
    console.log(`[${k + 1}/${configs.length}] ${c.id} (${((performance.now() - t) / 1000).toFixed(1)} s): ${figs}`);
  }
  await server?.server.close();
  const rep: Report = {
    date: new Date().toISOString(),
    commit: commit(),
    quick: o.quick,
    shard: `${o.shard[0]}/${o.shard[1]}`,
    argv,
    host: {
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      node: process.version,
      loadavg: loadavg(),
    },
    adapters: adaptersOf(results),
    results,
    ratios: ratios(results),
    ...(failures.length ? { failures } : {}),
  };
  write(rep, outPath(o, results));
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (failures.length) {
    console.error(
      `bench: ${failures.length} of ${configs.length} configurations failed: ${failures.map((f) => f.id).join(', ')}`,
    );
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    rmSync(tmp, { recursive: true, force: true });
    process.exit(code);
  },
  (e: Error) => {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`bench: ${e instanceof BenchConfigError ? '' : 'failed: '}${e.message}`);
    process.exit(e instanceof BenchConfigError ? 2 : 1);
  },
);
