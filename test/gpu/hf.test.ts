// Published architectures (src/models/hf/) on the WGSL kernels against transformers' own logits
// (test/fixtures/hf), each converted by convertHfFolder and loaded by loadModel onto webgpu: LLaMA
// bidirectional (GQA 4/2) and causal (GQA 4/1, biases), GPT-2, BERT, RoBERTa, f32 and bf16 weights.
// Tolerance |Δ| ≤ 5e-5 + 1e-5·|ref| (measured worst 3.8e-6 on lavapipe): f32 kernels (matmul tiles,
// online-softmax attention, WGSL exp and the A&S erf with |ε| ≤ 1.5e-7) against torch's f32; the f32
// and bf16 weights' logits differ by ≥ 9e-3, so a wrong mapping cannot pass.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfTextModel, loadModel, loadModelFiles } from '../../src/models/index.js';
import { validateManifest, type HfManifest } from '../../src/models/manifest.js';
import { Engine } from '../../src/worker/engine.js';
import { gpuBackend } from '../util/gpu.js';
import { convertedFixture, forwardTokens, golden, HF_CASES } from '../util/hf.js';

const cases = HF_CASES;

describe('HF architectures on webgpu vs transformers', () => {
  for (const [name, causal] of cases)
    it(`${name}: f32 and bf16 weights (the latter as f16 matrices on the GPU)`, async () => {
      const gpu = await gpuBackend();
      for (const dtype of ['f32', 'bf16'] as const) {
        const m = await loadModel(await convertedFixture(name, dtype), gpu);
        // a bf16 checkpoint's matrices live on the GPU as f16 (half the bytes), an f32 one's as f32
        const bytes = (m as HfTextModel).weightBytes();
        expect(bytes.f16 > 0, `${name} ${dtype}: f16 matrices`).toBe(dtype === 'bf16');
        const g = golden(name, dtype);
        const t = m.forward({ tokens: forwardTokens(g.ids, g.B, g.T, causal), batch: g.B, length: g.T });
        const got = (await gpu.read(t)) as Float32Array;
        gpu.free(t);
        m.dispose();
        let worst = 0,
          abs = 0;
        for (let i = 0; i < got.length; i++) {
          worst = Math.max(worst, Math.abs(got[i] - g.logits[i]) - 1e-5 * Math.abs(g.logits[i]));
          abs = Math.max(abs, Math.abs(got[i] - g.logits[i]));
        }
        console.log(`[hf] ${name} ${dtype} on ${gpu.info.adapter?.description}: worst |Δ| ${abs.toExponential(2)}`);
        expect(got.length).toBe(g.logits.length);
        expect(worst, `${name} ${dtype}: worst |Δ| − rtol·|ref|`).toBeLessThanOrEqual(5e-5);
      }
    });
});

describe('HF architectures under the samplers on webgpu (through the engine, as the element uses them)', () => {
  it('FHS on the converted bidirectional LLaMA and sequential sampling on the converted GPT-2', async () => {
    await gpuBackend(); // fails (never skips) without an adapter
    const e = new Engine();
    expect((await e.init('webgpu')).name).toBe('webgpu');
    const llada = await e.loadModel(await convertedFixture('llama-bidir'), { id: 'llada' });
    expect(llada).toMatchObject({ kind: 'text', attention: 'bidirectional', maskId: 4, maxLength: 32 });
    const f = await e.sampleText({ model: 'llada', sampler: 'fhs', options: { batch: 3, length: 16, seed: 7 } });
    expect(f.samples.length).toBe(3 * 16);
    expect(
      [...f.samples].every((t) => t < 96 && t !== 4),
      'every position decided, never [MASK]',
    ).toBe(true);
    expect(f.backend).toBe('webgpu');
    const gpt2 = await e.loadModel(await convertedFixture('gpt2', 'f32', { dtype: 'f16' }), { id: 'gpt2' });
    expect(gpt2.attention).toBe('causal');
    const s = await e.sampleText({ model: 'gpt2', sampler: 'sequential', options: { batch: 2, length: 12, seed: 7 } });
    expect(s.samples.length).toBe(2 * 12);
    expect(s.nfe).toBe(12);
    expect(s.texts).toHaveLength(2);
    await expect(
      e.sampleText({ model: 'gpt2', sampler: 'fhs', options: { batch: 1, length: 8, seed: 1 } }),
    ).rejects.toThrow(/bidirectional|causal|two-stream/);
    e.dispose();
  });
});

describe('nothing half-loaded', () => {
  it('a checkpoint that does not fit its config creates no GPU buffer (checked before the first upload)', async () => {
    const gpu = await gpuBackend();
    const dir = await convertedFixture('gpt2');
    const m = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))) as HfManifest;
    const { weights } = await loadModelFiles(dir);
    weights.delete('transformer.h.1.mlp.c_proj.bias');
    const live = () => gpu.stats().pool!.live;
    const before = { created: gpu.stats().buffersCreated, live: live() };
    expect(() => new HfTextModel(m, weights, gpu)).toThrow(/transformer\.h\.1\.mlp\.c_proj\.bias.*hf-missing-tensor/);
    expect(gpu.stats().buffersCreated).toBe(before.created);
    expect(live()).toBe(before.live);
    // the complete checkpoint holds buffers while loaded (so the count above can see an upload), none after
    const ok = await loadModel(dir, gpu);
    expect(live()).toBeGreaterThan(before.live);
    ok.dispose();
    expect(live()).toBe(before.live);
  });
});
