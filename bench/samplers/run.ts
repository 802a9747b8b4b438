/**
 * Sampler benchmark on the trained models (not part of `npm test`). Same seeds throughout.
 *
 * First it validates: each model's forward on the chosen backend is compared with the CPU
 * reference backend on a small batch (atol 2e-3 + rtol 2e-3, as the golden-parity tests); a
 * mismatch aborts before anything is timed. Then, with `--runs` repeats after one warm-up
 * (median and IQR of the summed per-step wall times):
 * Warm-up is one short sample per setting (compiles the pipelines); the classic 1000-step sampler
 * is timed once.
 *   mdm    FHS vs ancestral N = L and N = L/4, and vs a 1000-step ancestral sampler (which draws
 *          from nearly the FHS distribution) both classic (one pass per step) and with logit reuse
 *   assd   AS-ARM sequential vs ASSD with draft k ∈ {2, 4, 8}: NFE ratio, wall ratio, acceptance
 *   mam    text-mam one-pass log-marginal vs the any-order chain of conditionals over the observed
 *          characters (half the positions), at L = 64 and 128
 *   batch  FHS time per sample at batch 64 vs batch 1
 * Writes bench/results/samplers-<adapter>.json and prints a Markdown table.
 *
 *   npm run bench:samplers [-- --backend webgpu|cpu --length 64 --runs 3 --only mdm,assd,mam,batch --quick]
 */
import { writeResults } from '../results-file.js';
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadModel } from '../../src/models/index.js';
import type { Model } from '../../src/models/model.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';
import { sampleAsarm, type AsarmOptions } from '../../src/samplers/asarm.js';
import { logMarginals } from '../../src/samplers/mam.js';
import { arg, stats, sum } from '../util.js';

const quick = process.argv.includes('--quick');
const L = Number(arg('length', quick ? '16' : '64'));
const runs = Number(arg('runs', quick ? '1' : '3'));
const longSteps = Number(arg('long-steps', quick ? '200' : '1000'));
const batchLength = Number(arg('batch-length', '16'));
const only = new Set(arg('only', 'mdm,assd,mam,batch').split(','));
const ATOL = 2e-3,
  RTOL = 2e-3;

const be = await createBackend({ prefer: arg('backend', 'webgpu') as 'webgpu' | 'cpu' });
const cpu = new CpuBackend();
const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.vendor : 'cpu';
console.log(`backend ${be.name} (${adapter}); length ${L}, ${runs} run(s) after a warm-up`);

async function validate(dir: string, kind: 'bidirectional' | 'two-stream'): Promise<Model> {
  const m = await loadModel(dir, be);
  if (be.name === 'cpu') return m;
  const ref = await loadModel(dir, cpu);
  const B = 2,
    n = Math.min(32, m.maxLength);
  const tokens = new Uint32Array(B * n);
  for (let i = 0; i < tokens.length; i++) tokens[i] = i % 3 === 0 ? (m.maskId ?? 0) : 1 + ((i * 7) % 60);
  const input = {
    tokens,
    batch: B,
    length: n,
    ...(kind === 'two-stream' ? { order: Uint32Array.from({ length: B * n }, (_, i) => i % n) } : {}),
  };
  const got = (await be.read(await m.forward(input))) as Float32Array;
  const want = (await cpu.read(await ref.forward(input))) as Float32Array;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) - (ATOL + RTOL * Math.abs(want[i]));
    if (!(err <= 0))
      throw new Error(`validation failed: ${m.name} logits[${i}] = ${got[i]} on ${be.name}, reference ${want[i]}`);
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  console.log(`validated ${m.name} on ${be.name} against the CPU reference (max |Δ| ${worst.toExponential(2)})`);
  return m;
}

interface Row {
  section: string;
  model: string;
  setting: string;
  batch: number;
  length: number;
  nfe: number;
  ms: ReturnType<typeof stats>;
  [k: string]: unknown;
}
const rows: Row[] = [];

