// A sharded sweep on a real SLURM (Debian's slurm-wlm + munge: one node on this machine, started by
// scripts/cluster/slurm/local-cluster.sh in a temporary folder and stopped after): submit.sh runs a
// 4-task job array of a small CPU-backend image sweep and a merge job chained with
// --dependency=afterok; one array task is killed mid-run with `scancel JOB_3` and brought back with
// requeue.sh (scontrol requeue + the merge job's dependency reset). The merged file must equal the
// unsharded run's: the same number of lines, the same spec hash (the spec's), and every line
// identical field for field except `ms` (wall time of the setting, which differs run to run); the
// requeued task must have skipped the settings it had finished before the kill.
//
// Not part of `npm test`: the run takes about 2–3 minutes on a 2-core machine (three sweeps' worth
// of CPU sampling plus the requeue delay), so it runs with `npm run test:slurm`, which sets
// SAMPLESCOPE_SLURM_TEST=1. It is skipped when that is not set or SLURM/munge is not installed
// (apt-get install -y slurm-wlm munge), and says why on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonLines } from '../../src/sweep/records.js';
import { specHash } from '../../src/sweep/spec.js';
import { tinyDigitsSpec } from './tiny-spec.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SLURM = join(ROOT, 'scripts/cluster/slurm');
const installed = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch'].every((p) =>
  existsSync(p),
);
const asked = process.env.SAMPLESCOPE_SLURM_TEST === '1';
const skipReason = !asked
  ? 'set SAMPLESCOPE_SLURM_TEST=1 (npm run test:slurm) to run it: it takes minutes'
  : !installed
    ? 'SLURM is not installed: apt-get install -y slurm-wlm munge'
    : '';
if (skipReason) console.warn(`test/cluster/slurm.test.ts skipped: ${skipReason}`);

// 12 settings; steps vary fastest, so shard 3/4 (settings 3, 7, 11) holds every steps = 8 setting: the
// longest shard, killed after its first setting is written
const spec = tinyDigitsSpec('slurm test: digits guidance × steps', { guidance: [1, 2, 3], steps: [1, 2, 4, 8] });

const dir = mkdtempSync(join(tmpdir(), 'ss-slurm-'));
let env: NodeJS.ProcessEnv = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` };
let started = false;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', cwd: dir });
}

/** scontrol's JobState of a job or array task ('' once SLURM forgot it). */
const jobState = (id: string) => /JobState=(\S+)/.exec(sh('scontrol', ['show', 'job', id]))?.[1] ?? '';

async function until(what: string, ok: () => boolean, seconds: number): Promise<void> {
  for (let t = 0; t < seconds * 4; t++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}; logs in ${dir}`);
}

const lines = (f: string) => (existsSync(f) ? parseJsonLines(readFileSync(f, 'utf8')) : []);

afterAll(() => {
  if (started) spawnSync('bash', [join(SLURM, 'local-cluster.sh'), 'stop', join(dir, 'slurm')], { env });
});

describe.skipIf(!!skipReason)('SLURM job array (single-node cluster on this machine)', () => {
  it('a 4-task array with one task killed and requeued merges to the unsharded run, line for line but ms', async () => {
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const exports = sh('bash', [join(SLURM, 'local-cluster.sh'), 'start', join(dir, 'slurm')]);
    started = true;
    const conf = /export SLURM_CONF=(\S+)/.exec(exports)![1];
    env = { ...env, SLURM_CONF: conf, BACKEND: 'cpu' };

    const out = join(dir, 'out');
    const [array, merge] = sh('bash', [join(SLURM, 'submit.sh'), specFile, out, '4'])
      .trim()
      .split(' ');
    const part3 = join(out, 'part-3.jsonl');
    // kill task 3 once its first setting is in its file (its second is then in flight)
    await until('task 3 to finish its first setting', () => lines(part3).length >= 1, 240);
    sh('scancel', [`${array}_3`]);
    await until('task 3 to be cancelled', () => jobState(`${array}_3`) === 'CANCELLED', 60);
    const kept = lines(part3);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(3); // it really was stopped mid-shard
    for (const t of [0, 1, 2]) await until(`task ${t}`, () => jobState(`${array}_${t}`) === 'COMPLETED', 240);
    // the merge job cannot run: one task of the array failed (SLURM sees it at its next scheduling pass)
    await until(
      'the merge job to see the failed task',
      () => /JobState=PENDING Reason=DependencyNeverSatisfied/.test(sh('scontrol', ['show', 'job', merge])),
      120,
    );
    expect(existsSync(join(out, 'sweep.jsonl'))).toBe(false);

    sh('bash', [join(SLURM, 'requeue.sh'), out, '3']);
    await until('the merge job', () => ['COMPLETED', 'FAILED'].includes(jobState(merge)), 300);
    expect(jobState(merge), readFileSync(join(out, `merge-${merge}.out`), 'utf8')).toBe('COMPLETED');
    const log3 = readFileSync(join(out, `sweep-${array}_3.out`), 'utf8');
    expect(log3).toMatch(/sweep stopped \(SIGTERM\)/);
    expect(log3).toContain(`${kept.length} already in ${part3}`); // the rerun skipped what was done
    expect(lines(part3).map((r) => r.index)).toEqual([3, 7, 11]);

    // the unsharded run, outside SLURM
    const full = join(dir, 'full.jsonl');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/samplescope.mjs'), 'sweep', '--spec', specFile, '--backend', 'cpu', '--out', full, '--quiet'],
      { encoding: 'utf8', env: process.env },
    );
    expect(r.status, r.stderr).toBe(0);

    const strip = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { ms, ...rest } = JSON.parse(l) as { ms: number };
          expect(ms).toBeGreaterThan(0);
          return JSON.stringify(rest);
        });
    const merged = strip(join(out, 'sweep.jsonl'));
    const whole = strip(full);
    expect(merged.length).toBe(12);
    expect(new Set(lines(join(out, 'sweep.jsonl')).map((x) => x.spec))).toEqual(new Set([specHash(spec)]));
    expect(merged).toEqual(whole);
  }, 900_000);
});
