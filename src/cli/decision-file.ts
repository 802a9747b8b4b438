/**
 * The CLI's store of the auto path's decisions (src/worker/path-decisions.ts): a JSON file, { key: decision },
 * by default ~/.cache/samplescope/path-decisions.json ($SAMPLESCOPE_CACHE_DIR overrides the folder). A missing
 * or unreadable file is an empty store; a write that fails costs a measurement next time, nothing else.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDecision, type DecisionStore } from '../worker/path-decisions.js';

export function defaultDecisionFile(): string {
  return join(process.env.SAMPLESCOPE_CACHE_DIR ?? join(homedir(), '.cache', 'samplescope'), 'path-decisions.json');
}

export function fileStore(path = defaultDecisionFile()): DecisionStore {
  const read = async (): Promise<Record<string, unknown>> => {
    try {
      const o = JSON.parse(await readFile(path, 'utf8')) as unknown;
      return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  return {
    where: path,
    get: async (k) => {
      const v = (await read())[k];
      return isDecision(v) ? v : undefined;
    },
    set: async (k, d) => {
      try {
        const all = await read();
        all[k] = { used: d.used, reason: d.reason };
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify(all, null, 1));
        await rename(tmp, path);
      } catch {
        // a read-only cache costs a measurement next time, nothing else
      }
    },
  };
}
