// Sweeps on schedulers (src/sweep/cluster.ts, src/cli/shard-out.ts, the cluster side of records.ts): the shard
// from a SLURM job array's or a Kubernetes Indexed Job's environment (offset arrays, steps, a count that
// disagrees, an index outside [0, n)); which existing output a run may continue (same spec, same shard of the
// same count); the lock that keeps a second writer out and is taken over only from a writer known to be gone;
// whole-file atomic adds; merges that refuse mixed shard counts and name the unfinished shards; timings grouped
// by adapter, never averaged across adapters; --require-hardware on CPU, lavapipe, SwiftShader and a GPU.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLock, ShardOutput } from '../../src/cli/shard-out.js';
import { AdapterRequirementError, ShardError } from '../../src/errors.js';
import { continuableIndices, recordAdapter, requireHardware, resolveShard } from '../../src/sweep/cluster.js';
import {
  mergeSweeps,
  parseJsonLines,
  RECORD_FORMAT,
  timingByAdapter,
  type RecordAdapter,
  type SweepRecord,
} from '../../src/sweep/records.js';
import { VERSION } from '../../src/version.js';

const GPU: RecordAdapter = {
  backend: 'webgpu',
  vendor: 'nvidia',
  architecture: 'hopper',
  description: 'NVIDIA H100',
  software: false,
};

function rec(index: number, shard?: [number, number], over: Partial<SweepRecord> = {}): SweepRecord {
  return {
    spec: 'abc',
    index,
    knobs: { i: index },
    axes: { consistency: index, diversity: 1, realism: 0 },
    metrics: {},
    nfe: 1,
    ms: 10,
    backend: 'cpu',
    ...(shard ? { shard: { index: shard[0], count: shard[1] } } : {}),
    format: RECORD_FORMAT,
    ...over,
  };
}

/** The ShardError `f` throws (fails the test when it throws nothing or something else). */
function shardError(f: () => unknown): ShardError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ShardError);
    return e as ShardError;
  }
  throw new Error('expected a ShardError');
}

describe('the shard from the scheduler', () => {
  it('takes i/n as given and runs the whole sweep outside a scheduler', () => {
    expect(resolveShard('1/4', {})).toEqual({ shard: { index: 1, count: 4 }, source: 'flag' });
    expect(resolveShard(undefined, {})).toEqual({ source: 'none' });
    // an explicit i/n wins over the scheduler's; the task is still the scheduler's (for taking over its lock)
    expect(
      resolveShard('2/4', { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' }),
    ).toEqual({
      shard: { index: 2, count: 4 },
      source: 'flag',
      task: 'slurm:7_0',
    });
  });

  it('SLURM: (id − min) / step of SLURM_ARRAY_TASK_COUNT, with or without --shard auto', () => {
    const env = { SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(resolveShard('auto', env)).toEqual({ shard: { index: 3, count: 4 }, source: 'slurm', task: 'slurm:77_3' });
    expect(resolveShard(undefined, env).shard).toEqual({ index: 3, count: 4 });
    expect(resolveShard('auto/4', env).shard).toEqual({ index: 3, count: 4 });
    // --array=1-4: ids 1…4 are shards 0…3
    const offset = { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(resolveShard('auto', offset).shard).toEqual({ index: 3, count: 4 });
    // --array=10-16:2: ids 10, 12, 14, 16
    const stepped = {
      SLURM_ARRAY_TASK_ID: '14',
      SLURM_ARRAY_TASK_MIN: '10',
      SLURM_ARRAY_TASK_STEP: '2',
      SLURM_ARRAY_TASK_COUNT: '4',
    };
    expect(resolveShard('auto', stepped).shard).toEqual({ index: 2, count: 4 });
    // an old SLURM without the count: auto/n gives it
    expect(resolveShard('auto/5', { SLURM_ARRAY_TASK_ID: '4' }).shard).toEqual({ index: 4, count: 5 });
  });

  it('SLURM: an index outside [0, n), a count that disagrees, no count, a bad id are typed errors', () => {
    // --array=0-4 but the sweep was cut in 4: task 4 has no shard
    expect(shardError(() => resolveShard('auto/4', { SLURM_ARRAY_TASK_ID: '4' })).problem).toBe('index-range');
    const e = shardError(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '4' }));
    expect([e.problem, e.message]).toEqual(['index-range', expect.stringMatching(/index 5 .* outside \[0, 4\)/)]);
    expect(
      shardError(() => resolveShard('auto/3', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' })).problem,
    ).toBe('count-changed');
    expect(shardError(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: '0' })).message).toMatch(/auto\/N/);
    expect(shardError(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: 'x' })).message).toMatch(/not a non-neg/);
    expect(
      shardError(() =>
        resolveShard('auto', {
          SLURM_ARRAY_TASK_ID: '13',
          SLURM_ARRAY_TASK_MIN: '10',
          SLURM_ARRAY_TASK_STEP: '2',
          SLURM_ARRAY_TASK_COUNT: '4',
        }),
      ).message,
    ).toMatch(/not in the array/);
  });

  it('Kubernetes: JOB_COMPLETION_INDEX with the count from auto/n or SAMPLESCOPE_SHARD_COUNT', () => {
    const env = { JOB_COMPLETION_INDEX: '2', HOSTNAME: 'sweep-2' };
    expect(resolveShard('auto/4', env)).toEqual({
      shard: { index: 2, count: 4 },
      source: 'kubernetes',
      task: 'k8s:sweep-2',
    });
    expect(resolveShard(undefined, { ...env, SAMPLESCOPE_SHARD_COUNT: '3' }).shard).toEqual({ index: 2, count: 3 });
    expect(shardError(() => resolveShard('auto', env)).message).toMatch(/SAMPLESCOPE_SHARD_COUNT/);
    expect(shardError(() => resolveShard(undefined, { ...env, SAMPLESCOPE_SHARD_COUNT: '2' })).problem).toBe(
      'index-range',
    );
    expect(shardError(() => resolveShard('auto/4', { ...env, SAMPLESCOPE_SHARD_COUNT: '3' })).problem).toBe(
      'count-changed',
    );
  });

  it('auto without a scheduler, and a malformed flag, are refused', () => {
    expect(shardError(() => resolveShard('auto', {})).problem).toBe('no-scheduler');
    expect(shardError(() => resolveShard('auto/x', {})).message).toMatch(/"i\/n", "auto" or "auto\/n"/);
    expect(() => resolveShard('4/4', {})).toThrow(/need 0 ≤ i < n/);
  });
});

