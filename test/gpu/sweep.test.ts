// Metrics and sweeps through the engine on WebGPU (Node + Dawn) with the committed models:
// - the classifiers' real reference sets load (sha256-checked) and, scored as if they were samples,
//   give PRDC precision = recall = coverage = 1 exactly (every point lies in its own k-NN ball) and
//   class consistency = the classifier's accuracy on held-out data (≥ 95% digits, ≥ 85% text);
// - an image sweep (guidance × classes) gives one record per setting with the NFE the knobs imply,
//   and running it as two shards and merging gives exactly the unsharded records (fixed seeds);
// - with keepSamples the record carries a few of its own samples (round-robin over the classes: the
//   same grey levels as the same draw outside the sweep; text: the first 64 characters) and the
//   spec hash does not change;
// - a text sweep runs end to end with NLL under text-asarm as realism;
// - cancelling a sweep by its request id stops it with AbortError after the setting in flight;
// - ONNX forms sweep like the native models: the same image settings give the same scores (wasm EP).
import { describe, expect, it } from 'vitest';
import { AbortError, AdapterRequirementError, OpInputError } from '../../src/errors.js';
import { loadRoleFiles } from '../../src/models/load.js';
import { tensorData } from '../../src/models/safetensors.js';
import { specHash, type SweepSpec } from '../../src/sweep/spec.js';
import { fromBase64, mergeSweeps } from '../../src/sweep/records.js';
import { Engine } from '../../src/worker/engine.js';
import { VERSION } from '../../src/version.js';
import { gpuBackend } from '../util/gpu.js';
import { MODELS } from '../util/models.js';

async function engineWith(...names: string[]): Promise<Engine> {
  await gpuBackend(); // fails (never skips) without an adapter
  const e = new Engine();
  expect((await e.init('webgpu')).name).toBe('webgpu');
  for (const n of names) await e.loadModel(MODELS + n, { id: n });
  return e;
}

