// ONNX ε-denoisers under the diffusion samplers (issue 16), wasm EP in Node, CPU backend:
// - parity: models/digits-diffusion-onnx (training/export_onnx.py --folder models/digits-diffusion …, the
//   same weights widened to f32, timestep embedding computed in the graph) vs the native digits-diffusion:
//   ε̂ within 2e-3 + 2e-3·|ref| at several batches, timesteps and classes (the null class included);
//   DDIM (10 steps) and guided DDIM with a guidance interval from one seed give images within 1e-4 of
//   the native ones, pixel for pixel (the noise is the same: only ε̂'s f32 rounding differs);
// - bad input: a denoiser manifest without a timestep role or with a wrong timestep kind, a graph whose
//   image size disagrees with the manifest → typed errors naming the rule; through the engine, a failed
//   load under a handle leaves the model loaded there working.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { ModelFormatError } from '../../src/errors.js';
import { loadDenoiser } from '../../src/models/index.js';
import type { OnnxDenoiserManifest } from '../../src/models/manifest.js';
import type { DenoiserModel } from '../../src/models/model.js';
import { loadOnnxDenoiser, loadOnnxModel } from '../../src/models/onnx.js';
import { sampleDiffusion, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { Engine } from '../../src/worker/engine.js';
import { expectClose } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

const cpu = new CpuBackend();
const DIR = MODELS + 'digits-diffusion-onnx';

describe('ONNX denoiser: parity with the native digits-diffusion (same weights)', () => {
  let onnx: DenoiserModel, native: DenoiserModel;
  beforeAll(async () => {
    onnx = await loadOnnxDenoiser(DIR, cpu);
    native = await loadDenoiser(MODELS + 'digits-diffusion', cpu);
  });

  it('describes the same model', () => {
    expect([onnx.imageSize, onnx.channels, onnx.numClasses, onnx.nullClass, onnx.timesteps]).toEqual([
      native.imageSize,
      native.channels,
      native.numClasses,
      native.nullClass,
      native.timesteps,
    ]);
    expect([...onnx.alphasCumprod]).toEqual([...native.alphasCumprod]);
  });

  it('ε̂ within 2e-3 + 2e-3·|ref| at several batches, timesteps and classes', async () => {
    const S = native.imageSize;
    for (const B of [1, 3, 8]) {
      const x = Float32Array.from({ length: B * S * S }, (_, i) => Math.sin(i * 0.37 + B));
      const t = Uint32Array.from({ length: B }, (_, b) => (((999 - 137 * b * B) % 1000) + 1000) % 1000);
      const classes = Uint32Array.from({ length: B }, (_, b) => (b * 3 + B) % 11);
      const xt = cpu.tensor(x, [B, S, S, 1]);
      const [a, b] = [await onnx.forward({ x: xt, t, classes }), await native.forward({ x: xt, t, classes })];
      expectClose(await cpu.read(a), await cpu.read(b), 2e-3, 2e-3, `B=${B}`);
      for (const v of [xt, a, b]) cpu.free(v);
    }
  });

  it('DDIM and guided DDIM with an interval from one seed: the same images within 1e-4', async () => {
    const runs: DiffusionOptions[] = [
      { sampler: 'ddim', steps: 10, batch: 4, seed: 11, classId: 3 },
      { sampler: 'ddim', steps: 8, batch: 2, seed: 12, classId: 7, guidance: 3, guidanceInterval: [200, 800] },
    ];
    for (const o of runs) {
      const [a, b] = [await sampleDiffusion(onnx, o), await sampleDiffusion(native, o)];
      expect(a.nfe).toBe(b.nfe);
      let worst = 0;
      for (let i = 0; i < a.images.length; i++) worst = Math.max(worst, Math.abs(a.images[i] - b.images[i]));
      console.log(`ONNX vs native ${JSON.stringify(o)}: max |Δ pixel| ${worst.toExponential(2)}`);
      expect(worst, JSON.stringify(o)).toBeLessThan(1e-4);
    }
  });
});

describe('ONNX denoiser: bad input is a typed error; a failed load keeps the old model', () => {
  const base = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as OnnxDenoiserManifest;
  const copy = (edit: (m: OnnxDenoiserManifest) => void): string => {
    const d = mkdtempSync(join(tmpdir(), 'ss-onnx-dit-'));
    cpSync(DIR, d, { recursive: true });
    const m = structuredClone(base);
    edit(m);
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    return d;
  };
  const rule = (dir: string) =>
    loadOnnxDenoiser(dir, cpu).then(
      () => 'ok',
      (e: unknown) => (e instanceof ModelFormatError ? e.rule : (e as Error).name),
    );

  it('roles, timestep kind, image size, kind', async () => {
    expect(
      await rule(
        copy((m) => {
          delete (m.architecture.inputs as Partial<typeof m.architecture.inputs>).timestep;
        }),
      ),
    ).toBe('manifest-onnx-io');
    expect(
      await rule(
        copy((m) => {
          (m.architecture as { timestep: string }).timestep = 'seconds';
        }),
      ),
    ).toBe('manifest-architecture');
    expect(
      await rule(
        copy((m) => {
          m.architecture.image_size = 32;
        }),
      ),
    ).toBe('onnx-shape');
    expect(
      await rule(
        copy((m) => {
          m.architecture.inputs.class = 't';
          m.architecture.inputs.timestep = 'cls';
        }),
      ),
    ).toBe('ok'); // both int64 of rank 1: the check cannot tell them apart — the parity test is what catches a swap
    await expect(loadOnnxModel(DIR, cpu)).rejects.toMatchObject({ rule: 'model-kind' });
  });

  it('through the engine: a bad graph under a loaded handle fails typed and the old model keeps sampling', async () => {
    const engine = new Engine();
    await engine.init('cpu');
    const info = await engine.loadModel(DIR, { id: 'digits' });
    expect(info.kind).toBe('denoiser');
    const bad = copy((m) => {
      m.architecture.channels = 3;
    });
    await expect(engine.loadModel(bad, { id: 'digits' })).rejects.toBeInstanceOf(ModelFormatError);
    // the WebGPU EP asked for where there is none (cpu backend): typed, nothing replaced
    await expect(engine.loadModel(DIR, { id: 'digits', ep: 'webgpu' })).rejects.toMatchObject({ rule: 'onnx-ep' });
    const res = await engine.sampleImage({
      model: 'digits',
      options: { sampler: 'ddim', steps: 2, batch: 1, seed: 1, classId: 1 },
    });
    expect(res.images.length).toBe(28 * 28);
    expect(engine.modelInfo('digits').name).toBe('digits-diffusion-onnx');
    engine.dispose();
  });
});
