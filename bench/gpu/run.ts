/**
 * `npm run bench:gpu` — the real-GPU benchmark in one unattended command (≤ 8 minutes; not part of
 * `npm test`). It looks for a hardware adapter — Node + Dawn with this machine's Vulkan drivers first
 * (never the lavapipe that the other npm scripts point Dawn at), then headless Chromium with the flags that
 * ask for the GPU through Vulkan — and refuses to report a software or fallback adapter as a GPU. On the
 * environment that has one it runs the bench's matmul, forward and sampler sections (bench/run.ts: each
 * validated against the CPU reference before it is timed) and writes bench/results/gpu-<adapter>.{json,md}
 * with the adapter's info, matmul GFLOP/s as a fraction of `--peak-gflops`, forward ms and × our CPU twin.
 *
 *   npm run bench:gpu                         # e.g. on an NVIDIA machine with its Vulkan ICD
 *   npm run bench:gpu -- --peak-gflops 60000  # the GPU's f32 peak, for the fraction
 *   npm run bench:gpu -- --env browser        # only Chromium
 *
 * Exit: 0 done; 1 the run failed (validation, crash, over time); 2 bad command line; 3 no hardware GPU
 * (the report says what each probe found, which Vulkan drivers exist and what to check).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { arg, slug } from '../util.js';
import type { Report } from '../report.js';
import {
  HARDWARE_CHROMIUM_ARGS,
  notFoundReport,
  pickEnv,
  summarize,
  summaryMarkdown,
  type GpuEnv,
  type Probe,
} from './lib.js';

const BUDGET_S = 8 * 60;
const t0 = performance.now();
const left = () => BUDGET_S - (performance.now() - t0) / 1000;
const argv = process.argv.slice(2);
const envArg = arg('env', 'auto', argv);
const peak = argv.includes('--peak-gflops') ? Number(arg('peak-gflops', '', argv)) : undefined;
if (!['auto', 'node', 'browser'].includes(envArg) || (peak !== undefined && !(peak > 0))) {
  console.error('usage: npm run bench:gpu [-- --env auto|node|browser] [--peak-gflops X (> 0)]');
  process.exit(2);
}
// Dawn must see the machine's own drivers: drop the lavapipe the other scripts select
const env = { ...process.env };
if (env.VK_ICD_FILENAMES?.includes('lavapipe') || env.VK_ICD_FILENAMES?.includes('lvp_icd'))
  delete env.VK_ICD_FILENAMES;

function probeNode(): Probe {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/gpu/probe-node.ts'], {
      env,
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    const line = out.trim().split('\n').pop() ?? '{}';
    const r = JSON.parse(line) as Partial<Omit<Probe, 'env'>>;
    return {
      env: 'node',
      adapter: r.adapter ?? null,
      ...(r.fallback ? { fallback: true } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  } catch (e) {
    return { env: 'node', adapter: null, error: `the probe process failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function probeBrowser(): Promise<Probe> {
  const server = createServer((_, res) => res.end('<!doctype html><title>probe</title>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const { launchBrowser } = await import('../../test/util/browser.js');
    const browser = await launchBrowser(HARDWARE_CHROMIUM_ARGS);
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const r = await page.evaluate(async () => {
        const gpu = (navigator as { gpu?: GPU }).gpu;
        if (!gpu) return { error: 'navigator.gpu is missing' };
        const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!a) return { error: 'requestAdapter returned null' };
        const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
        return {
          info: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description },
          fallback: i.isFallbackAdapter === true,
        };
      });
      if ('error' in r) return { env: 'browser', adapter: null, error: r.error };
      const all = Object.values(r.info).join(' ').toLowerCase();
      const software = /swiftshader|llvmpipe|lavapipe|software|microsoft basic/.test(all) || r.fallback;
      return { env: 'browser', adapter: { ...r.info, software }, fallback: r.fallback };
    } finally {
      await browser.close();
    }
  } catch (e) {
    return { env: 'browser', adapter: null, error: (e as Error).message.split('\n')[0] };
  } finally {
    server.close();
  }
}

const probes: Probe[] = [];
if (envArg !== 'browser') probes.push(probeNode());
if (envArg !== 'node' && !(probes[0] && pickEnv(probes))) probes.push(await probeBrowser());
for (const p of probes)
  console.log(
    `probe ${p.env}: ${p.adapter ? `${p.adapter.description || p.adapter.vendor} (software ${p.adapter.software})` : p.error}`,
  );
const chosen: GpuEnv | undefined = pickEnv(probes);
if (!chosen) {
  const icds = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'].flatMap((d) =>
    existsSync(d) ? readdirSync(d).map((f) => `${d}/${f}`) : [],
  );
  let smi: string | null = null;
  try {
    smi = execFileSync('nvidia-smi', ['-L'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    /* not installed */
  }
  const text = notFoundReport(probes, icds, smi);
  console.error(text);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/gpu-not-found.md', text + '\n');
  process.exit(3);
}

const adapter = probes.find((p) => p.env === chosen)!.adapter!;
const stem = `bench/results/gpu-${slug(adapter.description || `${adapter.vendor}-${adapter.architecture}`, 32)}`;
const raw = `${stem}-raw.json`;
const args = [
  '--import',
  'tsx',
  'bench/run.ts',
  '--env',
  chosen,
  '--only',
  'kernels,forward,samplers',
  '--sizes',
  '256,1024,2048',
  '--batches',
  '1,64',
  '--runs',
  '5',
  '--cpu-runs',
  '1',
  '--peers',
  'ours-cpu',
  '--out',
  raw,
];
console.log(`running on ${chosen} (${adapter.description || adapter.vendor}), ${left().toFixed(0)} s left`);
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, args, {
    env: { ...env, SAMPLESCOPE_CHROMIUM_ARGS: HARDWARE_CHROMIUM_ARGS.join(' ') },
    stdio: 'inherit',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(10, left()) * 1000);
  child.on('exit', (c, sig) => {
    clearTimeout(timer);
    resolve(sig ? 124 : (c ?? 1));
  });
});
if (code === 124) console.error(`bench:gpu: over the ${BUDGET_S} s budget; the run was stopped`);
if (!existsSync(raw)) {
  console.error(`bench:gpu: no results (bench/run.ts exited ${code})`);
  process.exit(1);
}
const rep = JSON.parse(readFileSync(raw, 'utf8')) as Report;
try {
  const s = summarize(chosen, rep.results, peak);
  writeFileSync(
    `${stem}.json`,
    JSON.stringify({ date: rep.date, commit: rep.commit, peakGflops: peak, ...s }, null, 1),
  );
  const md = summaryMarkdown(s, peak);
  writeFileSync(`${stem}.md`, md);
  console.log(`\n${md}\nwrote ${stem}.json, ${stem}.md (all figures: ${raw})`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(3);
}
process.exit(code === 0 ? 0 : 1);
