// The auto path on WebGPU (issue 19 item 2): loading a model with an ONNX form under path 'auto' times one
// forward with our kernels and one with the ONNX form (wasm EP) and keeps the faster; info.path says both
// timings; a fake slow path (the timing hook slowed by 10 s) moves the choice to the other; a second load on
// the same adapter — in the same engine, or in a new engine on the same decision store (a page reload, a
// second CLI run) — reuses the decision without measuring again, while a decision stored for another adapter
// is ignored; backends() lists each model under the path it runs on; the chosen model samples.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStore } from '../../src/cli/decision-file.js';
import type { DecisionStore } from '../../src/worker/path-decisions.js';
import { decisionKey, memoryStore } from '../../src/worker/path-decisions.js';
import { Engine } from '../../src/worker/engine.js';
import { gpuBackend } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

/** An engine whose timing of one path is slowed by `slow` ms, counting the timings taken. */
class SlowedEngine extends Engine {
  timings = 0;
  constructor(
    private readonly slow?: 'native' | 'onnx-wasm',
    decisions?: DecisionStore,
  ) {
    super({ decisions });
  }
  protected override async timeForward(p: 'native' | 'onnx-wasm', run: () => Promise<void>): Promise<number> {
    this.timings++;
    return (await super.timeForward(p, run)) + (p === this.slow ? 10_000 : 0);
  }
}

async function engine(slow?: 'native' | 'onnx-wasm', decisions?: DecisionStore): Promise<SlowedEngine> {
  await gpuBackend(); // fails (never skips) without an adapter
  const e = new SlowedEngine(slow, decisions);
  expect((await e.init('webgpu')).name).toBe('webgpu');
  return e;
}

describe('auto path on WebGPU: measured', () => {
  it('keeps the faster of our kernels and the ONNX form, says both timings, and follows a slowed path', async () => {
    const store = fileStore(join(mkdtempSync(join(tmpdir(), 'samplescope-decisions-')), 'path-decisions.json'));
    const e = await engine(undefined, store);
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
    const where = (await e.backends()).find((b) => b.name === (info.path!.used === 'native' ? 'webgpu' : 'onnx-wasm'))!;
    expect(where.active).toBe(true);
    expect(where.models!.map((m) => m.id)).toEqual(['digits-diffusion', 'again']);
    const r = await e.sampleImage({
      model: 'again',
      options: { sampler: 'ddim', steps: 2, batch: 1, seed: 1, classId: 1 },
    });
    expect(r.images.every(Number.isFinite)).toBe(true);
    e.dispose();
    // a new engine on the same store (a reload): reused, with where it was kept
    const e2 = await engine(undefined, store);
    const reloaded = await e2.loadModel(MODELS + 'digits-diffusion', { path: 'auto' });
    expect(reloaded.path!.used).toBe(info.path!.used);
    expect(reloaded.path!.reason).toContain(`kept in ${store.where}`);
    expect(e2.timings).toBe(0);
    e2.dispose();
    // decisions stored for other adapters (both answers) are not used here
    const manifest = JSON.parse(readFileSync(MODELS + 'text-mdm/manifest.json', 'utf8')) as {
      files: { role: string; sha256: string }[];
    };
    const digest = manifest.files.find((f) => f.role === 'weights')!.sha256.slice(0, 16);
    for (const slow of ['native', 'onnx-wasm'] as const) {
      const foreign = memoryStore();
      for (const used of ['native', 'onnx-wasm'] as const)
        await foreign.set(decisionKey(`Other GPU ${used}`, 'text-mdm', digest), { used, reason: 'elsewhere' });
      const s = await engine(slow, foreign);
      const i = await s.loadModel(MODELS + 'text-mdm', { path: 'auto' });
      expect(s.timings).toBe(2);
      expect(i.path!.used, i.path!.reason).toBe(slow === 'native' ? 'onnx-wasm' : 'native');
      const t = await s.sampleText({ model: 'text-mdm', sampler: 'fhs', options: { length: 8, batch: 1, seed: 1 } });
      expect(t.samples).toHaveLength(8);
      s.dispose();
    }
  });
});
