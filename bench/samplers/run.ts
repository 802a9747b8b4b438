/**
 * Sampler benchmark on the trained models (not part of `npm test`): FHS vs ancestral (N = L and
 * N = L/4 steps), ASSD vs sequential (draft 2, 4, 8: NFE ratio, wall ratio, acceptance), MaM one-pass
 * log-marginal vs the any-order chain of conditionals, batch 64 vs batch 1. Same seeds throughout.
 * Writes bench/results/samplers-<adapter>.json.
 *
 *   npm run bench:samplers [-- --backend webgpu|cpu --batch 4 --length 64 --quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createBackend } from '../../src/backend/create.js';
import { loadModel } from '../../src/models/index.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { logMarginals } from '../../src/samplers/mam.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const quick = process.argv.includes('--quick');
const B = Number(arg('batch', '4'));
const Lq = Number(arg('length', quick ? '32' : '64'));
const be = await createBackend({ prefer: arg('backend', 'webgpu') as 'webgpu' | 'cpu' });
const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.vendor : 'cpu';
console.log(`backend ${be.name} (${adapter}); batch ${B}, length ${Lq}`);
const rows: Record<string, unknown>[] = [];
const ms = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const mdm = await loadModel('models/text-mdm', be);
for (const [label, o] of [
  ['fhs', { sampler: 'fhs' as const }],
  [`ancestral N=${Lq}`, { sampler: 'ancestral' as const, steps: Lq }],
  [`ancestral N=${Lq / 4}`, { sampler: 'ancestral' as const, steps: Lq / 4 }],
] as const) {
  await sampleMdm(mdm, { batch: B, length: Lq, seed: 1, classId: 0, ...o }); // warm-up
  const r = await sampleMdm(mdm, { batch: B, length: Lq, seed: 2, classId: 0, ...o });
  rows.push({ model: 'text-mdm', sampler: label, nfe: r.nfe, ms: ms(r.stepTimesMs) });
  console.log(`text-mdm ${label}: NFE ${r.nfe}, ${ms(r.stepTimesMs).toFixed(0)} ms`);
}
const asarm = await loadModel('models/text-asarm', be);
const seq = await sampleAsarm(asarm, { batch: B, length: Lq, seed: 2, sampler: 'sequential' });
rows.push({ model: 'text-asarm', sampler: 'sequential', nfe: seq.nfe, ms: ms(seq.stepTimesMs) });
console.log(`text-asarm sequential: NFE ${seq.nfe}, ${ms(seq.stepTimesMs).toFixed(0)} ms`);
for (const draft of [2, 4, 8]) {
  const r = await sampleAsarm(asarm, { batch: B, length: Lq, seed: 2, sampler: 'assd', draft });
  const acc = r.accepted! / Math.max(1, r.proposed!);
  rows.push({ model: 'text-asarm', sampler: `assd k=${draft}`, nfe: r.nfe, ms: ms(r.stepTimesMs), acceptance: acc, nfeRatio: seq.nfe / r.nfe, wallRatio: ms(seq.stepTimesMs) / ms(r.stepTimesMs) });
  console.log(`text-asarm assd k=${draft}: NFE ${r.nfe} (sequential/assd ${(seq.nfe / r.nfe).toFixed(2)}×), wall ratio ${(ms(seq.stepTimesMs) / ms(r.stepTimesMs)).toFixed(2)}×, acceptance ${(100 * acc).toFixed(1)}%`);
}
try {
  const mam = await loadModel('models/text-mam', be);
  for (const L of [64, 128]) {
    const tokens = new Uint32Array(L).fill(mam.maskId!);
    for (let i = 0; i < L; i += 2) tokens[i] = 1 + (i % 60);
    let t0 = performance.now();
    await logMarginals(mam, tokens, 1, L);
    const one = performance.now() - t0;
    t0 = performance.now();
    const cur = new Uint32Array(L).fill(mam.maskId!);
    for (let i = 0; i < L; i += 2) { await be.read(mam.forward({ tokens: cur, batch: 1, length: L })); cur[i] = tokens[i]; }
    const chain = performance.now() - t0;
    rows.push({ model: 'text-mam', L, oneMs: one, chainMs: chain, ratio: chain / one });
    console.log(`text-mam L=${L}: one pass ${one.toFixed(0)} ms, chain ${chain.toFixed(0)} ms → ${(chain / one).toFixed(1)}×`);
  }
} catch (e) {
  console.log(`text-mam: skipped (${(e as Error).message})`);
}
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/samplers-${adapter.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 40)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), backend: be.name, adapter: be.info.adapter, batch: B, length: Lq, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
be.destroy();
