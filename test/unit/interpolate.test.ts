// Weight interpolation between two committed DiTs of the same architecture (digits-diffusion and its
// few-step student digits-fewstep), on the cpu backend:
// - λ = 0 and λ = 1 give exactly the end models' ε̂ (the mix (1 − λ)a + λb is exact at the ends);
// - λ = 0.3 gives exactly the ε̂ of a DiT built from weights mixed independently here;
// - λ outside [0, 1], or a pair of models that are not alike, are typed errors;
// - through the engine (the worker API): λ = 0 / 1 sample exactly like the end models (same seed).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { ModelFormatError, SamplerConfigError } from '../../src/errors.js';
import { DitDenoiser, loadDenoiser, loadInterpolatedDenoiser, loadModelFiles } from '../../src/models/index.js';
import type { DitManifest } from '../../src/models/manifest.js';
import type { DenoiserModel } from '../../src/models/model.js';
import { Engine } from '../../src/worker/engine.js';
import { MODELS } from '../util/models.js';

const A = MODELS + 'digits-diffusion',
  B = MODELS + 'digits-fewstep';

async function eps(m: DenoiserModel): Promise<Float32Array> {
  const be = m.backend,
    n = 3,
    S = m.imageSize;
  const x = be.tensor(
    Float32Array.from({ length: n * S * S }, (_, i) => Math.sin(i * 0.37)),
    [n, S, S, 1],
  );
  const out = await m.forward({
    x,
    t: Uint32Array.from([900, 400, 20]),
    classes: Uint32Array.from([3, 7, m.nullClass]),
  });
  const r = (await be.read(out)) as Float32Array;
  be.free(x);
  be.free(out);
  return r;
}

describe('weight interpolation (λ) between digits-diffusion and digits-fewstep', () => {
  const be = new CpuBackend();

  it('is exact at the ends and equals an independently mixed model inside', async () => {
    const [a, b] = [await loadDenoiser(A, be), await loadDenoiser(B, be)];
    const [ea, eb] = [await eps(a), await eps(b)];
    expect(ea).not.toEqual(eb); // the student moved away from its teacher
    expect(await eps(await loadInterpolatedDenoiser(A, B, 0, be))).toEqual(ea);
    expect(await eps(await loadInterpolatedDenoiser(A, B, 1, be))).toEqual(eb);
    const [fa, fb] = [await loadModelFiles(A, { weights: 'f32' }), await loadModelFiles(B, { weights: 'f32' })];
    const lam = 0.3;
    const mixed = new Map(
      [...fa.weights].map(([k, t]) => {
        const y = fb.weights.get(k)!.data;
        return [k, { shape: t.shape, data: Float32Array.from(t.data, (v, i) => v + lam * (y[i] - v)) }];
      }),
    );
    const ours = await eps(await loadInterpolatedDenoiser(A, B, lam, be));
    const indep = await eps(new DitDenoiser(fa.manifest as DitManifest, mixed, be));
    // (1 − λ)a + λb and a + λ(b − a) round differently in f32: compare at f32 weight precision
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - indep[i])).toBeLessThan(1e-4);
    const dist = (p: Float32Array, q: Float32Array) => Math.hypot(...Array.from(p, (v, i) => v - q[i]));
    expect(dist(ours, ea)).toBeGreaterThan(0);
    expect(dist(ours, eb)).toBeGreaterThan(0);
  });

  it('rejects λ outside [0, 1] and unlike models', async () => {
    for (const lam of [-0.1, 1.5, NaN])
      await expect(loadInterpolatedDenoiser(A, B, lam, be)).rejects.toBeInstanceOf(SamplerConfigError);
    await expect(loadInterpolatedDenoiser(A, MODELS + 'digits-classifier', 0.5, be)).rejects.toBeInstanceOf(
      ModelFormatError,
    );
  });

  it('the engine serves λ models under their own handle', async () => {
    const e = new Engine();
    await e.init('cpu');
    await e.loadModel(A, { id: 'a' });
    await e.loadModel(B, { id: 'b' });
    const opts = { sampler: 'ddim' as const, steps: 2, batch: 2, seed: 3, classId: 4, previewEvery: 0 };
    const [ia, ib] = [
      await e.sampleImage({ model: 'a', options: opts }),
      await e.sampleImage({ model: 'b', options: opts }),
    ];
    expect((await e.loadInterpolated('a', 'b', 0)).id).toBe('a×b@0');
    await e.loadInterpolated('a', 'b', 1, { id: 'one' });
    expect((await e.sampleImage({ model: 'a×b@0', options: opts })).images).toEqual(ia.images);
    expect((await e.sampleImage({ model: 'one', options: opts })).images).toEqual(ib.images);
    await expect(e.loadInterpolated('a', 'nope', 0.5)).rejects.toThrow(/nope/);
    e.dispose();
  });
});
