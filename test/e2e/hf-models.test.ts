// In Chromium (the page's WebGPU adapter: SwiftShader here): the HF fixtures (test/fixtures/hf, made by
// transformers; each folder's manifest.json written by `samplescope convert` in place — the unit test
// hf.test.ts checks it is exactly what convert writes) are loaded by URL through the normal path
// (streaming fetch, sha256 via WebCrypto) and run on our kernels; their logits equal transformers' within
// 5e-5 + 1e-5·|ref| (as test/gpu/hf.test.ts on Dawn).
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';
import { HF_CASES } from '../util/hf.js';

const ctx = useBrowserAndServer();

describe('HF architectures in the browser', () => {
  it('LLaMA (bidirectional, causal, scaled RoPE), LLaDA, Dream, GPT-2, BERT, RoBERTa on WebGPU: parity', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { createBackend } = await import('/src/backend/create.ts');
      const { loadModel, parseSafetensors, tensorData } = await import('/src/models/index.ts');
      const { forwardTokens } = await import('/test/util/causal.ts');
      const be = await createBackend({ prefer: 'webgpu' });
      const out = [];
      for (const [name, causal] of ${JSON.stringify(HF_CASES)}) {
        const src = '/test/fixtures/hf/' + name + '/';
        const m = await loadModel(src, be, { cache: false });
        const g = parseSafetensors(new Uint8Array(await (await fetch(src + 'golden.safetensors')).arrayBuffer()));
        const ids = Uint32Array.from(tensorData(g, 'input_ids'));
        const [B, T] = g.tensors.get('input_ids').shape;
        const tokens = forwardTokens(ids, B, T, causal);
        const t = m.forward({ tokens, batch: B, length: T });
        const got = await be.read(t);
        be.free(t);
        const want = tensorData(g, 'logits_f32');
        let worst = -Infinity, abs = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(got[i] - want[i]) - (5e-5 + 1e-5 * Math.abs(want[i])));
          abs = Math.max(abs, Math.abs(got[i] - want[i]));
        }
        out.push({ name, attention: m.attention, n: got.length, worst, abs });
        m.dispose();
      }
      const a = be.info.adapter ?? {};
      return { backend: be.name, adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' '), out };
    })()`)) as {
      backend: string;
      adapter: string;
      out: { name: string; attention: string; n: number; worst: number; abs: number }[];
    };
    expect(r.backend).toBe('webgpu');
    console.log(`[hf] Chromium ${r.adapter}: ${r.out.map((o) => `${o.name} ${o.abs.toExponential(2)}`).join(', ')}`);
    expect(r.out.map((o) => o.attention)).toEqual(HF_CASES.map(([, causal]) => (causal ? 'causal' : 'bidirectional')));
    for (const o of r.out) {
      expect(o.n, o.name).toBe(2 * 8 * 96);
      expect(o.worst, `${o.name}: worst |Δ| − tolerance`).toBeLessThanOrEqual(0);
    }
    await page.close();
  });
});
