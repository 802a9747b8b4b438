// Hugging Face checkpoints streamed (src/models/hf/stream.ts over src/models/stream.ts), on the CPU
// backend (test/gpu/hf-stream.test.ts runs the same on WebGPU):
// - every fixture (LLaMA bidirectional and causal, GPT-2, BERT, RoBERTa; f32 and bf16 files) split
//   into 3 shards + index streams to exactly the whole load's logits (same values, same ops: LLaMA's
//   [gate; up] is Backend.stack either way, GPT-2's c_attn and BERT's token-type table stay on the host);
// - a shape the config contradicts or a missing tensor in the LAST shard, a row past the backend's
//   tensor bound, weights over `memoryBudget` are refused before the first tensor is created (all
//   headers are read first for local files; a budget that config.json alone exceeds before any shard
//   is read); a truncated shard frees everything uploaded before it;
// - a BERT checkpoint that stores its tied decoder weight streams it as a matrix; GPT-2's fused c_attn
//   streams as its q, k, v column blocks (nothing of it kept on the host);
// - over http (fetch: no header before its shard's turn) the same logits, and a bad last shard is refused
//   when its header arrives, everything uploaded before it freed;
// - Backend.stack on the CPU: a concatenation along dimension 0 that consumes its parts; bad parts
//   are OpInputErrors.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import type { HostArray, Tensor } from '../../src/backend/tensor.js';
import { LimitExceededError, ModelFormatError, OpInputError } from '../../src/errors.js';
import { hfStreamPlan } from '../../src/models/hf/stream.js';
import { loadModel, loadModelFiles, streamWeights } from '../../src/models/index.js';
import { validateManifest, type HfManifest } from '../../src/models/manifest.js';
import { forwardTokens, golden, HF_CASES, shardedFixture } from '../util/hf.js';
import type { ShardEdits } from '../util/shards.js';

/** A CPU backend that counts tensors created and alive (created and not freed). */
class CountingBackend extends CpuBackend {
  created = 0;
  live = new Set<Tensor>();
  override tensor(data: HostArray, shape: readonly number[]): Tensor {
    const t = super.tensor(data, shape);
    this.created++;
    this.live.add(t);
    return t;
  }
  override free(t: Tensor): void {
    super.free(t);
    this.live.delete(t);
  }
}

