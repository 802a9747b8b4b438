// Hugging Face checkpoints streamed onto WebGPU (src/models/hf/stream.ts; the CPU side is
// test/unit/hf-stream.test.ts):
// - Backend.stack creates no buffer: the result's row blocks are the parts' buffers, read, multiplied
//   (transposed B) and looked up (embedding) exactly as the concatenated tensor; freeing it frees both;
// - LLaMA (causal, GQA, biases), GPT-2 and BERT fixtures split into 3 shards stream to exactly the
//   logits of the whole load on webgpu, and within 5e-5 + 1e-5·|ref| of the streamed CPU twin's;
//   LLaMA's [gate; up] is one tensor over the two streamed buffers (Backend.stack: 2 row blocks, no copy);
// - under a 4 KiB binding cap (the simulator) the f32 embedding and gate/up matrices are split into
//   row blocks as they stream, and stacking split parts keeps every block: the logits equal the
//   uncapped run's bit for bit;
// - a shape the config contradicts in the last shard, or a row past the binding, creates no GPU
//   buffer (refused on the headers); a truncated shard leaves no buffer live.
import { describe, expect, it, vi } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { createBackend } from '../../src/backend/create.js';
import type { GpuTensor, WebGPUBackend } from '../../src/backend/webgpu.js';
import { LimitExceededError, ModelFormatError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { gpuBackend } from '../util/gpu.js';
import { forwardTokens, golden, shardedFixture } from '../util/hf.js';

const capped = (bytes: number) =>
  createBackend({ prefer: 'webgpu', limitsCap: { maxStorageBufferBindingSize: bytes } }) as Promise<WebGPUBackend>;

const inputOf = (name: 'llama-causal' | 'gpt2' | 'bert', causal: boolean, rows = 2) => {
  const g = golden(name);
  return { tokens: forwardTokens(g.ids, g.B, g.T, causal).subarray(0, rows * g.T), batch: rows, length: g.T };
};

const gateUp = (m: unknown) => (m as { blocks: { up: { w: GpuTensor } }[] }).blocks[0].up.w;

describe('Backend.stack (webgpu)', () => {
  it('no byte moves: a row-block tensor over the parts; reads, matmul (transB) and embedding as the concatenation', async () => {
    const gpu = await gpuBackend();
    const a = Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 2 * 4 }, (_, i) => Math.cos(i));
    const cat = new Float32Array([...a, ...b]);
    const pa = gpu.tensor(a, [3, 4], { weight: true }),
      pb = gpu.tensor(b, [2, 4], { weight: true });
    const created = gpu.stats().buffersCreated;
    const s = gpu.stack([pa, pb]) as GpuTensor;
    expect(gpu.stats().buffersCreated).toBe(created);
    expect(s.shape).toEqual([5, 4]);
    expect(s.blocks?.map((x) => [x.row0, x.rows])).toEqual([
      [0, 3],
      [3, 2],
    ]);
    expect(pa.freed && pb.freed).toBe(true);
    expect([...(await gpu.read(s))]).toEqual([...cat]);
    const whole = gpu.tensor(cat, [5, 4], { weight: true });
    const x = gpu.tensor(
      Float32Array.from({ length: 2 * 4 }, (_, i) => i / 8 - 0.3),
      [2, 4],
    );
    const ids = gpu.tensor(Uint32Array.from([4, 0, 3, 2]), [4]);
    expect([...(await gpu.read(gpu.matmul(x, s, { transB: true })))]).toEqual([
      ...(await gpu.read(gpu.matmul(x, whole, { transB: true }))),
    ]);
    expect([...(await gpu.read(gpu.embedding(ids, s)))]).toEqual([...(await gpu.read(gpu.embedding(ids, whole)))]);
    const live = gpu.stats().pool!.live;
    gpu.free(s);
    expect(gpu.stats().pool!.live).toBe(live - 2); // both parts' buffers go back with it
  });
});

