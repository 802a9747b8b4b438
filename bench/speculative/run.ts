/**
 * KV cache and speculative decoding benchmark (issue 18; not part of `npm test`), text-asarm decoded
 * left to right, same seeds, one process, one adapter.
 *
 * Validation first (a failure exits non-zero before anything is timed): the target's full forward on
 * the chosen backend vs the CPU reference backend (2e-3 + 2e-3·|ref|), then cached decoding vs full
 * recomputation on the chosen backend (1e-3 + 1e-3·|ref|) over a prefix of real text.
 * Then per batch B: sequential without the cache, sequential on the cache, ASSD (k = 4, random order)
 * without and with the cache, speculative decoding with
 * the distilled draft (text-asarm-draft) at k ∈ {2, 4, 8}, and self-speculation (text-asarm's first
 * two blocks) at k ∈ {2, 4}: tokens/s (B·L / wall), target NFE, draft NFE, acceptance, and the
 * ints read back per row and round (the accept/reject runs on the device: k + 1). Writes
 * bench/results/speculative-<adapter>.json and prints a Markdown table.
 *
 *   npm run bench:speculative [-- --backend webgpu|cpu --length 128 --batches 1,8 --runs 1 --quick]
 */
import { tokenizerOf } from '../../src/models/tokenizer.js';
import { writeResults } from '../results-file.js';
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadModel } from '../../src/models/index.js';
import type { Model } from '../../src/models/model.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { sampleSpeculative } from '../../src/samplers/speculative.js';
import { arg, assertClose, type stats, timeRuns } from '../util.js';

const quick = process.argv.includes('--quick');
const L = Number(arg('length', quick ? '32' : '128'));
const batches = arg('batches', quick ? '1' : '1,8')
  .split(',')
  .map(Number);
const runs = Number(arg('runs', '1'));
const classId = 0;

const be = await createBackend({ prefer: arg('backend', 'webgpu') as 'webgpu' | 'cpu' });
const cpu = new CpuBackend();
const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.vendor : 'cpu';
console.log(
  `backend ${be.name} (${adapter}); length ${L}, batches ${batches.join(', ')}, ${runs} run(s) after a warm-up`,
);

const target = await loadModel('models/text-asarm', be);
const draft = await loadModel('models/text-asarm-draft', be);

async function validate(m: Model): Promise<void> {
  const n = Math.min(32, L);
  const text = 'Call me Ishmael. Some years ago--never mind how long';
  const vocab = tokenizerOf(m).tokenStrings();
  const tokens = Uint32Array.from({ length: n }, (_, i) => Math.max(0, vocab.indexOf(text[i % text.length])));
  const input = { tokens, batch: 1, length: n, classes: new Uint32Array([classId]) };
  const read = async (b: typeof be, t: Awaited<ReturnType<Model['forward']>>) => (await b.read(t)) as Float32Array;
  const full = await read(be, await m.forward(input));
  if (be.name !== 'cpu') {
    const ref = await loadModel(m.manifest.name === target.name ? 'models/text-asarm' : 'models/text-asarm-draft', cpu);
    const d = assertClose(`${m.name} forward vs CPU`, full, await read(cpu, await ref.forward(input)), 2e-3, 2e-3);
    console.log(`validated ${m.name} forward on ${be.name} against the CPU reference (max |Δ| ${d.toExponential(2)})`);
    ref.dispose();
  }
  // cached: prefill 8, then one token per pass; each query's logits vs the full pass at that position
  const cache = m.createCache!(1, n + 1);
  const V = m.vocabSize;
  let worst = 0;
  for (let c = 0, step = 0; c < n - 1; step++) {
    const k = step === 0 ? 8 : 1;
    const t = m.decode!(cache, {
      tokens: tokens.subarray(c, c + k),
      positions: Uint32Array.from({ length: k }, (_, i) => c + i),
      m: k,
      queries: new Uint32Array([c + k]),
      q: 1,
      classes: new Uint32Array([classId]),
    });
    const got = await read(be, t);
    be.free(t);
    c += k;
    worst = Math.max(
      worst,
      assertClose(`${m.name} cached decode at ${c}`, got, full.subarray(c * V, (c + 1) * V), 1e-3, 1e-3),
    );
  }
  cache.dispose();
  console.log(`validated ${m.name} cached decoding against full recomputation (max |Δ| ${worst.toExponential(2)})`);
}
await validate(target);
await validate(draft);

