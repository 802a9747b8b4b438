// The image models against their PyTorch golden vectors, on cpu and webgpu:
// - every committed DiT denoiser: ε̂(x_t, t, class) for 4 inputs (t = 999, 500, 37, 0; one with no
//   class), atol 2e-3 + rtol 2e-3 (fp16 weights, f32 arithmetic in both);
// - every committed CNN classifier: penultimate features and logits for 6 held-out digits, same
//   tolerance, and the argmax of the logits equal to PyTorch's.
// - every committed text classifier: features and logits of 4 held-out snippets, same tolerance.
// Plus shape / timestep / class errors are typed.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { ModelFormatError, OpInputError } from '../../src/errors.js';
import { loadClassifier, loadDenoiser, loadModel, loadTextClassifier } from '../../src/models/index.js';
import { expectClose, gpuBackend } from '../util/gpu.js';
import { MODELS, golden, modelNames } from '../util/models.js';

async function checkDenoiser(dir: string, be: Backend) {
  const m = await loadDenoiser(dir, be);
  const g = await golden(dir);
  const B = g.t.length;
  const x = be.tensor(g.x as Float32Array, [B, m.imageSize, m.imageSize, m.channels]);
  const eps = await be.read(await m.forward({ x, t: Uint32Array.from(g.t), classes: Uint32Array.from(g.cls) }));
  expectClose(eps, g.eps, 2e-3, 2e-3, `${m.name} ε̂ on ${be.name}`);
  expect(() => m.forward({ x, t: new Uint32Array(B).fill(m.timesteps), classes: Uint32Array.from(g.cls) })).toThrow(
    OpInputError,
  );
  expect(() => m.forward({ x, t: Uint32Array.from(g.t), classes: new Uint32Array(B).fill(m.nullClass + 1) })).toThrow(
    OpInputError,
  );
  expect(() => m.forward({ x: be.tensor(new Float32Array(B * 4), [B, 2, 2, 1]), t: Uint32Array.from(g.t) })).toThrow(
    OpInputError,
  );
  be.free(x);
  m.dispose();
}

async function checkClassifier(dir: string, be: Backend) {
  const m = await loadClassifier(dir, be);
  const g = await golden(dir);
  const B = g.logits.length / m.numClasses;
  const x = be.tensor(g.x as Float32Array, [B, m.imageSize, m.imageSize]);
  const { features, logits } = m.run(x);
  expectClose(await be.read(features), g.features, 2e-3, 2e-3, `${m.name} features on ${be.name}`);
  const l = (await be.read(logits)) as Float32Array;
  expectClose(l, g.logits, 2e-3, 2e-3, `${m.name} logits on ${be.name}`);
  const argmax = (a: ArrayLike<number>, b: number) => {
    let k = 0;
    for (let j = 1; j < m.numClasses; j++) if (a[b * m.numClasses + j] > a[b * m.numClasses + k]) k = j;
    return k;
  };
  for (let b = 0; b < B; b++) expect(argmax(l, b)).toBe(argmax(g.logits, b));
  expect(() => m.run(be.tensor(new Float32Array(B * 100), [B, 10, 10]))).toThrow(OpInputError);
  m.dispose();
}

describe.each(modelNames('dit'))('denoiser %s', (name) => {
  it('matches its PyTorch golden vectors on cpu', async () => checkDenoiser(MODELS + name, new CpuBackend()));
  it('matches its PyTorch golden vectors on webgpu', async () => checkDenoiser(MODELS + name, await gpuBackend()));
});

describe.each(modelNames('cnn'))('classifier %s', (name) => {
  it('matches its PyTorch golden vectors on cpu', async () => checkClassifier(MODELS + name, new CpuBackend()));
  it('matches its PyTorch golden vectors on webgpu', async () => checkClassifier(MODELS + name, await gpuBackend()));
});

async function checkTextClassifier(dir: string, be: Backend) {
  const m = await loadTextClassifier(dir, be);
  const g = await golden(dir);
  const B = g.cls.length;
  const { features, logits } = m.run(Uint32Array.from(g.x), B);
  expectClose(await be.read(features), g.features, 2e-3, 2e-3, `${m.name} features on ${be.name}`);
  expectClose(await be.read(logits), g.logits, 2e-3, 2e-3, `${m.name} logits on ${be.name}`);
  expect(() => m.run(new Uint32Array(10), 1)).toThrow(OpInputError);
  m.dispose();
}

describe.each(modelNames('textcnn'))('text classifier %s', (name) => {
  it('matches its PyTorch golden vectors on cpu', async () => checkTextClassifier(MODELS + name, new CpuBackend()));
  it('matches its PyTorch golden vectors on webgpu', async () =>
    checkTextClassifier(MODELS + name, await gpuBackend()));
});

describe('loaders check the model kind', () => {
  it('a text loader refuses an image model and names the right loader', async () => {
    const err = await loadModel(MODELS + 'digits-classifier', new CpuBackend()).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(String(err.message)).toContain('loadClassifier');
    await expect(loadDenoiser(MODELS + 'text-mdm', new CpuBackend())).rejects.toBeInstanceOf(ModelFormatError);
  });
});