async function timeMdm(
  m: Model,
  setting: string,
  o: Omit<MdmOptions, 'length' | 'seed'> & { batch: number },
  len = L,
  section = 'mdm',
  reps = runs,
): Promise<Row> {
  // warm-up: the same sampler on a short sequence compiles every pipeline this run uses
  await sampleMdm(m, {
    ...o,
    length: Math.min(len, 8),
    seed: 1,
    steps: o.steps === undefined ? undefined : Math.min(o.steps, 8),
  });
  const ts: number[] = [];
  let nfe = 0;
  for (let i = 0; i < reps; i++) {
    const r = await sampleMdm(m, { ...o, length: len, seed: 2 + i });
    ts.push(sum(r.stepTimesMs));
    nfe += r.nfe / reps;
  }
  const row: Row = { section, model: m.name, setting, batch: o.batch, length: len, nfe, ms: stats(ts) };
  rows.push(row);
  console.log(
    `${m.name} ${setting} (B=${o.batch}, L=${len}): NFE ${nfe.toFixed(1)}, ${row.ms.median.toFixed(0)} ms (IQR ${row.ms.iqr.toFixed(0)})`,
  );
  return row;
}

if (only.has('mdm') || only.has('batch')) {
  const mdm = await validate('models/text-mdm', 'bidirectional');
  if (only.has('mdm')) {
    const fhs = await timeMdm(mdm, 'fhs', { sampler: 'fhs', batch: 1, classId: 0 });
    for (const [setting, o] of [
      [`ancestral N=${L}`, { steps: L }],
      [`ancestral N=${L / 4}`, { steps: L / 4 }],
      [`ancestral N=${longSteps} (one pass per step)`, { steps: longSteps, reuseLogits: false }],
      [`ancestral N=${longSteps} (logit reuse)`, { steps: longSteps }],
    ] as const) {
      // the classic 1000-step sampler costs ~1000 passes per sample: timed once
      const reps = 'reuseLogits' in o ? 1 : runs;
      const r = await timeMdm(mdm, setting, { sampler: 'ancestral', batch: 1, classId: 0, ...o }, L, 'mdm', reps);
      r.vsFhs = { wall: r.ms.median / fhs.ms.median, nfe: r.nfe / fhs.nfe };
    }
  }
  if (only.has('batch')) {
    const one = await timeMdm(mdm, 'fhs batch 1', { sampler: 'fhs', batch: 1, classId: 0 }, batchLength, 'batch');
    const many = await timeMdm(mdm, 'fhs batch 64', { sampler: 'fhs', batch: 64, classId: 0 }, batchLength, 'batch');
    many.perSampleSpeedup = (one.ms.median * 64) / many.ms.median;
    many.wallRatio = many.ms.median / one.ms.median;
    console.log(
      `batch 64 vs 1: wall ${(many.wallRatio as number).toFixed(1)}× for 64× the samples → ${(many.perSampleSpeedup as number).toFixed(1)}× per sample`,
    );
  }
}

if (only.has('assd')) {
  const asarm = await validate('models/text-asarm', 'two-stream');
  const time = async (setting: string, o: Omit<AsarmOptions, 'length' | 'seed' | 'batch'>) => {
    await sampleAsarm(asarm, {
      ...o,
      batch: 1,
      length: 8,
      seed: 1,
      draft: o.draft === undefined ? undefined : Math.min(o.draft, 8),
    });
    const ts: number[] = [];
    let nfe = 0,
      prop = 0,
      acc = 0;
    for (let i = 0; i < runs; i++) {
      const r = await sampleAsarm(asarm, { ...o, batch: 1, length: L, seed: 2 + i });
      if (r.nfe > L) throw new Error(`NFE ${r.nfe} > ${L} tokens`);
      ts.push(sum(r.stepTimesMs));
      nfe += r.nfe / runs;
      prop += r.proposed ?? 0;
      acc += r.accepted ?? 0;
    }
    const row: Row = {
      section: 'assd',
      model: asarm.name,
      setting,
      batch: 1,
      length: L,
      nfe,
      ms: stats(ts),
      ...(prop ? { acceptance: acc / prop } : {}),
    };
    rows.push(row);
    return row;
  };
  const seq = await time('sequential', { sampler: 'sequential' });
  console.log(`text-asarm sequential: NFE ${seq.nfe}, ${seq.ms.median.toFixed(0)} ms`);
  for (const draft of [2, 4, 8]) {
    const r = await time(`assd k=${draft}`, { sampler: 'assd', draft });
    r.nfeRatio = seq.nfe / r.nfe;
    r.wallRatio = seq.ms.median / r.ms.median;
    console.log(
      `text-asarm assd k=${draft}: NFE ${r.nfe.toFixed(1)} (${(r.nfeRatio as number).toFixed(2)}× fewer), wall ${(r.wallRatio as number).toFixed(2)}× faster, acceptance ${(100 * (r.acceptance as number)).toFixed(1)}%`,
    );
  }
}

