/**
 * Sweeps on the schedulers researchers already have: which shard a task is, from the environment a
 * SLURM job array or a Kubernetes Indexed Job gives it; what adapter a record ran on, and whether a
 * shard may run on it; whether an output file may take a shard's records. Pure (the environment is
 * passed in), so it runs and is tested anywhere; the file side is src/cli/shard-out.ts, the scripts
 * are scripts/cluster/.
 *
 * SLURM (`sbatch --array=A-B[:S]`) sets SLURM_ARRAY_TASK_ID and, since 17.11, SLURM_ARRAY_TASK_COUNT,
 * SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_STEP: the shard is (id − min) / step. Kubernetes
 * (`completionMode: Indexed`) sets JOB_COMPLETION_INDEX in 0 … completions − 1 but not the count:
 * it comes from `--shard auto/N` or SAMPLESCOPE_SHARD_COUNT.
 */
import { AdapterRequirementError, ShardError } from '../errors.js';
import type { BackendInfo } from '../backend/backend.js';
import { adapterName, shardName, type RecordAdapter, type ShardId, type SweepRecord } from './records.js';
import { parseShard } from './spec.js';

export type Env = Record<string, string | undefined>;

/** The environment variable that gives Kubernetes shards their count (JOB_COMPLETION_INDEX comes without one). */
export const SHARD_COUNT_ENV = 'SAMPLESCOPE_SHARD_COUNT';

/** A shard and where it came from: the flag, SLURM or Kubernetes. */
export interface ResolvedShard {
  shard?: ShardId;
  source: 'flag' | 'slurm' | 'kubernetes' | 'none';
  /**
   * the scheduler's name for this task, stable across its retries (SLURM: array job id _ task id; Kubernetes:
   * the pod's hostname, which an Indexed Job sets to job-name-index): a lock left by an earlier attempt of
   * the same task is that attempt's, and the scheduler has ended it
   */
  task?: string;
}

function integer(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim()))
    throw new ShardError('index-range', `${name}=${JSON.stringify(v)} is not a non-negative integer`);
  return Number(v);
}

function inRange(index: number, count: number, from: string): ShardId {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new ShardError('index-range', `shard count ${count} (${from}) must be a positive integer`);
  if (index >= count)
    throw new ShardError(
      'index-range',
      `shard index ${index} (${from}) is outside [0, ${count}): the array has more tasks than shards, or the count is wrong`,
    );
  return { index, count };
}

/** The scheduler's name for this task, the same in every attempt of it (see `ResolvedShard.task`). */
function schedulerTask(env: Env): string | undefined {
  if (env.SLURM_ARRAY_TASK_ID)
    return `slurm:${env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID ?? '?'}_${env.SLURM_ARRAY_TASK_ID}`;
  if (env.JOB_COMPLETION_INDEX) return `k8s:${env.HOSTNAME ?? `index-${env.JOB_COMPLETION_INDEX}`}`;
  return undefined;
}

/**
 * The shard this process runs. `flag` is `--shard`'s value: "i/n" (as given), "auto" or "auto/n" (from
 * the scheduler's environment; n overrides the count the scheduler reports — and must agree with it when
 * SLURM reports one), or undefined: the scheduler's shard when there is one (an array task or an indexed
 * pod), else the whole sweep.
 */
