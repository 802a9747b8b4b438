// ONNX graphs on onnxruntime-web's WebGPU EP on samplescope's own GPUDevice, in Chromium (SwiftShader):
// - the session runs on the page's backend device (env.webgpu.device), its outputs stay on the GPU;
// - parity: tiny-bidir-onnx logits and digits-diffusion-onnx ε̂ on the WebGPU EP vs the native models on the
//   same backend, and the causal toy's logits vs its wasm-EP session, within 2e-3 + 2e-3·|ref|;
// - GPU→host reads per sampler step (the runtime's read() calls, counted): DDIM on the ONNX denoiser reads
//   back no more than the native DiT; the wasm EP path reads x_t every step (shown for contrast); FHS on
//   the masked-diffusion graph reads no more than the native model.
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';

const ctx = useBrowserAndServer();

interface Result {
  ep: string;
  wasmEp: string;
  worstLogits: number;
  causalEp: string;
  worstCausal: number;
  worstEps: number;
  reads: Record<string, number>;
  steps: Record<string, number>;
  error?: string;
}

describe('ONNX on the WebGPU EP, zero-copy (Chromium)', () => {
  it('runs on our device with parity, and reads back no more per step than the native path', async () => {
    const page = await ctx.browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    // a same-origin document without the site's CSP: onnxruntime compiles WebAssembly, which script-src 'self'
    // forbids (a page that loads ONNX models needs 'wasm-unsafe-eval' in script-src)
    await page.goto(ctx.url + 'package.json');
    const r = (await page.evaluate(`(async () => {
      try {
      const { createBackend } = await import('/src/backend/create.ts');
      const { loadModel, loadDenoiser } = await import('/src/models/index.ts');
      const { loadOnnxModel, loadOnnxDenoiser } = await import('/src/models/onnx.ts');
      const { sampleDiffusion } = await import('/src/samplers/diffusion.ts');
      const { sampleMdm } = await import('/src/samplers/mdm.ts');
      const be = await createBackend({ prefer: 'webgpu' });
      let reads = 0;
      const read = be.runtime.read.bind(be.runtime);
      be.runtime.read = (...a) => { reads++; return read(...a); };
      const worst = (a, b) => {
        let w = -Infinity;
        for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) - (2e-3 + 2e-3 * Math.abs(b[i])));
        return w;
      };
      const onnx = await loadOnnxModel('/test/fixtures/tiny-bidir-onnx/', be, { ep: 'webgpu' });
      const native = await loadModel('/test/fixtures/tiny-bidir/', be);
      const input = { tokens: Uint32Array.from({ length: 36 }, (_, i) => (i * 7) % 11), batch: 3, length: 12, classes: Uint32Array.from([0, 1, 2]) };
      const worstLogits = worst(await be.read(await onnx.forward(input)), await be.read(native.forward(input)));
      const cGpu = await loadOnnxModel('/test/fixtures/tiny-causal-onnx/', be, { ep: 'webgpu' });
      const cWasm = await loadOnnxModel('/test/fixtures/tiny-causal-onnx/', be, { ep: 'wasm' });
      const cIn = { tokens: Uint32Array.from({ length: 12 }, (_, i) => i % 3), batch: 3, length: 4 };
      const worstCausal = worst(await be.read(await cGpu.forward(cIn)), await be.read(await cWasm.forward(cIn)));
      const dOnnx = await loadOnnxDenoiser('/models/digits-diffusion-onnx/', be, { ep: 'webgpu' });
      const dWasm = await loadOnnxDenoiser('/models/digits-diffusion-onnx/', be, { ep: 'wasm' });
      const dNative = await loadDenoiser('/models/digits-diffusion/', be);
      const x = be.tensor(Float32Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i * 0.37)), [2, 28, 28, 1]);
      const t = Uint32Array.from([999, 250]), classes = Uint32Array.from([3, 10]);
      const worstEps = worst(await be.read(await dOnnx.forward({ x, t, classes })), await be.read(await dNative.forward({ x, t, classes })));
      const count = async (f) => { const r0 = reads; const res = await f(); return { reads: reads - r0, steps: res.stepTimesMs.length }; };
      const o = { sampler: 'ddim', steps: 4, batch: 2, seed: 3, classId: 5, previewEvery: 0 };
      const m = { sampler: 'fhs', batch: 2, length: 12, seed: 3 };
      const runs = {
        ddimNative: await count(() => sampleDiffusion(dNative, o)),
        ddimOnnxWebgpu: await count(() => sampleDiffusion(dOnnx, o)),
        ddimOnnxWasm: await count(() => sampleDiffusion(dWasm, o)),
        fhsNative: await count(() => sampleMdm(native, m)),
        fhsOnnxWebgpu: await count(() => sampleMdm(onnx, m)),
      };
      const out = { ep: onnx.ep, causalEp: cGpu.ep, wasmEp: dWasm.ep, worstLogits, worstCausal, worstEps, reads: {}, steps: {} };
      for (const [k, v] of Object.entries(runs)) { out.reads[k] = v.reads; out.steps[k] = v.steps; }
      return out;
      } catch (e) { return { error: String(e && e.stack || e) }; }
    })()`)) as Result;
    console.log(JSON.stringify(r), r.error ? logs.slice(-20).join('\n') : '');
    expect(r.error).toBeUndefined();
    expect(r.ep).toBe('webgpu');
    expect(r.wasmEp).toBe('wasm');
    expect(r.worstLogits).toBeLessThanOrEqual(0);
    expect(r.causalEp).toBe('webgpu');
    expect(r.worstCausal).toBeLessThanOrEqual(0);
    expect(r.worstEps).toBeLessThanOrEqual(0);
    const per = (k: string) => r.reads[k] / r.steps[k];
    expect(per('ddimOnnxWebgpu')).toBeLessThanOrEqual(per('ddimNative'));
    expect(per('ddimOnnxWasm')).toBeGreaterThan(per('ddimOnnxWebgpu')); // the readback the EP saves
    expect(per('fhsOnnxWebgpu')).toBeLessThanOrEqual(per('fhsNative'));
    await page.close();
  });
});