describe('HF checkpoints streamed from shards (cpu)', () => {
  for (const [name, causal] of HF_CASES)
    it(`${name}: 3 shards stream to the whole load's logits, f32 and bf16 files`, async () => {
      const be = new CpuBackend();
      const g = golden(name);
      const input = { tokens: forwardTokens(g.ids, g.B, g.T, causal), batch: g.B, length: g.T };
      for (const dtype of ['f32', 'bf16'] as const) {
        const { whole, sharded } = await shardedFixture(name, dtype, 3);
        const a = await loadModel(whole, be);
        const seen: number[] = [];
        const b = await loadModel(sharded, be, { onProgress: (p) => seen.push(p.loaded) });
        expect(seen.length, 'streamed (progress per tensor)').toBeGreaterThan(3);
        expect([...(await be.read(b.forward(input)))]).toEqual([...(await be.read(a.forward(input)))]);
        expect(b.weightBytes()).toEqual(a.weightBytes());
        a.dispose();
        b.dispose();
      }
    });

  it("a BERT checkpoint that stores the tied decoder weight streams it as a matrix (bert-base's files do)", async () => {
    const be = new CpuBackend();
    const g = golden('bert', 'bf16');
    const word = 'bert.embeddings.word_embeddings.weight';
    const { sharded } = await shardedFixture('bert', 'bf16', 3, {
      header: (i, ts) => {
        const w = ts.find((t) => t.name === word);
        if (w) ts.push({ ...w, name: 'cls.predictions.decoder.weight' });
      },
      index: (m) => (m['cls.predictions.decoder.weight'] = m[word]),
    });
    const m = await loadModel(sharded, be);
    const got = (await be.read(m.forward({ tokens: g.ids, batch: g.B, length: g.T }))) as Float32Array;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - g.logits[i]));
    expect(worst).toBeLessThan(2e-5);
  });

  it("GPT-2's fused c_attn streams as its q, k, v column blocks (uploaded as it arrives, not kept on the host)", async () => {
    const be = new CpuBackend();
    const { whole, sharded } = await shardedFixture('gpt2', 'f32', 3);
    const manifest = validateManifest(JSON.parse(readFileSync(join(sharded, 'manifest.json'), 'utf8'))) as HfManifest;
    const streamed = await streamWeights(sharded, manifest, be, {}, hfStreamPlan(manifest, be));
    const loaded = (await loadModelFiles(whole)).weights;
    for (const [kind, shape] of [
      ['weight', [32, 32]],
      ['bias', [32]],
    ] as const) {
      const name = `transformer.h.1.attn.c_attn.${kind}`;
      const t = streamed.get(name)!;
      expect(t.data.length, 'nothing on the host').toBe(0);
      expect(t.parts?.map((p) => p.shape)).toEqual([shape, shape, shape]);
      const all = loaded.get(name)!.data as Float32Array;
      const rows = shape.length === 2 ? 32 : 1;
      for (let j = 0; j < 3; j++) {
        const want = Array.from({ length: rows * 32 }, (_, i) => all[Math.floor(i / 32) * 96 + j * 32 + (i % 32)]);
        expect([...(await be.read(t.parts![j]))]).toEqual(want);
      }
    }
  });

  const failing = async (edits: ShardEdits, be = new CountingBackend(), opts = {}) => {
    const { sharded } = await shardedFixture('llama-causal', 'bf16', 3, edits);
    const e = await loadModel(sharded, be, opts).catch((x: unknown) => x);
    return { e: e as ModelFormatError, created: be.created, live: be.live.size };
  };
  const last = 'model-00003-of-00003.safetensors';

  it('a shape the config contradicts in the last shard: refused before any tensor is created', async () => {
    const { e, created } = await failing({
      header: (i, ts) => {
        if (i === 2) ts.find((t) => t.shape.length === 2 && t.shape[0] !== t.shape[1])!.shape.reverse();
      },
    });
    expect(e).toBeInstanceOf(ModelFormatError);
    expect([e.rule, e.file]).toEqual(['hf-tensor-shape', last]);
    expect(e.tensor).toMatch(/^(model|lm_head)\..*weight$/);
    expect(created).toBe(0);
  });

  it('a tensor missing from every shard: refused before any tensor is created', async () => {
    const { e, created } = await failing({
      header: (i, ts) => {
        if (i === 2) ts.splice(0, 1);
      },
    });
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.rule).toBe('hf-missing-tensor');
    expect(created).toBe(0);
  });

  it('a model past the backend: a row over the tensor bound, or over memoryBudget, before any tensor', async () => {
    // the embedding's rows are 32 f16 values (64 bytes); a 48-byte bound cannot hold one
    const small = new CountingBackend(undefined, { maxTensorBytes: 48 });
    const r = await failing({}, small);
    expect(r.e).toBeInstanceOf(LimitExceededError);
    expect((r.e as unknown as LimitExceededError).limit).toBe('cpuMaxTensorBytes');
    expect(r.e.message).toMatch(/model llama-causal-bf16 \(\d+ bytes of weights, \d+ of activations\) on cpu/);
    expect(r.created).toBe(0);
    const b = await failing({}, new CountingBackend(), { memoryBudget: 10_000 });
    expect(b.e).toBeInstanceOf(LimitExceededError);
    expect((b.e as unknown as LimitExceededError).limit).toBe('memoryBudget');
    expect(b.created).toBe(0);
  });

  it('over budget from config.json alone: refused before any shard is read (over fetch too)', async () => {
    // the first shard cut inside its header: read at all, it would be a ModelFormatError
    const { e, created } = await failing({ shard: (i, b) => (i === 0 ? b.subarray(0, 4) : b) }, new CountingBackend(), {
      memoryBudget: 10_000,
    });
    expect(e).toBeInstanceOf(LimitExceededError);
    expect((e as unknown as LimitExceededError).limit).toBe('memoryBudget');
    expect(created).toBe(0);
  });

  it('a truncated shard: ModelFormatError naming file, tensor and rule; every upload freed', async () => {
    const { e, created, live } = await failing({ shard: (i, b) => (i === 2 ? b.subarray(0, b.length - 64) : b) });
    expect(e).toBeInstanceOf(ModelFormatError);
    expect([e.rule, e.file]).toEqual(['truncated', last]);
    expect(e.tensor).toBeTruthy();
    expect(created).toBeGreaterThan(0); // shards 1 and 2 were uploaded …
    expect(live).toBe(0); // … and freed
  });
});

