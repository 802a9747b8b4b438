/**
 * Matmul kernel benchmark (not part of `npm test`): validate the GPU result against the CPU twin
 * first, then time both — warm-up, then the median of N runs — and print GFLOP/s and the GPU/CPU
 * ratio. GPU time is submit → onSubmittedWorkDone with inputs resident and a preallocated output
 * (plus the timestamp-query kernel time when the adapter has it). Writes
 * bench/results/matmul-<adapter>.json.
 *
 *   npm run bench:kernels [-- --sizes 256,512 --runs 5]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { arg, median, uniformData } from '../util.js';

const sizes = arg('sizes', '256,512').split(',').map(Number);
const runs = Number(arg('runs', '5'));
const ATOL = 1e-4,
  RTOL = 1e-4;

const be = await createBackend({ prefer: 'webgpu' });
const gpu = be as WebGPUBackend;
const cpu = new CpuBackend();
const adapter = gpu.info.adapter!;
const adapterName = adapter.description || `${adapter.vendor} ${adapter.architecture}`;
console.log(`adapter: ${adapterName}${adapter.software ? ' (software)' : ''}`);
const results = [];
for (const n of sizes) {
  const a = uniformData(n * n, 1),
    b = uniformData(n * n, 2);
  const ta = gpu.tensor(a, [n, n]),
    tb = gpu.tensor(b, [n, n]),
    tc = gpu.empty([n, n]);
  // 1. validate
  gpu.matmul(ta, tb, { out: tc });
  const got = (await gpu.read(tc)) as Float32Array;
  const ca = cpu.tensor(a, [n, n]),
    cb = cpu.tensor(b, [n, n]);
  let t0 = performance.now();
  const want = (await cpu.read(cpu.matmul(ca, cb))) as Float32Array;
  const cpuFirst = performance.now() - t0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (ATOL + RTOL * Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    if (excess > 0) throw new Error(`validation failed at n=${n}, index ${i}: ${got[i]} vs ${want[i]}`);
  }
  // 2. time the GPU (warm-up done above)
  const gpuMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    t0 = performance.now();
    gpu.matmul(ta, tb, { out: tc });
    await gpu.flush();
    gpuMs.push(performance.now() - t0);
  }
  let kernelMs: number | null = null;
  if (gpu.runtime.profiler.available) {
    gpu.runtime.profiling = true;
    const ks: number[] = [];
    for (let r = 0; r < runs; r++) {
      gpu.matmul(ta, tb, { out: tc });
      await gpu.flush();
      ks.push(...(await gpu.runtime.profiler.take()).map((e) => e.ms));
    }
    gpu.runtime.profiling = false;
    kernelMs = median(ks);
  }
  // 3. time the CPU twin (fewer runs at large n)
  const cpuMs = [cpuFirst];
  for (let r = 1; r < Math.min(runs, n >= 512 ? 3 : runs); r++) {
    t0 = performance.now();
    cpu.matmul(ca, cb);
    cpuMs.push(performance.now() - t0);
  }
  const flop = 2 * n * n * n;
  const g = median(gpuMs),
    c = median(cpuMs);
  const row = {
    n,
    maxAbsErr: worst,
    gpuMs: g,
    gpuKernelMs: kernelMs,
    cpuTwinMs: c,
    gpuGflops: flop / g / 1e6,
    cpuGflops: flop / c / 1e6,
    speedupVsTwin: c / g,
  };
  results.push(row);
  console.log(
    `matmul ${n}: valid (max |diff| ${worst.toExponential(1)}); gpu ${g.toFixed(1)} ms = ${row.gpuGflops.toFixed(2)} GFLOP/s` +
      `${kernelMs !== null ? ` (kernel ${kernelMs.toFixed(1)} ms)` : ''}; cpu twin ${c.toFixed(1)} ms = ${row.cpuGflops.toFixed(2)} GFLOP/s; gpu/twin speed ratio ${row.speedupVsTwin.toFixed(1)}×`,
  );
  for (const t of [ta, tb, tc]) gpu.free(t);
}
let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD').toString().trim();
} catch {
  /* not a checkout */
}
const out = { date: new Date().toISOString(), commit, adapter, runs, results };
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/matmul-${adapterName
  .replace(/[^a-z0-9]+/gi, '-')
  .toLowerCase()
  .slice(0, 40)}.json`;
writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${file}`);
gpu.destroy();
