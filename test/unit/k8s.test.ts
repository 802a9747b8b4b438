// Kubernetes (scripts/cluster/k8s/): the manifests, checked offline with kubectl (validate.mjs serves kubectl the
// discovery documents a cluster would, since `kubectl create --dry-run=client` cannot run without them, and
// there is no OpenAPI schema offline — so the fields that matter are checked here), and the container's
// entrypoint run as a pod runs it: JOB_COMPLETION_INDEX and HOSTNAME set as an Indexed Job sets them, the count
// from SAMPLESCOPE_SHARD_COUNT, on the CPU backend with a 2-setting sweep; then the merge mode, before and
// after every shard is done.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJsonLines } from '../../src/sweep/records.js';
import { expandGrid, specHash, validateSpec, type SweepSpec } from '../../src/sweep/spec.js';
import { tinyDigitsSpec } from '../cluster/tiny-spec.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'scripts/cluster/k8s');
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectl) console.warn('test/unit/k8s.test.ts: manifest check skipped: kubectl is not installed');
const T = 120_000;

interface Container {
  image: string;
  args: string[];
  env: { name: string; value: string }[];
  resources?: { limits?: Record<string, unknown> };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimitPerIndex?: number;
    podReplacementPolicy?: string;
    template: { spec: { restartPolicy: string; containers: Container[] } };
  };
}

describe.skipIf(!kubectl)('manifests (kubectl, offline)', () => {
  it(
    'are objects kubectl accepts; the sweep is an Indexed Job whose shard count equals its completions',
    () => {
      const r = spawnSync(process.execPath, [join(K8S, 'validate.mjs')], { encoding: 'utf8', timeout: T });
      expect(r.status, r.stderr).toBe(0);
      const objs = JSON.parse(r.stdout) as K8sObject[];
      const by = (name: string) => objs.find((o) => o.metadata.name === name)!;
      const sweep = by('samplescope-sweep');
      expect(sweep.kind).toBe('Job');
      expect(sweep.spec).toMatchObject({ completionMode: 'Indexed', podReplacementPolicy: 'Failed' });
      expect(sweep.spec.backoffLimitPerIndex).toBeGreaterThan(0);
      expect(sweep.spec.parallelism).toBeLessThanOrEqual(sweep.spec.completions!);
      const pod = sweep.spec.template.spec;
      expect(pod.restartPolicy).toBe('Never'); // backoffLimitPerIndex needs it
      const [shard] = pod.containers;
      const env = Object.fromEntries(shard.env.map((e) => [e.name, e.value]));
      expect(Number(env.SAMPLESCOPE_SHARD_COUNT)).toBe(sweep.spec.completions);
      expect(shard.args).toEqual(['sweep']);
      expect(shard.resources?.limits?.['nvidia.com/gpu']).toBe(1);
      const [merge] = by('samplescope-merge').spec.template.spec.containers;
      expect([merge.args, merge.image]).toEqual([['merge'], shard.image]);
      // the spec the ConfigMap ships is a valid sweep over models this package has
      const spec = JSON.parse(by('samplescope-sweep-spec').data!['spec.json']) as SweepSpec;
      expect(() => validateSpec(spec)).not.toThrow();
      for (const m of [spec.model, spec.classifier])
        expect(existsSync(join(ROOT, 'models', m, 'manifest.json'))).toBe(true);
      // a manifest kubectl cannot map is refused
      const dir = mkdtempSync(join(tmpdir(), 'ss-k8s-'));
      writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: batch/v1\nkind: Jobb\nmetadata: { name: x }\n');
      const bad = spawnSync(process.execPath, [join(K8S, 'validate.mjs'), join(dir, 'bad.yaml')], { encoding: 'utf8' });
      expect([bad.status, bad.stderr]).toEqual([1, expect.stringContaining('no matches for kind "Jobb"')]);
    },
    T,
  );
});

describe('the container entrypoint, run as an Indexed Job runs it', () => {
  const spec = tinyDigitsSpec('k8s entrypoint test', { guidance: [1], steps: [1, 2] });
  const dir = mkdtempSync(join(tmpdir(), 'ss-k8s-'));
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const out = join(dir, 'results');
  const pod = (mode: string, env: Record<string, string>) => {
    const r = spawnSync('bash', [join(K8S, 'entrypoint.sh'), mode], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: T,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SAMPLESCOPE: `${process.execPath} ${join(ROOT, 'bin/samplescope.mjs')}`,
        SPEC: specFile,
        OUTDIR: out,
        BACKEND: 'cpu',
        ...env,
      },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it(
    'each index runs its shard, a bad index or a missing count fails, merge names what is missing',
    () => {
      const s0 = pod('sweep', { JOB_COMPLETION_INDEX: '0', SAMPLESCOPE_SHARD_COUNT: '2', HOSTNAME: 'sweep-0-abcde' });
      expect(s0.code, s0.stderr).toBe(0);
      expect(s0.stderr).toMatch(/shard 0\/2 from JOB_COMPLETION_INDEX/);
      expect(parseJsonLines(readFileSync(join(out, 'part-0.jsonl'), 'utf8')).map((r) => r.index)).toEqual([0]);

      // merging now: shard 1 is missing, and nothing is written
      const early = pod('merge', {});
      expect([early.code, early.stderr]).toEqual([1, expect.stringMatching(/ShardError: .*shards not finished: 1\/2/)]);
      expect(existsSync(join(out, 'sweep.jsonl'))).toBe(false);

      // an index outside [0, n) (completions raised, the count not) and a pod without its count: refused
      const outside = pod('sweep', { JOB_COMPLETION_INDEX: '2', SAMPLESCOPE_SHARD_COUNT: '2' });
      expect([outside.code, outside.stderr]).toEqual([1, expect.stringMatching(/ShardError: .*outside \[0, 2\)/)]);
      expect(existsSync(join(out, 'part-2.jsonl'))).toBe(false);
      const noCount = pod('sweep', { JOB_COMPLETION_INDEX: '1' });
      expect([noCount.code, noCount.stderr]).toEqual([1, expect.stringContaining('SAMPLESCOPE_SHARD_COUNT')]);

      const s1 = pod('sweep', { JOB_COMPLETION_INDEX: '1', SAMPLESCOPE_SHARD_COUNT: '2', HOSTNAME: 'sweep-1-fghij' });
      expect(s1.code, s1.stderr).toBe(0);
      const merged = pod('merge', {});
      expect(merged.code, merged.stderr).toBe(0);
      const records = parseJsonLines(readFileSync(join(out, 'sweep.jsonl'), 'utf8'));
      expect(records.map((r) => r.index)).toEqual(expandGrid(spec.grid).map((s) => s.index));
      expect(new Set(records.map((r) => r.spec))).toEqual(new Set([specHash(spec)]));
      for (const r of records) {
        expect(r.adapter).toMatchObject({ backend: 'cpu', software: true });
        expect(r.shard).toBeUndefined();
      }
      // a CPU pod asked for hardware fails before it loads anything
      const hw = pod('sweep', {
        JOB_COMPLETION_INDEX: '0',
        SAMPLESCOPE_SHARD_COUNT: '2',
        REQUIRE_HARDWARE: '1',
      });
      expect([hw.code, hw.stderr]).toEqual([1, expect.stringContaining('AdapterRequirementError')]);
      expect(hw.stderr).not.toMatch(/# sweep/);
    },
    T * 3,
  );
});