describe('HF checkpoints streamed onto webgpu', () => {
  for (const [name, causal] of [
    ['llama-causal', true],
    ['gpt2', true],
    ['bert', false],
  ] as const)
    it(`${name}: 3 shards → the whole load's logits exactly, the CPU twin's within 5e-5`, async () => {
      const gpu = await gpuBackend();
      const cpu = new CpuBackend();
      const input = inputOf(name, causal);
      const { whole, sharded } = await shardedFixture(name, 'bf16', 3);
      const a = await loadModel(whole, gpu);
      const b = await loadModel(sharded, gpu);
      const c = await loadModel(sharded, cpu);
      if (name === 'llama-causal') expect(gateUp(b).blocks?.length, 'gate and up stacked, not fused').toBe(2);
      const got = (await gpu.read(b.forward(input))) as Float32Array;
      expect([...got]).toEqual([...(await gpu.read(a.forward(input)))]);
      const ref = (await cpu.read(c.forward(input))) as Float32Array;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) - 1e-5 * Math.abs(ref[i]));
      expect(worst).toBeLessThanOrEqual(5e-5);
      expect(b.weightBytes()).toEqual(a.weightBytes());
      for (const m of [a, b, c]) m.dispose();
    });

  it('past a 4 KiB binding: split weights stream and stack block by block, the same logits', async () => {
    const gpu = await gpuBackend();
    const small = await capped(4096);
    const input = inputOf('llama-causal', true, 1); // (1, 8, 96) f32 logits: 3 KiB, within the cap
    const { sharded } = await shardedFixture('llama-causal', 'f32', 3);
    const a = await loadModel(sharded, gpu);
    const b = await loadModel(sharded, small);
    // gate and up are (48, 32) f32, 6 KiB each: 2 blocks each, 4 once stacked
    expect(gateUp(b).blocks?.length).toBe(4);
    expect([...(await small.read(b.forward(input)))]).toEqual([...(await gpu.read(a.forward(input)))]);
    a.dispose();
    b.dispose();
  });

  it('bad headers create no buffer; a truncated shard leaves none live', async () => {
    const gpu = await gpuBackend();
    const acquire = vi.spyOn(gpu.runtime.pool, 'acquire');
    const live = () => gpu.stats().pool!.live;
    const before = live();
    const { sharded } = await shardedFixture('llama-causal', 'bf16', 3, {
      header: (i, ts) => {
        if (i === 2) ts.find((t) => t.shape.length === 2 && t.shape[0] !== t.shape[1])!.shape.reverse();
      },
    });
    acquire.mockClear();
    const e = await loadModel(sharded, gpu).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).rule).toBe('hf-tensor-shape');
    expect(acquire).not.toHaveBeenCalled();

    // one f16 embedding row is 64 bytes: a 32-byte binding cannot hold it
    const tiny = await capped(32);
    const n = tiny.stats().buffersCreated;
    const { sharded: ok } = await shardedFixture('llama-causal', 'bf16', 3);
    const le = await loadModel(ok, tiny).catch((x: unknown) => x);
    expect(le).toBeInstanceOf(LimitExceededError);
    expect((le as Error).message).toMatch(/one row of weight "model\.embed_tokens\.weight" \[96, 32\]/);
    expect(tiny.stats().buffersCreated).toBe(n);

    const { sharded: cut } = await shardedFixture('llama-causal', 'bf16', 3, {
      shard: (i, b) => (i === 2 ? b.subarray(0, b.length - 64) : b),
    });
    acquire.mockClear();
    const t = await loadModel(cut, gpu).catch((x: unknown) => x);
    expect((t as ModelFormatError).rule).toBe('truncated');
    expect(acquire).toHaveBeenCalled(); // shards 1 and 2 were uploaded …
    expect(live()).toBe(before); // … and released
    acquire.mockRestore();
  });
});