export function resolveShard(flag: string | undefined, env: Env): ResolvedShard {
  if (flag !== undefined && !/^auto(\/|$)/.test(flag.trim())) {
    const task = schedulerTask(env);
    return { shard: parseShard(flag), source: 'flag', ...(task ? { task } : {}) };
  }
  let n: number | undefined;
  if (flag !== undefined) {
    const m = /^auto(?:\/(\d+))?$/.exec(flag.trim());
    if (!m)
      throw new ShardError('index-range', `--shard must be "i/n", "auto" or "auto/n", got ${JSON.stringify(flag)}`);
    n = m[1] === undefined ? undefined : Number(m[1]);
  }
  const slurmId = integer(env, 'SLURM_ARRAY_TASK_ID');
  const k8sIndex = integer(env, 'JOB_COMPLETION_INDEX');
  if (slurmId !== undefined) {
    const min = integer(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = integer(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const reported = integer(env, 'SLURM_ARRAY_TASK_COUNT');
    if (n !== undefined && reported !== undefined && n !== reported)
      throw new ShardError(
        'count-changed',
        `--shard auto/${n} but SLURM runs ${reported} array tasks (SLURM_ARRAY_TASK_COUNT): the shard count must be the number of tasks`,
      );
    const count = n ?? reported;
    if (count === undefined)
      throw new ShardError(
        'index-range',
        'SLURM_ARRAY_TASK_COUNT is not set (SLURM older than 17.11?): give the count as --shard auto/N',
      );
    if (slurmId < min || (slurmId - min) % step !== 0)
      throw new ShardError(
        'index-range',
        `SLURM_ARRAY_TASK_ID=${slurmId} is not in the array ${min}…:${step} (SLURM_ARRAY_TASK_MIN/STEP)`,
      );
    const index = (slurmId - min) / step;
    return {
      shard: inRange(index, count, `SLURM_ARRAY_TASK_ID=${slurmId}, SLURM_ARRAY_TASK_MIN=${min}, step ${step}`),
      source: 'slurm',
      task: schedulerTask(env),
    };
  }
  if (k8sIndex !== undefined) {
    const fromEnv = integer(env, SHARD_COUNT_ENV);
    if (n !== undefined && fromEnv !== undefined && n !== fromEnv)
      throw new ShardError('count-changed', `--shard auto/${n} but ${SHARD_COUNT_ENV}=${fromEnv}`);
    const count = n ?? fromEnv;
    if (count === undefined)
      throw new ShardError(
        'index-range',
        `JOB_COMPLETION_INDEX=${k8sIndex} but no shard count: Kubernetes does not pass the Job's completions; give --shard auto/N or set ${SHARD_COUNT_ENV} (to spec.completions)`,
      );
    return {
      shard: inRange(k8sIndex, count, `JOB_COMPLETION_INDEX=${k8sIndex}`),
      source: 'kubernetes',
      task: schedulerTask(env),
    };
  }
  if (flag !== undefined)
    throw new ShardError(
      'no-scheduler',
      `--shard ${flag}: neither SLURM_ARRAY_TASK_ID (a SLURM job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard i/n`,
    );
  return { source: 'none' };
}

/** The adapter a backend runs on, as records keep it. */
export function recordAdapter(info: BackendInfo): RecordAdapter {
  if (info.name === 'cpu' || !info.adapter)
    return { backend: 'cpu', vendor: '', architecture: 'cpu', description: 'CPU twins (no GPU)', software: true };
  const { vendor, architecture, description, software } = info.adapter;
  return { backend: 'webgpu', vendor, architecture, description, software };
}

/** `--require-hardware`: an `AdapterRequirementError` unless the backend is WebGPU on a hardware adapter. */
export function requireHardware(info: BackendInfo): void {
  const a = recordAdapter(info);
  if (!a.software) return;
  throw new AdapterRequirementError(
    adapterName(a),
    a.backend === 'cpu'
      ? `--require-hardware: this shard runs on the CPU backend${info.fallbackReason ? ` (${info.fallbackReason})` : ''}, not a hardware GPU; nothing was run`
      : `--require-hardware: the WebGPU adapter is a software or fallback one (${adapterName(a)}), not a hardware GPU; nothing was run — is the GPU visible in this task (--gres=gpu:1, the Vulkan ICD, the device plugin)?`,
  );
}

/**
 * Whether `file`'s existing records may be continued by this run (spec `hash`, `shard` or the whole
 * sweep): they must be of the same spec and the same shard of the same count. A record without a `shard`
 * field (an unsharded run's, or one written before records named their shard) is taken by a shard whose
 * settings it belongs to. Returns the indices done.
 */
export function continuableIndices(
  file: string,
  existing: readonly SweepRecord[],
  hash: string,
  shard: ShardId | undefined,
): number[] {
  const mine = shard ? shardName(shard) : 'the whole sweep';
  for (const r of existing) {
    if (r.spec !== hash)
      throw new ShardError(
        'other-spec',
        `${file} holds records of another sweep spec (${r.spec}, this one is ${hash}): give another --out; nothing was written`,
      );
    const theirs = r.shard ? shardName(r.shard) : 'the whole sweep';
    if (theirs === mine || (!r.shard && shard && r.index % shard.count === shard.index)) continue;
    if (shard && r.shard && r.shard.count !== shard.count)
      throw new ShardError(
        'count-changed',
        `${file} was written by shard ${theirs} but this run is shard ${mine}: the shard count changed between runs of one sweep; keep n, or start the new cut in new files; nothing was written`,
      );
    throw new ShardError(
      'other-shard',
      `${file} holds records of ${theirs === 'the whole sweep' ? theirs : `shard ${theirs}`}, not ${mine === 'the whole sweep' ? mine : `shard ${mine}`}: two shards must not write one file (name it per shard, e.g. part-%a.jsonl); nothing was written`,
    );
  }
  return existing.map((r) => r.index);
}
