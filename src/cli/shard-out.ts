/**
 * A sweep shard's output file on a cluster: records are added by writing the whole file to a
 * temporary name and renaming it over the old one after each finished setting, so a task killed at
 * any moment leaves a file of whole records (it loses at most the setting in flight) and a rerun of
 * the same shard skips what is there. `FILE.lock` (created exclusively; it holds pid, host, shard and
 * the scheduler's task id) keeps two processes from writing one file. A lock left behind is taken
 * over only when its writer is known to be gone: a dead pid on this host, or an earlier attempt of the
 * same scheduler task (a requeued SLURM array task, a retried Kubernetes index — the scheduler ended
 * it before starting this one).
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ShardError } from '../errors.js';
import { continuableIndices } from '../sweep/cluster.js';
import { parseJsonLines, shardName, toJsonLine, type ShardId, type SweepRecord } from '../sweep/records.js';
import { writeAtomic } from './output.js';

/** What a lock file says about its writer. */
export interface LockInfo {
  pid: number;
  host: string;
  shard: string;
  task?: string;
  since: string;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // a lock with our own pid is an earlier container's (pid 1 again)
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock on `file`, if any (a lock that cannot be parsed is reported as held by an unknown writer). */
export function readLock(file: string): LockInfo | undefined {
  const path = `${file}.lock`;
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return { pid: -1, host: '?', shard: '?', since: '?' };
  }
}

export const describeLock = (l: LockInfo): string =>
  `pid ${l.pid} on ${l.host}, shard ${l.shard}${l.task ? `, task ${l.task}` : ''}, since ${l.since}`;

export class ShardOutput {
  private text: string;
  private locked = false;
  /** setting indices already in the file */
  readonly done: number[];
  /** the lock this run took over, if any (reported to the user) */
  readonly tookOver?: LockInfo;

  /**
   * Open `file` for shard `shard` (undefined: the whole sweep) of the spec `hash`: check its records
   * (same spec, same shard of the same count — else ShardError, nothing written) and take its lock.
   */
  constructor(
    readonly file: string,
    hash: string,
    shard: ShardId | undefined,
    task?: string,
  ) {
    this.text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (this.text && !this.text.endsWith('\n')) this.text += '\n';
    this.done = continuableIndices(file, parseJsonLines(this.text), hash, shard);
    const me: LockInfo = {
      pid: process.pid,
      host: hostname(),
      shard: shard ? shardName(shard) : 'all',
      ...(task ? { task } : {}),
      since: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 2 && !this.locked; attempt++) {
      try {
        writeFileSync(`${file}.lock`, JSON.stringify(me) + '\n', { flag: 'wx' });
        this.locked = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const held = readLock(file)!;
        const sameHost = held.host === me.host;
        const gone = (sameHost && !alive(held.pid)) || (!!task && held.task === task && !(sameHost && alive(held.pid)));
        if (!gone || attempt > 0)
          throw new ShardError(
            'locked',
            `${file} is being written by another process (${describeLock(held)}): two shards must not write one file; if that process is gone, remove ${file}.lock; nothing was written`,
          );
        unlinkSync(`${file}.lock`);
        this.tookOver = held;
      }
    }
  }

  /** Add a finished setting: the whole file is rewritten under a temporary name and renamed over the old one. */
  add(r: SweepRecord): void {
    const next = this.text + toJsonLine(r) + '\n';
    writeAtomic(this.file, next);
    this.text = next;
  }

  /** Release the lock (idempotent; also safe from a signal handler). */
  close(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(`${this.file}.lock`);
    } catch {
      // already gone: nothing to release
    }
  }
}
