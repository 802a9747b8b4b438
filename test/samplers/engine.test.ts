// The engine in-process (as Node uses it; the worker exposes the same object): models by handle,
// text sampling with per-step progress, cancellation that lands after the model call in flight
// (AbortError at the next step, within one step's time + 50 ms), typed errors for unknown handles
// and wrong model kinds, and classification through a loaded classifier.
import { describe, expect, it } from 'vitest';
import { AbortError, OpInputError, SamplerConfigError, UnknownModelError } from '../../src/errors.js';
import { Engine } from '../../src/worker/engine.js';
import type { EngineProgress } from '../../src/worker/protocol.js';
import { FIXTURES, MODELS, golden } from '../util/models.js';

describe('engine (in-process, cpu)', () => {
  it('loads by handle, samples with progress, lists and unloads', async () => {
    const e = new Engine();
    expect((await e.init('cpu')).name).toBe('cpu');
    const info = await e.loadModel(FIXTURES + 'tiny-bidir', { id: 'mdm' });
    expect(info).toMatchObject({ id: 'mdm', kind: 'text', attention: 'bidirectional' });
    const seen: EngineProgress[] = [];
    const L = Math.min(8, info.maxLength!);
    const r = await e.sampleText(
      { model: 'mdm', sampler: 'fhs', options: { batch: 3, length: L, seed: 1 } },
      (p) => seen.push(p),
      { requestId: 'req-1' },
    );
    expect(r.nfe).toBe(L);
    expect(seen.map((p) => p.step)).toEqual(Array.from({ length: L }, (_, i) => i));
    expect(seen.every((p) => p.requestId === 'req-1' && p.tokens!.length === 3 * L)).toBe(true);
    expect(r.texts).toHaveLength(3);
    expect(r.texts.every((t) => t.length >= L && !t.includes('_'))).toBe(true);
    expect(e.listModels().map((m) => m.id)).toEqual(['mdm']);
    e.unload('mdm');
    await expect(
      e.sampleText({ model: 'mdm', sampler: 'fhs', options: { batch: 1, length: 4, seed: 1 } }),
    ).rejects.toBeInstanceOf(UnknownModelError);
    e.dispose();
  });

  it('cancel lands at the next step, within one step + 50 ms', async () => {
    const e = new Engine();
    await e.init('cpu');
    const info = await e.loadModel(FIXTURES + 'tiny-bidir', { id: 'mdm' });
    const L = Math.min(16, info.maxLength!);
    let cancelAt = 0,
      stepMs = 0,
      last = 0;
    const err = await e
      .sampleText(
        { model: 'mdm', sampler: 'fhs', options: { batch: 64, length: L, seed: 2 } },
        (p) => {
          const now = performance.now();
          if (p.step > 0) stepMs = Math.max(stepMs, now - last);
          last = now;
          if (p.step === 3) {
            e.cancel('c1');
            cancelAt = now;
          }
        },
        { requestId: 'c1' },
      )
      .catch((x) => x);
    const elapsed = performance.now() - cancelAt;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.step).toBe(4);
    expect(err.requestId).toBe('c1');
    expect(elapsed).toBeLessThan(stepMs + 50);
    // the engine is usable afterwards and a late cancel of a finished request is a no-op
    e.cancel('c1');
    const ok = await e.sampleText(
      { model: 'mdm', sampler: 'fhs', options: { batch: 2, length: 4, seed: 3 } },
      undefined,
      { requestId: 'c1' },
    );
    expect(ok.nfe).toBe(4);
    e.dispose();
  });

  it('wrong kinds are typed errors; a classifier classifies', async () => {
    const e = new Engine();
    await e.init('cpu');
    await e.loadModel(MODELS + 'digits-classifier', { id: 'clf' });
    await expect(
      e.sampleText({ model: 'clf', sampler: 'fhs', options: { batch: 1, length: 4, seed: 1 } }),
    ).rejects.toBeInstanceOf(OpInputError);
    const g = await golden(MODELS + 'digits-classifier');
    const { logits } = await e.classify('clf', g.x as Float32Array, 6);
    for (let i = 0; i < logits.length; i++)
      expect(Math.abs(logits[i] - g.logits[i])).toBeLessThan(2e-3 + 2e-3 * Math.abs(g.logits[i]));
    e.dispose();
  });

  it('speculative decoding: the draft made for the model by default, self:N, or a handle; typed errors', async () => {
    const e = new Engine();
    await e.init('cpu');
    await e.loadModel(MODELS + 'text-asarm', { id: 'target' });
    const opts = { batch: 2, length: 12, seed: 4, classId: 0 };
    // nothing made for it is loaded: self-speculation with its first ⌈6/3⌉ = 2 blocks
    const self = await e.sampleText({ model: 'target', sampler: 'speculative', options: opts });
    expect(self.knobs.draftModel).toBe('self:2');
    await e.loadModel(MODELS + 'text-asarm-draft', { id: 'd' });
    const auto = await e.sampleText({ model: 'target', sampler: 'speculative', options: opts });
    expect(auto.knobs.draftModel).toBe('text-asarm-draft');
    expect(auto.texts.every((t) => t.length === 12 && !t.includes('_'))).toBe(true);
    const named = await e.sampleText({
      model: 'target',
      sampler: 'speculative',
      options: { ...opts, draftModel: 'd' },
    });
    expect(named.samples).toEqual(auto.samples); // same draft, same seed
    for (const draftModel of ['nope', 'self:9'])
      await expect(
        e.sampleText({ model: 'target', sampler: 'speculative', options: { ...opts, draftModel } }),
      ).rejects.toBeInstanceOf(SamplerConfigError);
    e.dispose();
  });

  it('λ: sampling mixes the partner in ((1 − λ)·model + λ·partner), built once per λ; typed errors', async () => {
    const e = new Engine();
    await e.init('cpu');
    await e.loadModel(MODELS + 'digits-diffusion', { id: 'base' });
    await e.loadModel(MODELS + 'digits-fewstep', { id: 'fs' });
    const o = { sampler: 'ddim' as const, steps: 2, batch: 2, seed: 3, classId: 4 };
    const mixed = await e.sampleImage({ model: 'base', options: { ...o, lambda: 0.5, lambdaModel: 'fs' } });
    await e.loadInterpolated('base', 'fs', 0.5, { id: 'by-hand' });
    const byHand = await e.sampleImage({ model: 'by-hand', options: o });
    expect(mixed.images).toEqual(byHand.images);
    const n = e.listModels().length;
    await e.sampleImage({ model: 'base', options: { ...o, lambda: 0.5, lambdaModel: 'fs' } });
    expect(e.listModels().length).toBe(n); // kept, not rebuilt
    expect(e.listModels().map((m) => m.id)).toContain('base×fs@0.5');
    const plain = await e.sampleImage({ model: 'base', options: o });
    expect((await e.sampleImage({ model: 'base', options: { ...o, lambda: 0 } })).images).toEqual(plain.images);
    for (const bad of [{ lambda: 0.5 }, { lambda: 1.5, lambdaModel: 'fs' }, { lambda: 0.5, lambdaModel: 'nope' }]) {
      const err = await e.sampleImage({ model: 'base', options: { ...o, ...bad } }).catch((x) => x);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(SamplerConfigError);
    }
    e.dispose();
  });
});
