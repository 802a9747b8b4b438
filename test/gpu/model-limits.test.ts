// Models past one storage binding, under a limits cap (the simulator: WebGPU never grants limits
// below the spec defaults, so these paths are otherwise reachable only at hundreds of MiB):
// - text-mdm's FFN matrices (128 KiB in f16, 256 KiB in f32) pass a 64 KiB binding and are split
//   into row blocks; its logits equal the unsplit run's bit for bit, in the f16 and the f32 form,
//   loaded whole or streamed from 3 shards;
// - a model whose one weight row passes the binding, or whose weights + activations pass a stated
//   memory budget, is refused with LimitExceededError naming the model's bytes, the limit and the
//   adapter — before any buffer is created;
// - the memory estimate counts the weights as uploaded (f16 at half the bytes).
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { LimitExceededError } from '../../src/errors.js';
import { loadModel, type TransformerModel } from '../../src/models/index.js';
import { gpuBackend } from '../util/gpu.js';
import { FIXTURES, MODELS } from '../util/models.js';
import { shardedCopy } from '../util/shards.js';

const capped = (bytes: number) =>
  createBackend({ prefer: 'webgpu', limitsCap: { maxStorageBufferBindingSize: bytes } }) as Promise<WebGPUBackend>;

const tokens = Uint32Array.from({ length: 32 }, (_, i) => (i * 7) % 96);
const input = { tokens, batch: 1, length: 32 };

describe('models past one binding (limits cap)', () => {
  it('text-mdm split into row blocks gives the unsplit logits exactly, f16 and f32', async () => {
    const whole = await gpuBackend();
    const split = await capped(64 * 1024);
    for (const weights of ['f16', 'f32'] as const) {
      const a = await loadModel(MODELS + 'text-mdm', whole, { weights });
      const b = await loadModel(MODELS + 'text-mdm', split, { weights });
      const ff1 = (b as unknown as { blocks: { ff1: { w: { blocks?: unknown[] } } }[] }).blocks[0].ff1.w;
      expect(ff1.blocks?.length).toBe(weights === 'f16' ? 2 : 4);
      expect([...(await split.read(b.forward(input)))]).toEqual([...(await whole.read(a.forward(input)))]);
      // streamed from 3 shards straight into the split GPU buffers: the same logits
      const c = await loadModel(shardedCopy(MODELS + 'text-mdm', 3), split, { weights });
      expect([...(await split.read(c.forward(input)))]).toEqual([...(await whole.read(a.forward(input)))]);
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it('refuses a model that cannot fit before any buffer is created, naming bytes, limit and adapter', async () => {
    const be = await capped(1024); // text-mdm's FFN bias holds 512 values: 2 KiB
    const before = be.stats().buffersCreated;
    const e = await loadModel(MODELS + 'text-mdm', be, { weights: 'f32' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LimitExceededError);
    const le = e as LimitExceededError;
    expect([le.limit, le.requested, le.available]).toEqual(['maxStorageBufferBindingSize', 2048, 1024]);
    const adapter = be.info.adapter!.description || be.info.adapter!.device;
    expect(le.message).toContain(`model text-mdm (`);
    expect(le.message).toMatch(/\d+ bytes of weights/);
    expect(le.message).toContain(`on ${adapter}`);
    expect(le.message).toMatch(/weight "blocks\.0\.w1\.bias" \[512\]/); // 2 KiB of f32, read whole
    expect(be.stats().buffersCreated).toBe(before);

    const gpu = await gpuBackend();
    const n = gpu.stats().buffersCreated;
    const b = await loadModel(FIXTURES + 'tiny-bidir', gpu, { memoryBudget: 1000 }).catch((x: unknown) => x);
    expect(b).toBeInstanceOf(LimitExceededError);
    expect((b as LimitExceededError).limit).toBe('memoryBudget');
    expect(gpu.stats().buffersCreated).toBe(n);
  });

  it('the memory estimate: weights as uploaded (f16 half), activations growing with batch and length', async () => {
    const gpu = await gpuBackend();
    const f16 = (await loadModel(MODELS + 'text-mdm', gpu)) as TransformerModel;
    const f32 = (await loadModel(MODELS + 'text-mdm', gpu, { weights: 'f32' })) as TransformerModel;
    const [e16, e32] = [f16.memoryEstimate(1, 128), f32.memoryEstimate(1, 128)];
    expect(e16.weights).toBe(f16.weightBytes().total);
    expect(e32.weights - e16.weights).toBe(f16.weightBytes().f16); // every matrix at half the bytes
    expect(e16.activations).toBe(e32.activations);
    expect(f16.memoryEstimate(8, 128).activations).toBeGreaterThan(7 * e16.activations);
    // the budget counts weights + activations at batch 1, full length: just enough loads, a byte less is refused
    const need = e16.weights + e16.activations;
    (await loadModel(MODELS + 'text-mdm', gpu, { memoryBudget: need })).dispose();
    await expect(loadModel(MODELS + 'text-mdm', gpu, { memoryBudget: need - 1 })).rejects.toThrow(LimitExceededError);
    f16.dispose();
    f32.dispose();
  });
});
