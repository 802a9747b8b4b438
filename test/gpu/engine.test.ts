// Device loss mid-sample on WebGPU (Node + Dawn): the device is destroyed inside the progress
// callback at a random step (3 trials, fixed seeds); the request rejects with DeviceLostError, the
// engine keeps it, and resume() — on a freshly acquired device with the models reloaded —
// returns exactly the samples of an uninterrupted run.
import { describe, expect, it } from 'vitest';
import { DeviceLostError, OpInputError } from '../../src/errors.js';
import { Engine } from '../../src/worker/engine.js';
import type { TextSampleResult } from '../../src/worker/protocol.js';
import { FIXTURES, MODELS } from '../util/models.js';
import { gpuBackend } from '../util/gpu.js';

describe('engine: device loss and resume', () => {
  it('resumes FHS from the last completed step with identical samples', async () => {
    await gpuBackend(); // fails (never skips) without an adapter
    const e = new Engine();
    expect((await e.init('webgpu')).name).toBe('webgpu');
    await e.loadModel(FIXTURES + 'tiny-bidir', { id: 'm' });
    const req = { model: 'm', sampler: 'fhs' as const, options: { batch: 4, length: 12, seed: 9, classId: 0 } };
    const full = await e.sampleText(req);
    for (const [trial, killAt] of [
      [1, 2],
      [2, 6],
      [3, 10],
    ]) {
      const id = `lost-${trial}`;
      const err = await e
        .sampleText(
          req,
          (p) => {
            if (p.step === killAt) void e.loseDeviceForTest();
          },
          { requestId: id },
        )
        .catch((x) => x);
      expect(err, `trial ${trial}`).toBeInstanceOf(DeviceLostError);
      expect(e.interruptedRequests()).toContain(id);
      const r = (await e.resume(id)) as TextSampleResult;
      expect(r.samples).toEqual(full.samples);
      expect(r.stepTimesMs.length, 'continued after the last completed step, not restarted').toBe(12 - (killAt + 1));
      expect(r.backend).toBe('webgpu');
      expect(e.interruptedRequests()).not.toContain(id);
    }
    e.dispose();
  });

  it('resumes speculative decoding from the last completed round with identical samples', async () => {
    await gpuBackend();
    const e = new Engine();
    await e.init('webgpu');
    await e.loadModel(MODELS + 'text-asarm', { id: 't' });
    await e.loadModel(MODELS + 'text-asarm-draft', { id: 'd' });
    const req = {
      model: 't',
      sampler: 'speculative' as const,
      options: { batch: 3, length: 16, seed: 5, classId: 1, draft: 3, draftModel: 'd' },
    };
    const full = await e.sampleText(req);
    const err = await e
      .sampleText(
        req,
        (p) => {
          if (p.step === 2) void e.loseDeviceForTest();
        },
        { requestId: 'spec-lost' },
      )
      .catch((x) => x);
    expect(err).toBeInstanceOf(DeviceLostError);
    const r = (await e.resume('spec-lost')) as TextSampleResult;
    expect(r.samples).toEqual(full.samples);
    // a refill pass, then only the rounds after the second: continued, not restarted
    expect(r.stepTimesMs.length, 'continued after the last completed round').toBe(full.stepTimesMs.length - 2);
    expect(r.backend).toBe('webgpu');
    e.dispose();
  });

  it('loseDeviceForTest needs a webgpu backend', async () => {
    const e = new Engine();
    await expect(e.loseDeviceForTest()).rejects.toBeInstanceOf(OpInputError); // nothing acquired yet
    await e.init('cpu');
    await expect(e.loseDeviceForTest()).rejects.toThrow(/needs a webgpu backend \(current: cpu\)/);
    e.dispose();
  });
});

describe('engine: backends', () => {
  it('lists webgpu (with its adapter and f16 path) and cpu, and which is active', async () => {
    await gpuBackend();
    const g = new Engine();
    await g.init('webgpu');
    const onGpu = await g.backends();
    expect(onGpu.map((b) => [b.name, b.available, b.active])).toEqual([
      ['webgpu', true, true],
      ['cpu', true, false],
      ['onnx-wasm', true, false],
    ]);
    expect(onGpu[0].detail.length).toBeGreaterThan(0);
    expect(onGpu[0].software).toBe(true); // lavapipe / SwiftShader: the tests' adapters are CPU ones
    // which f16 read path runs: native where the device has shader-f16 on a hardware adapter, else packed
    // (lavapipe has the feature but is software: packed measured faster there)
    const f16 = (await g.info()).f16;
    expect(onGpu[0].f16).toBe(f16);
    const ctx = (await gpuBackend()).runtime.ctx;
    expect(f16).toBe(ctx.features.has('shader-f16') && !ctx.adapter.software ? 'native' : 'packed');
    g.dispose();
    const forced = new Engine({ f16: 'packed' }); // the portable path on any adapter
    expect((await forced.init('webgpu')).f16).toBe('packed');
    expect((await forced.backends())[0].f16).toBe('packed');
    forced.dispose();
    const c = new Engine();
    await c.init('cpu'); // cpu by choice: webgpu is probed with a throw-away device
    expect((await c.backends()).map((b) => [b.name, b.available, b.active])).toEqual([
      ['webgpu', true, false],
      ['cpu', true, true],
      ['onnx-wasm', true, false],
    ]);
    c.dispose();
  });
});
