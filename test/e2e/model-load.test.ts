// In Chromium: load a model by URL (streaming fetch, sha256 via WebCrypto, Cache API), run its
// forward pass on the page's WebGPU adapter and compare with the PyTorch golden vectors
// (atol 2e-4 + rtol 2e-4); the verified files are stored in the Cache API; a corrupted response is
// an IntegrityError and is not cached. A streamed load (src/models/stream.ts: fetch body read tensor by
// tensor, the incremental SHA-256, caching after verification) gives the same logits.
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';

const ctx = useBrowserAndServer();

describe('model loading in the browser', () => {
  it('fetches, verifies, caches and runs a model on WebGPU with golden parity', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { createBackend } = await import('/src/backend/create.ts');
      const { loadModel, loadModelFiles, tensorData } = await import('/src/models/index.ts');
      const be = await createBackend({ prefer: 'webgpu' });
      const src = '/test/fixtures/tiny-twostream/';
      const m = await loadModel(src, be);
      const g = (await loadModelFiles(src, { roles: ['golden'] })).files.get('golden.safetensors');
      const get = (n) => tensorData(g, n);
      const input = { tokens: Uint32Array.from(get('x')), batch: 3, length: 12, classes: Uint32Array.from(get('cls')), order: Uint32Array.from(get('order')) };
      const logits = await be.read(m.forward(input));
      const want = get('logits_two_stream');
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(logits[i] - want[i]) - (2e-4 + 2e-4 * Math.abs(want[i])));
      const cache = await caches.open('samplescope-models-v1');
      const cached = (await cache.keys()).map((k) => new URL(k.url).pathname).sort();
      return { backend: be.name, n: want.length, worst, cached };
    })()`)) as { backend: string; n: number; worst: number; cached: string[] };
    expect(r.backend).toBe('webgpu');
    expect(r.n).toBe(3 * 12 * 11);
    expect(r.worst).toBeLessThanOrEqual(0);
    expect(r.cached).toEqual([
      '/test/fixtures/tiny-twostream/golden.safetensors',
      '/test/fixtures/tiny-twostream/model.safetensors',
    ]);
    await page.close();
  });

  it('streams a model tensor by tensor from fetch (incremental sha256, Cache API): the same logits', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { createBackend } = await import('/src/backend/create.ts');
      const { loadModel } = await import('/src/models/index.ts');
      const be = await createBackend({ prefer: 'webgpu' });
      const src = '/test/fixtures/tiny-mam-softplus/';
      const input = { tokens: Uint32Array.from({ length: 24 }, (_, i) => i % 11), batch: 2, length: 12 };
      const run = async (o) => {
        const m = await loadModel(src, be, o);
        const l = await be.read(m.forward(input));
        m.dispose();
        return [...l];
      };
      const streamed = await run({ stream: true });
      const whole = await run({ stream: false, cache: false });
      const cache = await caches.open('samplescope-models-v1');
      const cached = (await cache.keys()).map((k) => new URL(k.url).pathname).filter((p) => p.includes('softplus'));
      return { same: JSON.stringify(streamed) === JSON.stringify(whole), n: streamed.length, cached };
    })()`)) as { same: boolean; n: number; cached: string[] };
    expect(r).toEqual({ same: true, n: 2 * 12 * 11, cached: ['/test/fixtures/tiny-mam-softplus/model.safetensors'] });
    await page.close();
  });

  it('a response whose bytes differ from the manifest is an IntegrityError and is not cached', async () => {
    const page = await ctx.browser.newPage();
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url().endsWith('/tiny-bidir/model.safetensors')) {
        void (async () => {
          const res = await fetch(req.url());
          const body = Buffer.from(await res.arrayBuffer());
          body[body.length - 1] ^= 0xff;
          await req.respond({ status: 200, contentType: 'application/octet-stream', body });
        })();
      } else void req.continue();
    });
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { loadModelFiles } = await import('/src/models/load.ts');
      try {
        await loadModelFiles('/test/fixtures/tiny-bidir/');
        return { ok: true };
      } catch (e) {
        const cache = await caches.open('samplescope-models-v1');
        const hit = await cache.match(new URL('/test/fixtures/tiny-bidir/model.safetensors', location.href).href);
        return { ok: false, name: e.name, file: e.file, cached: !!hit };
      }
    })()`)) as Record<string, unknown>;
    expect(r).toEqual({ ok: false, name: 'IntegrityError', file: 'model.safetensors', cached: false });
    await page.close();
  });
});
