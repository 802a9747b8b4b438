/**
 * Continuous batching benchmark (issue 19 item 4; not part of `npm test`): text-asarm, random orders, the
 * same seed, one process, one adapter. n samples on B slots:
 *   - sequential on the KV cache, plain batches of B (every row takes the same L passes: nothing to refill);
 *   - ASSD (k = 4) on the KV cache, plain batches of B: each batch waits for its slowest row;
 *   - ASSD (k = 4) on the KV cache, continuous batching: one run of n samples on B slots.
 * Samples/s = n / wall and samples per CPU-second of the process (medians of --runs after a warm-up; the
 * settings interleaved run by run), passes over the batch (NFE) and mean per-sample NFE.
 *
 * Validation first (exits non-zero before anything is timed): on the chosen backend, a continuous run of
 * 6 samples on 2 slots gives the tokens of the 6 single-sample runs { batch: 1, firstSample: i } (the exact
 * equality the tests check on the CPU backend, here on the adapter's f32 kernels).
 * Writes bench/results/continuous-<adapter>-B<B>-n<n>-L<L>-k<k>.json and prints a Markdown table.
 *
 *   npx tsx bench/speculative/continuous.ts [--backend webgpu|cpu --batch 64 --samples 256 --length 32 --runs 3]
 */
import { createBackend } from '../../src/backend/create.js';
import { loadModel } from '../../src/models/index.js';
import { sampleAsarm, type AsarmOptions } from '../../src/samplers/asarm.js';
import { writeResults } from '../results-file.js';
import { arg, BenchValidationError, stats, timeRuns } from '../util.js';

const B = Number(arg('batch', '64'));
const n = Number(arg('samples', String(4 * B)));
const L = Number(arg('length', '32'));
const runs = Number(arg('runs', '3'));
const k = Number(arg('draft', '4'));

const be = await createBackend({ prefer: arg('backend', 'webgpu') as 'webgpu' | 'cpu' });
const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.vendor : 'cpu';
console.log(
  `backend ${be.name} (${adapter}); B ${B}, n ${n}, length ${L}, ASSD k ${k}, ${runs} run(s) after a warm-up`,
);
const model = await loadModel('models/text-asarm', be);
const base = { length: L, seed: 19, classId: 0, temperature: 1 };

// validation: continuous = unbatched, sample for sample
{
  const o: AsarmOptions = { ...base, sampler: 'assd', draft: k, batch: 2, samples: 6 };
  const cont = await sampleAsarm(model, o);
  for (let i = 0; i < 6; i++) {
    const one = await sampleAsarm(model, { ...o, batch: 1, samples: 1, firstSample: i });
    const want = Array.from(one.samples),
      got = Array.from(cont.samples.subarray(i * L, (i + 1) * L));
    if (want.join() !== got.join())
      throw new BenchValidationError(`continuous sample ${i} differs from its single-sample run on ${be.name}`);
  }
  console.log(`validated: 6 samples on 2 slots = the 6 single-sample runs on ${be.name}`);
}

interface Row {
  setting: string;
  batch: number;
  samples: number;
  length: number;
  ms: ReturnType<typeof stats>;
  samplesPerS: number;
  /** samples per CPU-second of the process (all threads) */
  samplesPerCpuS: number;
  /** passes over the batch, all batches */
  nfe: number;
  /** mean model passes per sample */
  nfePerSample: number;
  [k: string]: unknown;
}
const rows: Row[] = [];

/** n samples as plain batches of B (the last one smaller), or one continuous run */
async function run(
  o: Omit<AsarmOptions, 'batch' | 'length' | 'seed'>,
  continuous: boolean,
  len: number,
  count: number,
) {
  let nfe = 0,
    perSample = 0;
  if (continuous) {
    const r = await sampleAsarm(model, { ...base, ...o, length: len, batch: Math.min(B, count), samples: count });
    return { nfe: r.nfe, perSample: r.rowNfe.reduce((a, b) => a + b, 0) };
  }
  for (let first = 0; first < count; first += B) {
    const b = Math.min(B, count - first);
    const r = await sampleAsarm(model, { ...base, ...o, length: len, batch: b, firstSample: first });
    nfe += r.nfe;
    perSample += r.rowNfe.reduce((a, x) => a + x, 0);
  }
  return { nfe, perSample };
}