describe('adapters', () => {
  const info = (adapter?: Partial<RecordAdapter>) =>
    ({
      name: adapter ? 'webgpu' : 'cpu',
      ...(adapter ? { adapter: { vendor: '', architecture: '', device: '', description: '', ...adapter } } : {}),
    }) as Parameters<typeof recordAdapter>[0];

  it('records what ran: the CPU backend says it is not a GPU', () => {
    expect(recordAdapter(info())).toEqual({
      backend: 'cpu',
      vendor: '',
      architecture: 'cpu',
      description: 'CPU twins (no GPU)',
      software: true,
    });
    const { backend: _b, ...gpu } = GPU;
    expect(recordAdapter(info(gpu))).toEqual(GPU);
  });

  it('--require-hardware passes a hardware GPU only', () => {
    expect(() => requireHardware(info({ ...GPU }))).not.toThrow();
    expect(() => requireHardware(info())).toThrow(AdapterRequirementError);
    expect(() => requireHardware(info())).toThrow(/CPU backend/);
    const lavapipe = info({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)', software: true });
    expect(() => requireHardware(lavapipe)).toThrow(/software or fallback.*llvmpipe/);
    const swiftshader = info({ vendor: 'google', architecture: 'swiftshader', software: true });
    expect(() => requireHardware(swiftshader)).toThrow(AdapterRequirementError);
  });

  it('the version records carry is package.json’s', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('continuing an output file', () => {
  it('takes the same shard of the same spec, refuses another shard, count or spec', () => {
    expect(continuableIndices('f', [rec(1, [1, 4]), rec(5, [1, 4])], 'abc', { index: 1, count: 4 })).toEqual([1, 5]);
    expect(continuableIndices('f', [rec(0), rec(1)], 'abc', undefined)).toEqual([0, 1]);
    const p = (rs: SweepRecord[], shard?: [number, number]) =>
      shardError(() => continuableIndices('f', rs, 'abc', shard ? { index: shard[0], count: shard[1] } : undefined))
        .problem;
    expect(p([rec(0, [0, 4])], [1, 4])).toBe('other-shard');
    expect(p([rec(0, [0, 4])], [0, 3])).toBe('count-changed');
    // a record without a shard (an unsharded run's, or an older one's) goes with the shard it belongs to
    expect(continuableIndices('f', [rec(4)], 'abc', { index: 0, count: 4 })).toEqual([4]);
    expect(p([rec(1)], [0, 4])).toBe('other-shard');
    expect(p([rec(0, [0, 4])])).toBe('other-shard');
    expect(p([rec(0, [0, 4], { spec: 'zzz' })], [0, 4])).toBe('other-spec');
  });
});

describe('merging shards', () => {
  it('drops the shard field and keeps everything else', () => {
    const parts = [
      [rec(0, [0, 2]), rec(2, [0, 2])],
      [rec(1, [1, 2]), rec(3, [1, 2])],
    ];
    expect(mergeSweeps(parts, 4)).toEqual([0, 1, 2, 3].map((i) => rec(i)));
  });

  it('refuses parts cut into different shard counts and a record outside its shard', () => {
    const e = shardError(() => mergeSweeps([[rec(0, [0, 2])], [rec(1, [1, 3])]]));
    expect([e.problem, e.message]).toEqual([
      'count-changed',
      expect.stringMatching(/n = 2 \(part 1\); n = 3 \(part 2\)/),
    ]);
    expect(() => mergeSweeps([[rec(1, [0, 2])]])).toThrow(/setting 1 is not in shard 0\/2/);
  });

  it('names the shards that have not finished', () => {
    const e = shardError(() => mergeSweeps([[rec(0, [0, 4]), rec(4, [0, 4])], [rec(1, [1, 4])]], 8));
    expect(e.problem).toBe('incomplete');
    expect(e.missing).toEqual(['1/4', '2/4', '3/4']);
    expect(e.message).toMatch(/settings missing from the merged sweep: 2, 3, 5, 6, 7/);
    expect(e.message).toMatch(/1\/4 \(1 of 2 settings missing\), 2\/4 \(2 of 2/);
  });

  it('groups timings by adapter instead of averaging across them', () => {
    const cpu = recordAdapter({ name: 'cpu' });
    const rs = [
      rec(0, undefined, { adapter: GPU, ms: 10 }),
      rec(1, undefined, { adapter: cpu, ms: 1000 }),
      rec(2, undefined, { adapter: GPU, ms: 30 }),
      rec(3, undefined, { ms: 5 }),
    ];
    expect(timingByAdapter(rs)).toEqual([
      { adapter: 'webgpu nvidia hopper NVIDIA H100', software: false, settings: 2, meanMs: 20 },
      { adapter: 'cpu cpu CPU twins (no GPU)', software: true, settings: 1, meanMs: 1000 },
      { adapter: 'unrecorded', software: undefined, settings: 1, meanMs: 5 },
    ]);
  });
});

describe('the shard output file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'ss-shard-'));

  it('adds whole records atomically, skips what is there on a rerun, and releases its lock', () => {
    const f = join(dir(), 'part-1.jsonl');
    const out = new ShardOutput(f, 'abc', { index: 1, count: 2 });
    expect(readLock(f)).toMatchObject({ pid: process.pid, host: hostname(), shard: '1/2' });
    out.add(rec(1, [1, 2]));
    out.add(rec(3, [1, 2]));
    // every add leaves a complete file, and no temporary file behind
    expect(parseJsonLines(readFileSync(f, 'utf8')).map((r) => r.index)).toEqual([1, 3]);
    expect(readdirSync(join(f, '..'))).toEqual(['part-1.jsonl', 'part-1.jsonl.lock']);
    out.close();
    expect(existsSync(`${f}.lock`)).toBe(false);
    const again = new ShardOutput(f, 'abc', { index: 1, count: 2 });
    expect(again.done).toEqual([1, 3]);
    again.close();
  });

  it('refuses a file another live process writes; nothing changes', () => {
    const f = join(dir(), 'part.jsonl');
    writeFileSync(f, JSON.stringify(rec(0, [0, 2])) + '\n');
    // a live writer on this host: this test's parent process
    const lock = JSON.stringify({ pid: process.ppid, host: hostname(), shard: '0/2', since: 'now' });
    writeFileSync(`${f}.lock`, lock);
    const e = shardError(() => new ShardOutput(f, 'abc', { index: 0, count: 2 }));
    expect([e.problem, e.message]).toEqual(['locked', expect.stringContaining(`pid ${process.ppid}`)]);
    // the same scheduler task does not take over from a live process on this host either
    writeFileSync(`${f}.lock`, JSON.stringify({ ...JSON.parse(lock), task: 'slurm:1_0' }));
    expect(shardError(() => new ShardOutput(f, 'abc', { index: 0, count: 2 }, 'slurm:1_0')).problem).toBe('locked');
    // a writer on another host cannot be checked: refused unless it is an earlier attempt of this task
    writeFileSync(`${f}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', shard: '0/2', since: 'now' }));
    expect(shardError(() => new ShardOutput(f, 'abc', { index: 0, count: 2 }, 'slurm:1_0')).problem).toBe('locked');
    expect(readFileSync(f, 'utf8')).toBe(JSON.stringify(rec(0, [0, 2])) + '\n');
  });

  it('takes over a lock whose writer is gone: a dead pid here, or an earlier attempt of the same task', async () => {
    const f = join(dir(), 'part.jsonl');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((res) => child.on('exit', () => res(child.pid!)));
    writeFileSync(`${f}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), shard: '0/2', since: 'then' }));
    const a = new ShardOutput(f, 'abc', { index: 0, count: 2 });
    expect(a.tookOver?.pid).toBe(deadPid);
    expect(readLock(f)?.pid).toBe(process.pid);
    a.close();
    writeFileSync(
      `${f}.lock`,
      JSON.stringify({ pid: 1, host: 'node-7', shard: '0/2', task: 'k8s:sweep-0', since: 'then' }),
    );
    const b = new ShardOutput(f, 'abc', { index: 0, count: 2 }, 'k8s:sweep-0');
    expect(b.tookOver?.host).toBe('node-7');
    b.close();
  });
});
