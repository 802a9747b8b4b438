// Streaming load of a sharded checkpoint (src/models/stream.ts), on the CPU backend (the same code
// uploads to GPU buffers; test/gpu/model-limits.test.ts and bench/scale run it on WebGPU):
// - text-mdm in 3 shards + index streams to the same logits as the whole-file load, with one
//   progress callback counting bytes across all shards up to their sum; so do a dropped folder
//   (Blobs) and an unsharded model with `stream: true`;
// - a shard path that escapes the folder ("../", absolute), an index that misplaces a tensor, a
//   truncated shard and a shard whose bytes do not hash to the manifest's sha256 are typed errors
//   naming file, tensor and rule — and every tensor uploaded before the failure is freed;
// - the incremental SHA-256 used in browsers equals node:crypto's at block-boundary lengths.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import type { HostArray, Tensor } from '../../src/backend/tensor.js';
import { IntegrityError, ModelFormatError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { Sha256 } from '../../src/models/sha256.js';
import { MODELS } from '../util/models.js';
import { shardedCopy, type ShardEdits } from '../util/shards.js';

/** A CPU backend that counts the tensors alive (uploaded and not freed). */
class CountingBackend extends CpuBackend {
  live = new Set<Tensor>();
  override tensor(data: HostArray, shape: readonly number[]): Tensor {
    const t = super.tensor(data, shape);
    this.live.add(t);
    return t;
  }
  override free(t: Tensor): void {
    super.free(t);
    this.live.delete(t);
  }
}

const input = { tokens: Uint32Array.from({ length: 24 }, (_, i) => (i * 5) % 96), batch: 1, length: 24 };

describe('streaming a sharded checkpoint', () => {
  it('gives the whole-file logits; one progress count in bytes across shards', async () => {
    const be = new CpuBackend();
    const dir = shardedCopy(MODELS + 'text-mdm', 3);
    const seen: { file: string; loaded: number; total: number }[] = [];
    const streamed = await loadModel(dir, be, { onProgress: (p) => seen.push(p) });
    const whole = await loadModel(MODELS + 'text-mdm', be);
    expect([...(await be.read(streamed.forward(input)))]).toEqual([...(await be.read(whole.forward(input)))]);
    const total = seen[0].total;
    expect(new Set(seen.map((p) => p.total))).toEqual(new Set([total]));
    expect(new Set(seen.map((p) => p.file)).size).toBe(3);
    expect(seen.every((p, i) => i === 0 || p.loaded >= seen[i - 1].loaded)).toBe(true);
    expect(seen.at(-1)!.loaded).toBe(total);
    expect(streamed.weightBytes()).toEqual(whole.weightBytes());
  });

  it('streams a dropped folder (Blobs) the same way, and `stream: true` streams an unsharded model', async () => {
    const be = new CpuBackend();
    const dir = shardedCopy(MODELS + 'text-mdm', 2);
    const files = new Map(readdirSync(dir).map((n) => [n, new Blob([readFileSync(join(dir, n))])]));
    const dropped = await loadModel('dropped', be, { files });
    const single = await loadModel(MODELS + 'text-mdm', be, { stream: true });
    const whole = await loadModel(MODELS + 'text-mdm', be);
    const want = [...(await be.read(whole.forward(input)))];
    expect([...(await be.read(dropped.forward(input)))]).toEqual(want);
    expect([...(await be.read(single.forward(input)))]).toEqual(want);
  });

  const failure = async (edits: ShardEdits) => {
    const be = new CountingBackend();
    const e = await loadModel(shardedCopy(MODELS + 'text-mdm', 3, edits), be).catch((x: unknown) => x);
    return { e: e as ModelFormatError & IntegrityError, live: be.live.size };
  };
  const first = (map: Record<string, string>) => Object.keys(map)[0];

  it.each([
    ['a shard path with "../"', '../model-00001-of-00003.safetensors'],
    ['an absolute shard path', '/etc/passwd'],
    ['a shard the manifest does not list', 'other.safetensors'],
  ])('refuses %s (rule shard-path, naming tensor and index), before any upload', async (_, path) => {
    const { e, live } = await failure({ index: (m) => (m[first(m)] = path) });
    expect(e).toBeInstanceOf(ModelFormatError);
    expect([e.rule, e.file, e.tensor]).toEqual(['shard-path', 'model.safetensors.index.json', 'tok_emb.weight']);
    expect(live).toBe(0);
  });

  it('refuses an index that puts a tensor in the wrong shard (shard-map), freeing what was uploaded', async () => {
    const { e, live } = await failure({
      index: (m) => (m['blocks.5.w2.weight'] = 'model-00001-of-00003.safetensors'),
    });
    expect([e.rule, e.tensor, e.file]).toEqual(['shard-map', 'blocks.5.w2.weight', 'model.safetensors.index.json']);
    expect(live).toBe(0);
  });

  it('a truncated shard is a ModelFormatError naming file, tensor and rule; nothing stays uploaded', async () => {
    const { e, live } = await failure({ shard: (i, b) => (i === 1 ? b.subarray(0, b.length - 100) : b) });
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.rule).toBe('truncated');
    expect(e.file).toBe('model-00002-of-00003.safetensors');
    expect(e.tensor).toMatch(/^blocks\.\d\.\w+\.(weight|bias)$/);
    expect(live).toBe(0);
  });

  it('a shard whose bytes differ from the manifest sha256 is an IntegrityError; nothing stays uploaded', async () => {
    const { e, live } = await failure({
      shard: (i, b) => {
        if (i !== 2) return b;
        const c = b.slice();
        c[c.length - 3] ^= 0x40;
        return c;
      },
    });
    expect(e).toBeInstanceOf(IntegrityError);
    expect([e.file, e.check]).toEqual(['model-00003-of-00003.safetensors', 'sha256']);
    expect(live).toBe(0);
  });
});

describe('incremental SHA-256', () => {
  it('equals node:crypto at lengths around the 64-byte block and its padding', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70001]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      const h = new Sha256();
      h.update(b.subarray(0, n >> 1));
      h.update(b.subarray(n >> 1));
      expect(h.hex(), `length ${n}`).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });
});