describe('reference sets and evaluation', () => {
  it('digits: the reference set scored against itself', async () => {
    const e = await engineWith('digits-classifier');
    const files = await loadRoleFiles(MODELS + 'digits-classifier', 'reference');
    const st = files.get('reference.safetensors')!;
    const images = Float32Array.from(tensorData(st, 'images'), (v) => v / 255);
    const labels = Uint32Array.from(tensorData(st, 'labels'));
    const n = labels.length;
    expect(n).toBe(500);
    const ref = await e.referenceSet('digits-classifier');
    expect([ref.n, ref.d]).toEqual([500, 128]); // 128-d penultimate layer (manifest architecture.hidden)
    const m = await e.evaluateImages(images, n, labels, { classifier: 'digits-classifier', k: 5 });
    expect([m.precision, m.recall, m.coverage]).toEqual([1, 1, 1]);
    expect(m.density).toBeGreaterThanOrEqual(1 / 5);
    expect(m.consistency).toBeGreaterThanOrEqual(0.95);
    expect(m.vendi).toBeGreaterThan(1);
    expect(m.realism).toBe(m.density);
    await expect(
      e.evaluateImages(images.subarray(0, 784 * 4), 4, labels.subarray(0, 4), { classifier: 'digits-classifier' }),
    ).rejects.toThrow(/more than 5 samples/);
    await expect(e.referenceSet('nope')).rejects.toThrow(/nope/);
    e.dispose();
  });

  it('text: held-out snippets under the text classifier and text-asarm', async () => {
    const e = await engineWith('text-classifier', 'text-asarm');
    const st = (await loadRoleFiles(MODELS + 'text-classifier', 'reference')).get('reference.safetensors')!;
    const all = Uint32Array.from(tensorData(st, 'tokens')),
      labels = Uint32Array.from(tensorData(st, 'labels'));
    // 8 rows of each class (the NLL pass over 400 × 128 characters is too slow for a test here)
    const rows = [...Array.from({ length: 8 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => 200 + i)];
    const tokens = new Uint32Array(16 * 128);
    rows.forEach((r, j) => tokens.set(all.subarray(r * 128, (r + 1) * 128), j * 128));
    const req = Uint32Array.from(rows, (r) => labels[r]);
    const m = await e.evaluateText(tokens, 16, req, { classifier: 'text-classifier', evaluator: 'text-asarm' });
    expect(m.consistency).toBeGreaterThanOrEqual(0.8); // the classifier is 90.6% on 2,000 held-out snippets
    expect(m.precision).toBe(1); // these 16 are reference points themselves
    expect(m.nll).toBeGreaterThan(1.2); // text-asarm: 1.58 nats/char on the validation split
    expect(m.nll).toBeLessThan(2.0);
    expect(m.realism).toBe(-m.nll);
    expect(m.tokenEntropy).toBeGreaterThan(2);
    await expect(
      e.evaluateText(tokens.subarray(0, 16 * 64), 16, req, { classifier: 'text-classifier' }),
    ).rejects.toThrow(/reads 128-character texts/);
    e.dispose();
  });
});

describe('sweeps', () => {
  const imageSpec: SweepSpec = {
    name: 'test-digits',
    kind: 'image',
    model: 'digits-diffusion',
    sampler: 'ddim',
    base: { steps: 3 },
    grid: { guidance: [1, 5] },
    classes: [1, 7],
    perClass: 3,
    seed: 5,
    classifier: 'digits-classifier',
  };

  it('image sweep: records, NFE, shards merge to the whole', async () => {
    const e = await engineWith('digits-diffusion', 'digits-classifier');
    const seen: number[] = [];
    const full = await e.sweep(imageSpec, {}, (r) => seen.push(r.index));
    expect(seen).toEqual([0, 1]);
    expect(full.map((r) => r.knobs)).toEqual([{ guidance: 1 }, { guidance: 5 }]);
    expect(full.map((r) => r.nfe)).toEqual([3, 6]); // guided steps evaluate the denoiser twice
    for (const r of full) {
      for (const v of Object.values(r.axes)) expect(Number.isFinite(v)).toBe(true);
      expect(r.axes.consistency).toBeGreaterThanOrEqual(0);
      expect(r.axes.consistency).toBeLessThanOrEqual(1);
      expect(r.backend).toBe('webgpu');
    }
    // every record names the adapter it ran on (as the backend reports it) and the package version
    const adapter = (await e.info()).adapter!;
    for (const r of full) {
      expect(r.adapter).toEqual({
        backend: 'webgpu',
        vendor: adapter.vendor,
        architecture: adapter.architecture,
        description: adapter.description,
        software: adapter.software,
      });
      expect(r.version).toBe(VERSION);
    }
    // --require-hardware: refused before any setting on a software adapter (lavapipe, SwiftShader), run on hardware
    const hw = e.sweep(imageSpec, { requireHardware: true, skip: [0, 1] });
    if (adapter.software) await expect(hw).rejects.toBeInstanceOf(AdapterRequirementError);
    else await expect(hw).resolves.toEqual([]);
    const a = await e.sweep(imageSpec, { shard: { index: 0, count: 2 } });
    const b = await e.sweep(imageSpec, { shard: { index: 1, count: 2 } });
    expect([a.map((r) => r.index), b.map((r) => r.index)]).toEqual([[0], [1]]);
    expect([a[0].shard, b[0].shard]).toEqual([
      { index: 0, count: 2 },
      { index: 1, count: 2 },
    ]);
    const merged = mergeSweeps([b, a], 2);
    expect(merged.map((r) => [r.index, r.axes, r.metrics])).toEqual(full.map((r) => [r.index, r.axes, r.metrics]));
    expect((await e.sweep(imageSpec, { skip: [0] })).map((r) => r.index)).toEqual([1]);
    await expect(e.sweep({ ...imageSpec, grid: { wobble: [1] } })).rejects.toThrow(/unknown image knob "wobble"/);
    await expect(e.sweep({ ...imageSpec, classes: [10] })).rejects.toBeInstanceOf(OpInputError);
    e.dispose();
  });

  it('keepSamples: the record carries the setting’s own samples (grey levels), the hash is unchanged', async () => {
    const e = await engineWith('digits-diffusion', 'digits-classifier');
    const spec: SweepSpec = { ...imageSpec, grid: { guidance: [5] }, keepSamples: 3 };
    const [r] = await e.sweep(spec);
    expect(r.spec).toBe(specHash({ ...spec, keepSamples: undefined }));
    expect(r.samples!.classes).toEqual([1, 7, 1]); // round-robin over the classes
    const img = r.samples!.images!;
    expect([img.n, img.h, img.w]).toEqual([3, 28, 28]);
    const kept = fromBase64(img.data);
    // the same draw outside the sweep: rows 0 (class 1, #0), 3 (class 7, #0), 1 (class 1, #1)
    const direct = await e.sampleImage({
      model: 'digits-diffusion',
      options: {
        steps: 3,
        guidance: 5,
        sampler: 'ddim',
        batch: 6,
        seed: 5,
        classes: Uint32Array.of(1, 1, 1, 7, 7, 7),
        previewEvery: 0,
      },
    });
    const want = new Uint8Array(3 * 784);
    [0, 3, 1].forEach((row, j) => {
      for (let i = 0; i < 784; i++)
        want[j * 784 + i] = Math.round(255 * Math.min(1, Math.max(0, direct.images[row * 784 + i])));
    });
    expect(kept).toEqual(want);
    let ink = 0;
    for (const v of kept) if (v > 128) ink++;
    expect(ink).toBeGreaterThan(30); // digits, not blanks
    expect((await e.sweep({ ...spec, keepSamples: 0 }))[0].samples).toBeUndefined();
    e.dispose();
  });

  it('cancelling a sweep stops it with AbortError', async () => {
    const e = await engineWith('digits-diffusion', 'digits-classifier');
    const got: number[] = [];
    const err = await e
      .sweep({ ...imageSpec, grid: { guidance: [1, 2, 3] } }, { requestId: 'sw' }, (r) => {
        got.push(r.index);
        e.cancel('sw');
      })
      .catch((x) => x);
    expect(err).toBeInstanceOf(AbortError);
    expect(got).toEqual([0]);
    e.dispose();
  });

  it('text sweep: ancestral MDM with NLL under text-asarm as realism', async () => {
    const e = await engineWith('text-mdm', 'text-classifier', 'text-asarm');
    const spec: SweepSpec = {
      kind: 'text',
      model: 'text-mdm',
      sampler: 'ancestral',
      base: { steps: 2 },
      grid: { temperature: [1] },
      classes: [0, 1],
      perClass: 3,
      seed: 2,
      classifier: 'text-classifier',
      evaluator: 'text-asarm',
      keepSamples: 2,
    };
    const [r] = await e.sweep(spec);
    expect(r.samples!.classes).toEqual([0, 1]);
    expect(r.samples!.texts!.map((t) => t.length)).toEqual([64, 64]); // the first 64 of 128 characters
    expect(r.metrics.nll).toBeGreaterThan(0);
    expect(r.axes.realism).toBe(-r.metrics.nll);
    expect(r.nfe).toBeLessThanOrEqual(2);
    expect(r.axes.diversity).toBeGreaterThan(1);
    e.dispose();
  });

  it('ONNX models sweep like native ones: the same settings give the same scores (issue 16)', async () => {
    // digits-diffusion-onnx is digits-diffusion's ONNX form (wasm EP in Node): images within 1e-4 of native
    const e = await engineWith('digits-diffusion', 'digits-diffusion-onnx', 'digits-classifier', 'text-mdm-onnx');
    const [native, onnx] = [await e.sweep(imageSpec), await e.sweep({ ...imageSpec, model: 'digits-diffusion-onnx' })];
    expect(onnx.map((r) => r.nfe)).toEqual(native.map((r) => r.nfe));
    for (const [i, r] of onnx.entries()) {
      expect(r.metrics.consistency).toBe(native[i].metrics.consistency);
      expect(r.metrics.vendi).toBeCloseTo(native[i].metrics.vendi, 3);
      expect(r.metrics.precision).toBe(native[i].metrics.precision);
    }
    // a text sweep on an ONNX masked-diffusion graph (its own classifier and evaluator are native models)
    await e.loadModel(MODELS + 'text-classifier', { id: 'text-classifier' });
    await e.loadModel(MODELS + 'text-asarm', { id: 'text-asarm' });
    const [t] = await e.sweep({
      kind: 'text',
      model: 'text-mdm-onnx',
      sampler: 'ancestral',
      base: { steps: 2 },
      grid: { temperature: [1] },
      classes: [0, 1],
      perClass: 3,
      seed: 2,
      classifier: 'text-classifier',
      evaluator: 'text-asarm',
    });
    expect(t.nfe).toBeLessThanOrEqual(2);
    expect(Number.isFinite(t.metrics.nll)).toBe(true);
    expect(t.axes.realism).toBe(-t.metrics.nll);
    e.dispose();
  });
});
