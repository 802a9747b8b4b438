// End to end in a real browser: the kernel demo page (demos/kernel/) starts the engine in a module web worker
// (comlink),
// which acquires WebGPU (SwiftShader here), runs the matmul kernel and the categorical sampler. The
// test rebuilds the same inputs in Node, recomputes with the CPU twin and checks the numbers
// (atol 1e-4 + rtol 1e-4), and checks the sampler's χ² (p > 0.001).
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';
import { demoMatrix, DEMO_SIZE } from '../../demos/kernel/inputs.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { expectClose } from '../util/gpu.js';

const ctx = useBrowserAndServer();

describe('demo page in Chromium', () => {
  it('runs kernels in a module worker on WebGPU and gets the right numbers', async () => {
    const page = await ctx.browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${ctx.url}demos/kernel/?seed=3`);
    await page.waitForFunction(
      () => window.__samplescope?.status === 'done' || window.__samplescope?.status === 'error',
      { timeout: 180_000 },
    );
    const s = await page.evaluate(() => window.__samplescope!);
    expect(s.error).toBeUndefined();
    console.log(`[e2e] browser adapter: ${s.adapter} (backend ${s.backend})`);
    expect(s.backend).toBe('webgpu');
    expect(s.adapter!.length).toBeGreaterThan(0);
    // numbers: recompute the first 16 outputs with the twin from the same Philox inputs
    const n = DEMO_SIZE;
    const ref = matmulRef(demoMatrix(n * n, 3, 1), demoMatrix(n * n, 3, 2), { batch: 1, M: n, K: n, N: n });
    expectClose(s.cHead!, ref.subarray(0, 16), 1e-4, 1e-4, 'matmul head');
    expect(s.maxAbsErr!).toBeLessThan(1e-4);
    expect(s.pValue!).toBeGreaterThan(0.001);
    expect(s.counts!.reduce((a, b) => a + b, 0)).toBe(20000);
    // the page shows it
    const text = await page.$eval('#matmul', (el) => el.textContent ?? '');
    expect(text).toContain('webgpu');
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  it('typed errors cross the worker boundary with their class and fields', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(`${ctx.url}demos/kernel/`);
    await page.waitForFunction(() => window.__samplescope?.status === 'done', { timeout: 180_000 });
    // a string, so that vitest does not rewrite the page's dynamic import
    const r = await page.evaluate(`(async () => {
      const { createEngine } = await import('/src/worker/client.ts');
      const engine = createEngine();
      try {
        await engine.sample({ logits: new Float32Array([0, NaN, 1, 1]), rows: 2, V: 2, options: { seed: 1 } });
        return { ok: true };
      } catch (err) {
        return { ok: false, name: err.name, code: err.code, rows: err.rows, isError: err instanceof Error };
      } finally {
        engine.dispose();
      }
    })()`);
    expect(r).toEqual({ ok: false, name: 'InvalidLogitsError', code: 'invalid-logits', rows: [0], isError: true });
    await page.close();
  });
});