if (only.has('mam')) {
  const mam = await validate('models/text-mam', 'bidirectional');
  for (const len of quick ? [32] : [64, 128]) {
    const tokens = new Uint32Array(len).fill(mam.maskId!);
    const observed: number[] = [];
    for (let i = 0; i < len; i += 2) {
      tokens[i] = 1 + ((i * 7) % 60);
      observed.push(i);
    }
    const one: number[] = [],
      chain: number[] = [];
    let lm = 0,
      lc = 0;
    for (let rep = 0; rep <= runs; rep++) {
      let t0 = performance.now();
      lm = (await logMarginals(mam, tokens, 1, len))[0];
      const t1 = performance.now() - t0;
      t0 = performance.now();
      const cur = new Uint32Array(len).fill(mam.maskId!);
      lc = 0;
      for (const i of observed) {
        const logits = (await be.read(await mam.forward({ tokens: cur, batch: 1, length: len }))) as Float32Array;
        const row = logits.subarray(i * mam.vocabSize, (i + 1) * mam.vocabSize);
        let mx = -Infinity;
        for (let v = 0; v < mam.vocabSize; v++) if (v !== mam.maskId && row[v] > mx) mx = row[v];
        let z = 0;
        for (let v = 0; v < mam.vocabSize; v++) if (v !== mam.maskId) z += Math.exp(row[v] - mx);
        lc += row[tokens[i]] - mx - Math.log(z);
        cur[i] = tokens[i];
      }
      const t2 = performance.now() - t0;
      if (rep > 0) {
        one.push(t1);
        chain.push(t2);
      } // rep 0 is the warm-up
    }
    const row: Row = {
      section: 'mam',
      model: mam.name,
      setting: `one pass vs chain, ${observed.length} observed`,
      batch: 1,
      length: len,
      nfe: 1,
      ms: stats(one),
      chainMs: stats(chain),
      chainNfe: observed.length,
    };
    row.ratio = (row.chainMs as ReturnType<typeof stats>).median / row.ms.median;
    row.logMarginal = lm;
    row.chainLogLik = lc;
    rows.push(row);
    console.log(
      `text-mam L=${len}: one pass ${row.ms.median.toFixed(0)} ms (log p ${lm.toFixed(2)}), chain ${(row.chainMs as ReturnType<typeof stats>).median.toFixed(0)} ms over ${observed.length} passes (log p ${lc.toFixed(2)}) → ${(row.ratio as number).toFixed(1)}×`,
    );
  }
}

const file = writeResults('samplers', adapter, `-${[...only].sort().join('-')}${quick ? '-quick' : ''}`, {
  backend: be.name,
  adapter: be.info.adapter,
  length: L,
  runs,
  rows,
});
console.log(
  '\n| section | model | setting | B | L | NFE | ms (median) | ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const r of rows) {
  const ratio = r.vsFhs
    ? `${(r.vsFhs as { wall: number }).wall.toFixed(2)}× FHS time`
    : r.nfeRatio
      ? `NFE ÷${(r.nfeRatio as number).toFixed(2)}, wall ÷${(r.wallRatio as number).toFixed(2)}, acc ${(100 * (r.acceptance as number)).toFixed(0)}%`
      : r.ratio
        ? `chain/one ${(r.ratio as number).toFixed(1)}×`
        : r.perSampleSpeedup
          ? `${(r.perSampleSpeedup as number).toFixed(1)}× per sample`
          : '';
  console.log(
    `| ${r.section} | ${r.model} | ${r.setting} | ${r.batch} | ${r.length} | ${r.nfe.toFixed(1)} | ${r.ms.median.toFixed(0)} | ${ratio} |`,
  );
}
console.log(`\nwrote ${file}`);
be.destroy();