type Setting = [name: string, o: Omit<AsarmOptions, 'batch' | 'length' | 'seed'>, continuous: boolean];
const settings: Setting[] = [
  ['sequential, KV cache, batches of B', { sampler: 'sequential' }, false],
  [`ASSD k=${k}, KV cache, batches of B`, { sampler: 'assd', draft: k }, false],
  [`ASSD k=${k}, KV cache, continuous batching`, { sampler: 'assd', draft: k }, true],
];
// warm-up (compiles the pipelines), then the settings interleaved run by run, so a load that drifts on a
// shared machine weighs on each alike
for (const [, o, c] of settings) await run(o, c, Math.min(L, 8), Math.min(n, 2 * B));
const times = settings.map(() => [] as number[]);
// CPU seconds of this process (every thread: lavapipe's too) — steadier than wall time when other jobs share the cores
const cpuTimes = settings.map(() => [] as number[]);
const last = settings.map(() => ({ nfe: 0, perSample: 0 }));
for (let i = 0; i < runs; i++)
  for (const [j, [name, o, c]] of settings.entries()) {
    const cpu0 = process.cpuUsage();
    const { ms, last: l } = await timeRuns(1, () => run(o, c, L, n));
    const cpu = process.cpuUsage(cpu0);
    cpuTimes[j].push((cpu.user + cpu.system) / 1e6);
    times[j].push(ms.median);
    last[j] = l;
    console.log(
      `run ${i + 1}, ${name}: ${(n / (ms.median / 1000)).toFixed(2)} samples/s, ` +
        `${(n / cpuTimes[j][i]).toFixed(2)} samples per CPU-s, NFE ${l.nfe}`,
    );
  }
for (const [j, [setting]] of settings.entries()) {
  const ms = stats(times[j]);
  rows.push({
    setting,
    batch: B,
    samples: n,
    length: L,
    ms,
    samplesPerS: n / (ms.median / 1000),
    samplesPerCpuS: n / stats(cpuTimes[j]).median,
    nfe: last[j].nfe,
    nfePerSample: last[j].perSample / n,
  });
}
const [seq, plain, cont] = rows;
cont.vsPlainAssd = cont.samplesPerS / plain.samplesPerS;
cont.vsSequential = cont.samplesPerS / seq.samplesPerS;
plain.vsSequential = plain.samplesPerS / seq.samplesPerS;
cont.cpuVsPlainAssd = cont.samplesPerCpuS / plain.samplesPerCpuS;
cont.cpuVsSequential = cont.samplesPerCpuS / seq.samplesPerCpuS;
plain.cpuVsSequential = plain.samplesPerCpuS / seq.samplesPerCpuS;
// passes over the batch: what sets the time where a pass costs the same whatever its rows do (a GPU at B = 64)
cont.passesVsPlainAssd = plain.nfe / cont.nfe;
cont.passesVsSequential = seq.nfe / cont.nfe;
plain.passesVsSequential = seq.nfe / plain.nfe;

const file = writeResults('continuous', String(adapter), `-B${B}-n${n}-L${L}-k${k}`, {
  backend: be.name,
  adapter: be.info.adapter,
  runs,
  rows,
});
const x = (v: unknown, what: string) => (v ? `${(v as number).toFixed(2)}× ${what}` : '');
console.log(
  '\n| setting | B | n | L | samples/s (wall) | samples per CPU-s | NFE (batch passes) | NFE per sample | ' +
    'vs: wall / CPU / passes |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const r of rows) {
  const vs = [
    [r.vsPlainAssd, r.cpuVsPlainAssd, r.passesVsPlainAssd, 'ASSD batches'],
    [r.vsSequential, r.cpuVsSequential, r.passesVsSequential, 'sequential'],
  ]
    .filter(([w]) => w)
    .map(([w, c, p, what]) => `${x(w, '')}/ ${x(c, '')}/ ${x(p, what as string)}`)
    .join('; ');
  console.log(
    `| ${r.setting} | ${r.batch} | ${r.samples} | ${r.length} | ${r.samplesPerS.toFixed(2)} | ` +
      `${r.samplesPerCpuS.toFixed(2)} | ${r.nfe} | ${r.nfePerSample.toFixed(1)} | ${vs} |`,
  );
}
console.log(`\nwrote ${file}`);
model.dispose();
be.destroy();
