// The auto path on WebGPU (issue 19 item 2): loading a model with an ONNX form under path 'auto' times one
// forward with our kernels and one with the ONNX form (wasm EP) and keeps the faster; info.path says both
// timings; a fake slow path (the timing hook slowed by 10 s) moves the choice to the other; a second load on
// the same adapter reuses the decision without measuring again; the chosen model samples.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/worker/engine.js';
import { gpuBackend } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

/** An engine whose timing of one path is slowed by `slow` ms, counting the timings taken. */
class SlowedEngine extends Engine {
  timings = 0;
  constructor(private readonly slow?: 'native' | 'onnx-wasm') {
    super();
  }
  protected override async timeForward(p: 'native' | 'onnx-wasm', run: () => Promise<void>): Promise<number> {
    this.timings++;
    return (await super.timeForward(p, run)) + (p === this.slow ? 10_000 : 0);
  }
}

async function engine(slow?: 'native' | 'onnx-wasm'): Promise<SlowedEngine> {
  await gpuBackend(); // fails (never skips) without an adapter
  const e = new SlowedEngine(slow);
  expect((await e.init('webgpu')).name).toBe('webgpu');
  return e;
}

describe('auto path on WebGPU: measured', () => {
  it('keeps the faster of our kernels and the ONNX form, says both timings, and follows a slowed path', async () => {
    const e = await engine();
    const info = await e.loadModel(MODELS + 'digits-diffusion', { path: 'auto' });
    const m = /one forward ([\d.]+) ms with our kernels, ([\d.]+) ms with its ONNX form/.exec(info.path!.reason);
    expect(m, info.path!.reason).not.toBeNull();
    expect(info.path!.used).toBe(Number(m![2]) < Number(m![1]) ? 'onnx-wasm' : 'native');
    expect(e.timings).toBe(2);
    // the same model again on this adapter: the decision is reused, nothing is timed
    const again = await e.loadModel(MODELS + 'digits-diffusion', { id: 'again', path: 'auto' });
    expect(again.path!.used).toBe(info.path!.used);
    expect(again.path!.reason).toMatch(/measured at an earlier load on this adapter/);
    expect(e.timings).toBe(2);
    const r = await e.sampleImage({
      model: 'again',
      options: { sampler: 'ddim', steps: 2, batch: 1, seed: 1, classId: 1 },
    });
    expect(r.images.every(Number.isFinite)).toBe(true);
    e.dispose();
    for (const slow of ['native', 'onnx-wasm'] as const) {
      const s = await engine(slow);
      const i = await s.loadModel(MODELS + 'text-mdm', { path: 'auto' });
      expect(i.path!.used, i.path!.reason).toBe(slow === 'native' ? 'onnx-wasm' : 'native');
      const t = await s.sampleText({ model: 'text-mdm', sampler: 'fhs', options: { length: 8, batch: 1, seed: 1 } });
      expect(t.samples).toHaveLength(8);
      s.dispose();
    }
  });
});
