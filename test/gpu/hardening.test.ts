// Fault injection, leaks and concurrency on the engine (issue 9, parts 2–4), Node + Dawn, on the
// tiny-bidir fixture (2 layers, d 32, vocab 11, length ≤ 12). Reduced counts here; `npm run soak`
// (scripts/soak.ts) runs the full ones: 60 device-loss trials, 1000 sample calls, 10 and 32
// concurrent requests, with larger batches.
// - Device loss at random steps (12 trials, fixed seed 90210, FHS and ancestral, random batch,
//   length, class, kill step): every request either finishes with exactly the uninterrupted samples
//   or rejects with DeviceLostError and resume() gives exactly them, continuing after the last
//   completed step, with the same NFE (FHS) or at most one more (ancestral recomputes logits it had
//   reused across steps that revealed nothing, which the checkpoint does not hold).
// - Soak: 100 sample calls (batch 1, length 6) after a warm-up create no GPU buffer (pool and runtime counts), hold no
//   live buffer more than before, and keep the JS heap (after a full GC) within ±10%.
// - 10 concurrent requests with different seeds, batches and lengths on one engine: each result
//   equals the same request run alone.
// - A request over the adapter's buffer limit: LimitExceededError naming the limit, no buffer of
//   that size made, nothing left live; the engine samples normally afterwards.
// - A model update with a sha256 mismatch: IntegrityError, the loaded model under that handle is kept
//   and nothing was uploaded.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { IntegrityError, LimitExceededError } from '../../src/errors.js';
import { Engine } from '../../src/worker/engine.js';
import { concurrentVsSingle, deviceLossTrials, nfeOk, soak } from '../util/faults.js';
import { gpuBackend } from '../util/gpu.js';
import { FIXTURES } from '../util/models.js';

let e: Engine;

beforeAll(async () => {
  await gpuBackend(); // fails (never skips) without an adapter
  e = new Engine();
  expect((await e.init('webgpu')).name).toBe('webgpu');
  await e.loadModel(FIXTURES + 'tiny-bidir', { id: 'm' });
});

afterAll(() => e?.dispose());

describe('engine hardening', () => {
  it('device loss at 12 random steps: no wrong output, every lost request resumes to the uninterrupted samples', async () => {
    const trials = await deviceLossTrials(e, { model: 'm', trials: 12, seed: 90210, maxLength: 12, classes: 2 });
    console.log(
      `device loss: ${trials.length} trials, ${trials.filter((t) => t.outcome === 'lost').length} lost + resumed, ${trials.filter((t) => t.outcome === 'finished').length} finished before the loss mattered`,
    );
    expect(trials.filter((t) => t.error)).toEqual([]);
    expect(trials.filter((t) => !t.equal)).toEqual([]);
    expect(trials.filter((t) => !nfeOk(t))).toEqual([]);
    const lost = trials.filter((t) => t.outcome === 'lost');
    expect(lost.length, 'most kills land before the last read').toBeGreaterThanOrEqual(trials.length / 2);
    for (const t of lost) {
      expect(t.completedBeforeLoss!, `trial ${t.trial}`).toBeGreaterThan(t.killAt);
      expect(t.resumedSteps, `trial ${t.trial}: continued, not restarted`).toBe(t.steps - t.completedBeforeLoss!);
    }
    expect(new Set(trials.map((t) => t.sampler))).toEqual(new Set(['fhs', 'ancestral']));
    expect(e.interruptedRequests()).toEqual([]);
    expect((await e.be()).name).toBe('webgpu');
  }, 600_000);

  it('100 sample calls: no new GPU buffers, none left live, JS heap within ±10%', async () => {
    const f = await soak(e, { model: 'm', calls: 100, warmup: 8, length: 6, batch: 1, seeds: 4 });
    console.log(
      `soak: ${f.calls} calls in ${(f.ms / 1000).toFixed(1)} s; pool created ${f.before.created} → ${f.after.created}, live ${f.before.live} → ${f.after.live}, pooled ${f.before.pooled} → ${f.after.pooled}, runtime buffers ${f.before.runtimeBuffers} → ${f.after.runtimeBuffers}; heap ${(f.before.heapUsed / 2 ** 20).toFixed(1)} → ${(f.after.heapUsed / 2 ** 20).toFixed(1)} MiB (${(100 * f.heapChange).toFixed(1)}%)`,
    );
    expect(f.mismatches, 'the same seed gives the same samples every time').toBe(0);
    expect(f.after.created).toBe(f.before.created);
    expect(f.after.runtimeBuffers).toBe(f.before.runtimeBuffers);
    expect(f.after.live).toBe(f.before.live);
    expect(f.after.pooled).toBe(f.before.pooled);
    expect(Math.abs(f.heapChange)).toBeLessThan(0.1);
  }, 600_000);

  it('10 concurrent requests (different seeds, samplers, batches, lengths) equal their single runs', async () => {
    const r = await concurrentVsSingle(e, { model: 'm', n: 10, length: 8, batch: 2 });
    expect(r.differing).toEqual([]);
    expect(r.interleaved, 'the requests really ran at the same time').toBe(true);
  }, 600_000);

  it('a request over the adapter buffer limit: LimitExceededError, no such buffer made, nothing left live', async () => {
    const be = (await e.be()) as WebGPUBackend;
    const { bytes: limit, limit: name } = be.runtime.limits.storageBinding; // whichever of the two binds here
    const L = 12,
      d = 32; // the fixture's length and width: hidden states (batch, L, d) f32
    const batch = Math.ceil(limit / (L * d * 4)) + 1;
    const sizes: number[] = [];
    const create = be.runtime.device.createBuffer.bind(be.runtime.device);
    be.runtime.device.createBuffer = (desc: GPUBufferDescriptor) => {
      sizes.push(desc.size);
      return create(desc);
    };
    const before = be.stats().pool;
    try {
      const err = await e
        .sampleText({ model: 'm', sampler: 'fhs', options: { batch, length: L, seed: 1 } })
        .catch((x: unknown) => x);
      expect(err).toBeInstanceOf(LimitExceededError);
      expect((err as LimitExceededError).limit).toBe(name);
      expect((err as LimitExceededError).requested).toBeGreaterThan(limit);
    } finally {
      be.runtime.device.createBuffer = create;
    }
    expect(sizes.filter((s) => s > limit)).toEqual([]);
    expect(be.stats().pool.live).toBe(before.live);
    const ok = await e.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 2, length: L, seed: 1 } });
    expect(ok.texts.map((t) => t.length)).toEqual([L, L]);
  }, 600_000);

  it('a model update that fails its sha256: IntegrityError, the loaded model is kept, nothing uploaded', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ss-harden-'));
    cpSync(FIXTURES + 'tiny-bidir', d, { recursive: true });
    const p = join(d, 'model.safetensors');
    const b = readFileSync(p);
    b[b.length - 5] ^= 1;
    writeFileSync(p, b);
    const req = { model: 'm', sampler: 'fhs' as const, options: { batch: 2, length: 8, seed: 4 } };
    const before = await e.sampleText(req);
    const be = (await e.be()) as WebGPUBackend;
    const created = be.stats().buffersCreated;
    await expect(e.loadModel(d, { id: 'm' })).rejects.toBeInstanceOf(IntegrityError);
    await expect(e.loadModel(d, { id: 'other' })).rejects.toBeInstanceOf(IntegrityError);
    expect(be.stats().buffersCreated, 'nothing uploaded').toBe(created);
    expect(e.listModels().map((m) => m.id)).toEqual(['m']);
    expect((await e.sampleText(req)).samples).toEqual(before.samples);
  }, 600_000);
});
