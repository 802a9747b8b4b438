/**
 * Fault injection and soak, full form (issue 9, parts 3–4); `npm test` runs the same checks with
 * reduced counts (test/gpu/hardening.test.ts). Node + Dawn, the tiny-bidir fixture.
 *
 *   npm run soak                                   # 60 device losses, 1000 calls, 10 + 32 concurrent
 *   npm run soak -- --trials 100 --calls 2000 --seed 7
 *
 * Prints the figures (faults injected, buffers and heap before/after) and exits 1 if any check fails:
 * a device-loss trial whose output differs from the uninterrupted run, a net GPU buffer, a heap
 * change over ±10%, or a concurrent request whose result differs from its single run.
 */
import { arg } from '../bench/util.js';
import { Engine } from '../src/worker/engine.js';
import { concurrentVsSingle, deviceLossTrials, nfeOk, soak } from '../test/util/faults.js';

/** a non-negative integer option (bench/util.ts's arg), exit 2 otherwise */
function count(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (Number.isSafeInteger(v) && v >= 0) return v;
  console.error(`--${name} needs a non-negative integer`);
  process.exit(2);
}

const trials = count('trials', 60);
const calls = count('calls', 1000);
const seed = count('seed', 90210);
const fixture = new URL('../test/fixtures/tiny-bidir', import.meta.url).pathname;
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
};

const e = new Engine();
const info = await e.init('webgpu');
if (info.name !== 'webgpu') {
  console.error(`no webgpu backend: ${info.fallbackReason ?? ''}`);
  process.exit(2);
}
console.log(`adapter: ${info.adapter?.description || info.adapter?.device} (${info.adapter?.vendor})`);
await e.loadModel(fixture, { id: 'm' });

let t0 = performance.now();
const loss = await deviceLossTrials(e, { model: 'm', trials, seed, maxLength: 12, classes: 2 });
const lost = loss.filter((t) => t.outcome === 'lost');
console.log(
  `device loss: ${loss.length} faults injected (seed ${seed}), ${lost.length} rejected with DeviceLostError and resumed, ${loss.length - lost.length} finished (the kill came after the last read); ` +
    `${loss.filter((t) => t.equal).length}/${loss.length} outputs equal to the uninterrupted run; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
const extra = lost.filter((t) => t.nfe && t.nfe[1] > t.nfe[0]).length;
console.log(
  `  NFE: ${lost.length - extra} resumed with the uninterrupted NFE, ${extra} (ancestral) with one recomputed model call`,
);
for (const t of loss.filter((x) => !x.equal || x.error || !nfeOk(x))) console.log('  FAILED', JSON.stringify(t));
check(
  loss.every((t) => t.equal && !t.error),
  'device loss: a wrong or missing output',
);
check(loss.every(nfeOk), 'device loss: NFE after resume other than expected');
check(
  lost.every((t) => t.resumedSteps === t.steps - t.completedBeforeLoss!),
  'device loss: a resume restarted instead of continuing',
);

t0 = performance.now();
const f = await soak(e, { model: 'm', calls, warmup: 20, length: 12, batch: 4 });
const mib = (b: number) => (b / 2 ** 20).toFixed(2);
console.log(
  `soak: ${f.calls} sample calls in ${(f.ms / 1000).toFixed(0)} s; pool buffers created ${f.before.created} → ${f.after.created}, live ${f.before.live} → ${f.after.live}, pooled ${f.before.pooled} → ${f.after.pooled}; ` +
    `runtime createBuffer ${f.before.runtimeBuffers} → ${f.after.runtimeBuffers}; heapUsed ${mib(f.before.heapUsed)} → ${mib(f.after.heapUsed)} MiB (${(100 * f.heapChange).toFixed(1)}%); same-seed mismatches ${f.mismatches}`,
);
check(
  f.after.created === f.before.created && f.after.runtimeBuffers === f.before.runtimeBuffers,
  'soak: GPU buffers created after warm-up',
);
check(f.after.live === f.before.live && f.after.pooled === f.before.pooled, 'soak: net live/pooled buffers');
check(Math.abs(f.heapChange) < 0.1, 'soak: JS heap changed by more than 10%');
check(f.mismatches === 0, 'soak: the same seed gave different samples');

for (const n of [10, 32]) {
  t0 = performance.now();
  const c = await concurrentVsSingle(e, { model: 'm', n, length: 12, batch: 4 });
  console.log(
    `concurrency: ${n} requests at once (interleaved: ${c.interleaved}), ${n - c.differing.length}/${n} equal to their single runs; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  check(c.differing.length === 0, `concurrency ${n}: requests ${c.differing.join(', ')} differ from their single runs`);
}

e.dispose();
if (failures.length) {
  console.error(`FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('soak: all checks passed');
process.exit(0);
