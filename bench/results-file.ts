/**
 * Writing a Node bench's results (bench/samplers, bench/speculative, bench/diffusion): one JSON file in
 * bench/results/ named `<stem>-<adapter slug><suffix>.json`, with the date and the commit it measured.
 * Node-only (bench/util.ts stays importable by the browser page).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

/** The adapter's description as a file-name part: lower case, runs of other characters as "-", ≤ 40 characters. */
export function adapterSlug(adapter: string): string {
  return adapter
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase()
    .slice(0, 40);
}

/** Write `{ date, commit, ...body }` to bench/results/<stem>-<slug><suffix>.json; returns the path. */
export function writeResults(stem: string, adapter: string, suffix: string, body: Record<string, unknown>): string {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD').toString().trim();
  } catch {
    /* not a checkout */
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${stem}-${adapterSlug(adapter)}${suffix}.json`;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), commit, ...body }, null, 2) + '\n');
  return file;
}
