// Our own models in their f16 form (weight matrices stored f16 on the GPU, read widened, f32
// accumulation) against the f32 twin (the same checkpoint loaded with weights: 'f32' on the CPU
// backend, accumulating in f64):
// - text-mdm and digits-diffusion ship F16 files, so both forms hold the same weight values and
//   only the arithmetic differs: logits / ε within atol 2e-4 + rtol 2e-4 (measured max |diff|
//   1.9e-5 and 3.8e-6 on lavapipe; printed);
// - tiny-bidir ships F32, so its f16 form rounds every matrix (relative error ≤ 2^-11): logits within
//   atol 5e-3 + rtol 5e-3 of the f32 twin (measured max |diff| 6.5e-4), and within 2e-4 of the CPU
//   twin run on the same f16 weights (kernel parity);
// - the f16 form's matrices take half the bytes.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadDenoiser, loadModel } from '../../src/models/index.js';
import { expectClose, gpuBackend } from '../util/gpu.js';
import { FIXTURES, MODELS, golden } from '../util/models.js';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function textLogits(dir: string, gpuWeights: 'f16' | 'f32' | undefined, cpuWeights: 'f16' | 'f32') {
  const gpu = await gpuBackend();
  const cpu = new CpuBackend();
  const g = await golden(dir);
  const [B, T] = [g.cls.length, g.x.length / g.cls.length];
  const input = { tokens: Uint32Array.from(g.x), batch: B, length: T, classes: Uint32Array.from(g.cls) };
  const mg = await loadModel(dir, gpu, { weights: gpuWeights });
  const mc = await loadModel(dir, cpu, { weights: cpuWeights });
  const out = {
    gpu: await gpu.read(mg.forward(input)),
    cpu: await cpu.read(mc.forward(input)),
    bytes: [mg.weightBytes(), mc.weightBytes()],
  };
  mg.dispose();
  return out;
}

describe('f16 form of our models vs the f32 twin', () => {
  it('text-mdm (F16 file): default f16 matrices on webgpu = f32 twin on cpu; half the matrix bytes', async () => {
    const r = await textLogits(MODELS + 'text-mdm', undefined, 'f32');
    console.log(`[f16] text-mdm max |logit diff| f16 gpu vs f32 cpu: ${maxDiff(r.gpu, r.cpu)}`);
    expectClose(r.gpu, r.cpu, 2e-4, 2e-4, 'text-mdm f16 vs f32');
    const [f16, f32] = r.bytes;
    expect(f16.f16).toBeGreaterThan(0);
    expect(f32.f16).toBe(0);
    expect(f16.f16 * 2).toBe(f32.total - f16.f32); // every matrix at half the bytes
  });

  it('digits-diffusion (F16 file): ε of the f16 form on webgpu = f32 twin on cpu', async () => {
    const dir = MODELS + 'digits-diffusion';
    const gpu = await gpuBackend();
    const cpu = new CpuBackend();
    const g = await golden(dir);
    const mg = await loadDenoiser(dir, gpu, { weights: 'f16' });
    const mc = await loadDenoiser(dir, cpu, { weights: 'f32' });
    const B = g.t.length;
    const shape = [B, mg.imageSize, mg.imageSize, mg.channels];
    const x = g.x as Float32Array;
    const input = (be: Backend) => ({
      x: be.tensor(x, shape),
      t: Uint32Array.from(g.t),
      classes: Uint32Array.from(g.cls),
    });
    const a = await gpu.read(await mg.forward(input(gpu)));
    const b = await cpu.read(await mc.forward(input(cpu)));
    console.log(`[f16] digits-diffusion max |eps diff| f16 gpu vs f32 cpu: ${maxDiff(a, b)}`);
    expectClose(a, b, 2e-4, 2e-4, 'digits-diffusion f16 vs f32');
    mg.dispose();
  });

  it('tiny-bidir (F32 file) narrowed to f16: near the f32 twin, equal to the f16 twin', async () => {
    const dir = FIXTURES + 'tiny-bidir';
    const vsF32 = await textLogits(dir, 'f16', 'f32');
    console.log(`[f16] tiny-bidir max |logit diff| f16 gpu vs f32 cpu: ${maxDiff(vsF32.gpu, vsF32.cpu)}`);
    expectClose(vsF32.gpu, vsF32.cpu, 5e-3, 5e-3, 'tiny-bidir f16 vs f32');
    expect(maxDiff(vsF32.gpu, vsF32.cpu)).toBeGreaterThan(0); // the narrowing did happen
    const vsF16 = await textLogits(dir, 'f16', 'f16');
    expectClose(vsF16.gpu, vsF16.cpu, 2e-4, 2e-4, 'tiny-bidir f16 gpu vs f16 cpu');
  });
});