describe('HF checkpoints streamed over http (fetch: each header checked before its own shard)', () => {
  it('the same logits; a bad shape in the last shard is refused there and everything uploaded is freed', async () => {
    const serve = async (dir: string) => {
      const server = createServer((req, res) => {
        const path = join(dir, basename(req.url ?? '/'));
        if (!existsSync(path)) return void res.writeHead(404).end();
        const bytes = readFileSync(path);
        res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
    };
    const be = new CountingBackend();
    const g = golden('llama-causal', 'bf16');
    const input = { tokens: forwardTokens(g.ids, g.B, g.T, true), batch: g.B, length: g.T };
    const good = await shardedFixture('llama-causal', 'bf16', 3);
    const bad = await shardedFixture('llama-causal', 'bf16', 3, {
      header: (i, ts) => {
        if (i === 2) ts.find((t) => t.shape.length === 2 && t.shape[0] !== t.shape[1])!.shape.reverse();
      },
    });
    const [a, b] = [await serve(good.sharded), await serve(bad.sharded)];
    try {
      const m = await loadModel(a.url, be, { cache: false });
      const whole = await loadModel(good.whole, be);
      expect([...(await be.read(m.forward(input)))]).toEqual([...(await be.read(whole.forward(input)))]);
      m.dispose();
      whole.dispose();
      const created = be.created;
      const e = (await loadModel(b.url, be, { cache: false }).catch((x: unknown) => x)) as ModelFormatError;
      expect(e).toBeInstanceOf(ModelFormatError);
      expect([e.rule, e.file]).toEqual(['hf-tensor-shape', 'model-00003-of-00003.safetensors']);
      expect(be.created).toBeGreaterThan(created); // shards 1 and 2 went up before shard 3's header arrived …
      expect(be.live.size).toBe(0); // … and were freed
    } finally {
      a.server.close();
      b.server.close();
    }
  });
});

describe('Backend.stack (cpu)', () => {
  it('concatenates along dimension 0 and consumes the parts; refuses views, mixed shapes and dtypes', async () => {
    const be = new CpuBackend();
    const a = be.tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const b = be.tensor(Float32Array.from([5, 6]), [1, 2]);
    const s = be.stack([a, b]);
    expect(s.shape).toEqual([3, 2]);
    expect([...(await be.read(s))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.freed && b.freed).toBe(true);
    const c = be.tensor(new Float32Array(6), [2, 3]);
    expect(() => be.stack([c, be.tensor(new Float32Array(4), [2, 2])])).toThrow(OpInputError);
    expect(() => be.stack([c, be.tensor(new Uint16Array(6), [2, 3])])).toThrow(OpInputError);
    expect(() => be.stack([be.reshape(c, [3, 2])])).toThrow(/view/);
    expect(() => be.stack([c, c])).toThrow(/twice/);
    expect(() => be.stack([])).toThrow(OpInputError);
  });
});
