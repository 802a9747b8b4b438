// The fast CPU path (issue 19 item 1): a native model whose manifest names an `onnx_form` runs that ONNX
// form on onnxruntime-web's wasm EP when asked ('onnx-wasm') or, under 'auto', on the CPU backend — the same
// weights, so FHS draws the same tokens on ≥ 99 % of positions and DDIM the same images within 1e-3; the
// default stays the native twins; info.path says which path runs and why. Bad input: 'onnx-wasm' for a model
// without a form and a form that does not load are typed errors ('auto' falls back to the twins and says
// why); an unknown path is an OpInputError; onnx_form must name a sibling folder.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFormatError, OpInputError } from '../../src/errors.js';
import { validateManifest } from '../../src/models/manifest.js';
import { Engine } from '../../src/worker/engine.js';
import { sameFraction } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

async function cpuEngine(): Promise<Engine> {
  const e = new Engine();
  expect((await e.init('cpu')).name).toBe('cpu');
  return e;
}

describe('fast CPU path (onnx_form on the wasm EP)', () => {
  it('text-mdm: auto on the CPU backend runs its ONNX form; FHS tokens as the twins on ≥ 99 % of positions', async () => {
    const e = await cpuEngine();
    const fast = await e.loadModel(MODELS + 'text-mdm', { id: 'fast', path: 'auto' });
    const twin = await e.loadModel(MODELS + 'text-mdm', { id: 'twin' });
    expect(fast.path?.used).toBe('onnx-wasm');
    expect(fast.path?.reason).toMatch(/CPU backend: its ONNX form text-mdm-onnx/);
    expect(twin.path?.used).toBe('native'); // the default: the twins stay the oracle
    expect(fast.name).toBe('text-mdm');
    const options = { length: 24, batch: 4, seed: 3, classId: 0 };
    const a = await e.sampleText({ model: 'fast', sampler: 'fhs', options });
    const b = await e.sampleText({ model: 'twin', sampler: 'fhs', options });
    expect(sameFraction(a.samples, b.samples)).toBeGreaterThanOrEqual(0.99);
    expect(a.nfe).toBe(b.nfe);
    e.dispose();
  });

  it('digits-diffusion: onnx-wasm gives the twins’ DDIM images within 1e-3', async () => {
    const e = await cpuEngine();
    const fast = await e.loadModel(MODELS + 'digits-diffusion', { id: 'fast', path: 'onnx-wasm' });
    await e.loadModel(MODELS + 'digits-diffusion', { id: 'twin', path: 'native' });
    expect(fast.path?.used).toBe('onnx-wasm');
    const options = { sampler: 'ddim' as const, steps: 3, batch: 2, seed: 4, classId: 7, guidance: 3, previewEvery: 0 };
    const [a, b] = [await e.sampleImage({ model: 'fast', options }), await e.sampleImage({ model: 'twin', options })];
    let worst = 0;
    a.images.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.images[i]))));
    expect(worst).toBeLessThan(1e-3);
    e.dispose();
  });

  it('bad input: no form, a form that does not load, an unknown path, a form name with a separator', async () => {
    const e = await cpuEngine();
    const noForm = await e.loadModel(MODELS + 'text-asarm', { path: 'onnx-wasm' }).catch((x) => x);
    expect(noForm).toBeInstanceOf(ModelFormatError);
    expect((noForm as ModelFormatError).rule).toBe('onnx-form');
    // a copy of text-mdm whose onnx_form names a folder that is not there
    const dir = mkdtempSync(join(tmpdir(), 'ss-fastcpu-'));
    try {
      cpSync(MODELS + 'text-mdm', join(dir, 'm'), { recursive: true });
      const mf = join(dir, 'm', 'manifest.json');
      writeFileSync(mf, JSON.stringify({ ...JSON.parse(readFileSync(mf, 'utf8')), onnx_form: 'gone' }));
      const auto = await e.loadModel(join(dir, 'm'), { id: 'auto', path: 'auto' });
      expect(auto.path?.used).toBe('native');
      expect(auto.path?.reason).toMatch(/ONNX form did not load/);
      await expect(e.loadModel(join(dir, 'm'), { id: 'x', path: 'onnx-wasm' })).rejects.toBeInstanceOf(Error);
      expect(e.listModels().map((m) => m.id)).toEqual(['auto']); // the failed load left nothing behind
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = await e.loadModel(MODELS + 'text-mdm', { path: 'fastest' as never }).catch((x) => x);
    expect(bad).toBeInstanceOf(OpInputError);
    const m = JSON.parse(readFileSync(MODELS + 'text-mdm/manifest.json', 'utf8'));
    for (const v of ['../x', 'a/b', '..', '', 3])
      expect(() => validateManifest({ ...m, onnx_form: v }), String(v)).toThrow(/onnx_form/);
    e.dispose();
  });
});