interface Row {
  setting: string;
  batch: number;
  length: number;
  ms: ReturnType<typeof stats>;
  tokensPerS: number;
  nfe: number;
  draftNfe?: number;
  acceptance?: number;
  readbackIntsPerRowRound?: number;
  [k: string]: unknown;
}
const rows: Row[] = [];

type Run = (
  B: number,
  len: number,
  seed: number,
) => Promise<{ nfe: number; draftNfe?: number; proposed?: number; accepted?: number; rounds?: number }>;
async function time(
  setting: string,
  B: number,
  run: Run,
  extra: (k: { rounds?: number }) => Partial<Row> = () => ({}),
) {
  await run(B, Math.min(L, 8), 1); // warm-up: compiles the pipelines
  const { ms, last } = await timeRuns(runs, (i) => run(B, L, 2 + i));
  const row: Row = {
    setting,
    batch: B,
    length: L,
    ms,
    tokensPerS: (B * L) / (ms.median / 1000),
    nfe: last.nfe,
    ...(last.draftNfe !== undefined ? { draftNfe: last.draftNfe } : {}),
    ...(last.proposed ? { acceptance: last.accepted! / last.proposed } : {}),
    ...extra(last),
  };
  rows.push(row);
  console.log(
    `${setting} B=${B}: ${row.tokensPerS.toFixed(1)} tokens/s, NFE ${row.nfe}${row.draftNfe !== undefined ? ` + draft ${row.draftNfe}` : ''}${row.acceptance !== undefined ? `, acceptance ${(100 * row.acceptance).toFixed(1)}%` : ''}`,
  );
  return row;
}

for (const B of batches) {
  const base = { classId, temperature: 1 };
  // sequential (left to right) and ASSD (k = 4, random order), each without and with the KV cache
  let cached = rows[0];
  for (const [name, o] of [
    ['sequential', { sampler: 'sequential' as const, ltr: true }],
    ['ASSD k=4 (random order)', { sampler: 'assd' as const, draft: 4, ltr: false }],
  ] as const)
    for (const kvCache of [false, true]) {
      const { ltr: inOrder, ...opts } = o;
      const r = await time(`${name}, ${kvCache ? 'KV cache' : 'no cache'}`, B, (b, len, seed) =>
        sampleAsarm(target, {
          ...base,
          ...opts,
          batch: b,
          length: len,
          seed,
          kvCache,
          order: inOrder ? ltr(len) : undefined,
        }),
      );
      if (kvCache) r.vsNoCache = r.tokensPerS / rows[rows.length - 2].tokensPerS;
      if (kvCache && o.sampler === 'sequential') cached = r;
    }
  for (const [name, draftModel, ks] of [
    ['speculative, text-asarm-draft', draft, [2, 4, 8]],
    ['self-speculation, 2 of 6 layers', { layers: 2 }, [2, 4]],
  ] as const)
    for (const k of ks) {
      const r = await time(
        `${name}, k=${k}`,
        B,
        (b, len, seed) => sampleSpeculative(target, { ...base, batch: b, length: len, seed, draftModel, draft: k }),
        // device accept/reject (spec_verify): each round reads back the k + 1 decided-token slots per row
        () => ({ readbackIntsPerRowRound: k + 1 }),
      );
      r.vsCached = r.tokensPerS / cached.tokensPerS;
    }
  const ad = await time('speculative, text-asarm-draft, adaptive k ≤ 8', B, (b, len, seed) =>
    sampleSpeculative(target, {
      ...base,
      batch: b,
      length: len,
      seed,
      draftModel: draft,
      draft: 8,
      adaptiveDraft: true,
    }),
  );
  ad.vsCached = ad.tokensPerS / cached.tokensPerS;
}

function ltr(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

const file = writeResults('speculative', String(adapter), quick ? '-quick' : '', {
  backend: be.name,
  adapter: be.info.adapter,
  length: L,
  runs,
  rows,
});
console.log(
  '\n| setting | B | L | tokens/s | target NFE | draft NFE | acceptance | vs |\n| --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const r of rows) {
  const vs = r.vsNoCache
    ? `${(r.vsNoCache as number).toFixed(2)}× no cache`
    : r.vsCached
      ? `${(r.vsCached as number).toFixed(2)}× cached sequential`
      : '';
  console.log(
    `| ${r.setting} | ${r.batch} | ${r.length} | ${r.tokensPerS.toFixed(1)} | ${r.nfe} | ${r.draftNfe ?? ''} | ${r.acceptance !== undefined ? `${(100 * r.acceptance).toFixed(1)}%` : ''} | ${vs} |`,
  );
}
console.log(`\nwrote ${file}`);
draft.dispose();
target.dispose();
be.destroy();
