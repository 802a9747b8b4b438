/**
 * A sharded copy of a model folder for the streaming tests: its weights split into `n` safetensors
 * shards (tensors in file order, bytes unchanged), a `model.safetensors.index.json` mapping each
 * tensor to its shard, and a manifest listing the shards (role "weights") and the index (role
 * "weights-index") with their sizes and sha256. `edit` may change the index or a shard's bytes after
 * the manifest's hashes are taken.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, writeSafetensors } from '../../src/models/safetensors.js';

export interface ShardEdits {
  /** rewrite the index's weight map before it is written (its sha256 is taken after) */
  index?: (map: Record<string, string>) => void;
  /** change a shard's header entries (name, shape, dtype) before it is written and hashed */
  header?: (i: number, tensors: { name: string; dtype: 'F16'; shape: number[]; data: Uint8Array }[]) => void;
  /** change a shard's bytes after the manifest's sha256 and size were taken */
  shard?: (i: number, bytes: Uint8Array) => Uint8Array;
}

export function shardedCopy(dir: string, n: number, edits: ShardEdits = {}): string {
  const out = mkdtempSync(join(tmpdir(), 'shards-'));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const weightsFile = manifest.files.find((f: { role: string }) => f.role === 'weights');
  const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, weightsFile.path))));
  const tensors = [...st.tensors.values()].sort((a, b) => a.begin - b.begin);
  const per = Math.ceil(tensors.length / n);
  const files: { path: string; role: string; bytes: number; sha256: string }[] = [];
  const map: Record<string, string> = {};
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const shards: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const path = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(i * per, (i + 1) * per);
    const entries = part.map((t) => ({
      name: t.name,
      dtype: t.dtype as 'F16',
      shape: [...t.shape],
      data: st.data.subarray(t.begin, t.end),
    }));
    edits.header?.(i, entries);
    const bytes = writeSafetensors(entries);
    for (const t of part) map[t.name] = path;
    files.push({ path, role: 'weights', bytes: bytes.length, sha256: sha(bytes) });
    shards.push(bytes);
  }
  edits.index?.(map);
  const index = new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: map }));
  writeFileSync(join(out, 'model.safetensors.index.json'), index);
  files.push({ path: 'model.safetensors.index.json', role: 'weights-index', bytes: index.length, sha256: sha(index) });
  shards.forEach((b, i) => writeFileSync(join(out, files[i].path), edits.shard ? edits.shard(i, b) : b));
  for (const f of manifest.files.filter((x: { role: string }) => x.role !== 'weights')) {
    files.push(f);
    writeFileSync(join(out, f.path), readFileSync(join(dir, f.path)));
  }
  manifest.files = files;
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
  return out + '/';
}
