/**
 * Nightly fuzzing of model loading (issue 9): ≥ 10^5 structure-aware mutations of valid safetensors
 * files and manifests, each checked against an independent oracle of the format (see
 * test/util/model-fuzz.ts); `npm test` runs the same properties with ~10^4 mutations.
 *
 *   npm run fuzz:models                                # 100,000 files + 25,000 manifests, seed 9
 *   npm run fuzz:models -- --runs 300000 --seed 123    # more, another seed
 *   npm run fuzz:models -- --manifest-runs 0           # safetensors only
 *
 * Prints mutations tried, acceptances, rejections by error type and rule, and the time; exits 1 on
 * the first property failure, printing fast-check's seed and path (rerun with the same --seed to
 * reproduce) and writing the failing input to the temp folder.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AllocationProbe,
  applyFileMutation,
  applyManifestMutation,
  checkManifest,
  checkSafetensors,
  fileMutation,
  formatStats,
  manifestMutation,
  newStats,
  type FuzzStats,
} from '../test/util/model-fuzz.js';

function arg(name: string, fallback: number): number {
  const k = process.argv.indexOf(`--${name}`);
  if (k < 0) return fallback;
  const v = Number(process.argv[k + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`--${name} needs a non-negative integer`);
    process.exit(2);
  }
  return v;
}

const runs = arg('runs', 100_000);
const manifestRuns = arg('manifest-runs', 25_000);
const seed = arg('seed', 9);

async function campaign<T>(
  label: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  build: (m: T) => Uint8Array,
  check: (b: Uint8Array, s: FuzzStats) => void | Promise<void>,
  ext: string,
): Promise<boolean> {
  if (numRuns === 0) return true;
  const stats = newStats();
  const t0 = performance.now();
  const details = await fc.check(
    fc.asyncProperty(arb, async (m) => check(build(m), stats)),
    { numRuns, seed },
  );
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${label}: ${numRuns} mutations (seed ${seed}) in ${s.toFixed(1)} s (${((s / numRuns) * 1e6).toFixed(0)} µs each)`,
  );
  console.log(formatStats(stats));
  if (!details.failed) return true;
  console.error(fc.defaultReportMessage(details));
  console.error(`error: ${(details.errorInstance as Error)?.message ?? details.errorInstance}`);
  const ce = details.counterexample?.[0];
  if (ce !== undefined) {
    const out = join(tmpdir(), `fuzz-models-failure-seed${seed}.${ext}`);
    writeFileSync(out, build(ce));
    console.error(`failing input written to ${out}`);
  }
  return false;
}

const probe = new AllocationProbe();
const ok1 = await campaign(
  'safetensors',
  fileMutation,
  runs,
  (m) => applyFileMutation(m),
  (b, s) => checkSafetensors(b, s, probe),
  'safetensors',
);
const ok2 = await campaign(
  'manifests',
  manifestMutation,
  manifestRuns,
  (m) => applyManifestMutation(m),
  (b, s) => checkManifest(b, s),
  'json',
);
console.log(ok1 && ok2 ? 'fuzz:models: no failures' : 'fuzz:models: FAILED');
process.exit(ok1 && ok2 ? 0 : 1);
