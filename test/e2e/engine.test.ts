// The engine in a real module worker (Chromium, SwiftShader WebGPU): load a model by URL, sample
// with per-step progress crossing the boundary, cancel through an AbortSignal (AbortError at the
// next step, settling within one model call + 50 ms, where a model call is the longest step of the
// same request run to the end, timed in the worker), and a worker crash mid-sample: the three pending
// calls reject with WorkerCrashedError within 2 s and the next call runs on a fresh worker; a worker
// terminated mid-call (dispose) rejects its pending call the same way. Device
// loss mid-sample (FHS and ancestral): DeviceLostError keeps its class across the boundary and
// resume() continues after the last completed step with exactly the uninterrupted samples.
import { describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';

const ctx = useBrowserAndServer();

/**
 * Run `body` (JS source) in a fresh page with `engine` (a new client: `createEngine()`), `out` (an
 * object it fills, returned here) and `DeviceLostError` in scope; the client is disposed after it.
 * Also returns the page's uncaught errors.
 */
async function inPage(body: string): Promise<{ r: Record<string, any>; errors: string[] }> {
  const page = await ctx.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { createEngine } = await import('/src/worker/client.ts');
      const { DeviceLostError } = await import('/src/errors.ts');
      const engine = createEngine();
      const out = {};
      try {
        ${body}
      } finally {
        engine.dispose();
      }
      return out;
    })()`)) as Record<string, any>;
    return { r, errors };
  } finally {
    await page.close();
  }
}

describe('engine in a module worker', () => {
  it('progress, cancellation and crash recovery', async () => {
    const { r, errors } = await inPage(`
        out.backend = (await engine.init('auto')).name;
        const info = await engine.loadModel('/test/fixtures/tiny-bidir/', { id: 'm' });
        const L = Math.min(12, info.maxLength);
        const steps = [];
        const res = await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 2, length: L, seed: 1 } }, (p) => { steps.push(p.step); });
        out.L = L; out.nfe = res.nfe; out.steps = steps; out.texts = res.texts.length; out.samplesLen = res.samples.length;

        // one model call: the longest step of the same request run to the end (the worker's own timing)
        const plain = await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 32, length: L, seed: 2 } });
        const stepMs = Math.max(...plain.stepTimesMs);
        const ac = new AbortController();
        let cancelAt = 0;
        try {
          await engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 32, length: L, seed: 2 } }, (p) => {
            if (p.step === 2) { cancelAt = performance.now(); ac.abort(); }
          }, { signal: ac.signal });
          out.cancel = 'not cancelled';
        } catch (e) {
          out.cancel = { name: e.name, step: e.step, elapsed: performance.now() - cancelAt, stepMs };
        }

        const t0 = performance.now();
        const settle = (p) => p.then(() => 'resolved', (e) => ({ name: e.name, ms: performance.now() - t0 }));
        const pending = [1, 2, 3].map((s) => settle(engine.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 64, length: L, seed: 3 + s } })));
        await engine.crashForTest(30);
        out.crash = { results: await Promise.all(pending), ms: performance.now() - t0 };
        out.afterCrash = (await engine.init('auto')).name;
        out.workers = engine.workersStarted;

        // a worker terminated mid-call (dispose) rejects its pending calls the same way
        const other = createEngine();
        await other.loadModel('/test/fixtures/tiny-bidir/', { id: 'm' });
        const t1 = performance.now();
        const killed = other.sampleText({ model: 'm', sampler: 'fhs', options: { batch: 64, length: L, seed: 9 } }).then(() => 'resolved', (e) => ({ name: e.name, ms: performance.now() - t1 }));
        setTimeout(() => other.dispose(), 30);
        out.terminated = await killed;
    `);
    expect(r.backend).toBe('webgpu');
    expect(r.nfe).toBe(r.L);
    expect(r.steps).toEqual(Array.from({ length: r.L }, (_, i) => i));
    expect([r.texts, r.samplesLen]).toEqual([2, 2 * r.L]);
    expect(r.cancel.name).toBe('AbortError');
    expect(r.cancel.step).toBe(3);
    expect(r.cancel.elapsed).toBeLessThan(r.cancel.stepMs + 50);
    expect(r.crash.results.map((x: any) => x.name)).toEqual([
      'WorkerCrashedError',
      'WorkerCrashedError',
      'WorkerCrashedError',
    ]);
    for (const x of r.crash.results) expect(x.ms).toBeLessThan(2000);
    expect(r.terminated.name).toBe('WorkerCrashedError');
    expect(r.terminated.ms).toBeLessThan(2000);
    expect(r.afterCrash).toBe('webgpu');
    expect(r.workers).toBe(2);
    expect(errors).toEqual([]);
  }, 300_000);

  // Device loss in the worker (the Chromium twin of test/gpu/engine.test.ts): the main thread asks the
  // worker to destroy its device from the progress callback at step k; the worker handles that message
  // while the sampler awaits the next step's readback, so the request dies in a later step. Every
  // progress message is posted before the rejection, so the last step seen before it is the last
  // completed one and resume() must continue exactly after it.
  it('device loss mid-sample: DeviceLostError across the boundary, resume() gives the uninterrupted samples', async () => {
    const { r, errors } = await inPage(`
        out.runs = [];
        out.backend = (await engine.init('auto')).name;
        const info = await engine.loadModel('/test/fixtures/tiny-bidir/', { id: 'm' });
        const L = Math.min(10, info.maxLength);
        out.L = L;
        const cases = [
          { name: 'fhs', killAt: 3, req: { model: 'm', sampler: 'fhs', options: { batch: 2, length: L, seed: 11, classId: 0 } } },
          { name: 'ancestral', killAt: 1, req: { model: 'm', sampler: 'ancestral', options: { batch: 2, length: L, seed: 12, steps: 5 } } },
        ];
        for (const c of cases) {
          const full = await engine.sampleText(c.req);
          const id = 'lost-' + c.name;
          const before = [];
          let injected = null;
          const err = await engine.sampleText(c.req, (p) => {
            before.push(p.step);
            if (p.step === c.killAt) injected = engine.loseDeviceForTest();
          }, { requestId: id }).then(() => null, (e) => ({ name: e.name, typed: e instanceof DeviceLostError, reason: e.reason }));
          await injected;
          const interrupted = await engine.interruptedRequests();
          const after = [];
          const res = await engine.resume(id, (p) => after.push({ step: p.step, requestId: p.requestId }));
          out.runs.push({
            name: c.name, killAt: c.killAt, err, interrupted, before, after,
            full: Array.from(full.samples), fullNfe: full.nfe, fullSteps: full.stepTimesMs.length,
            resumed: Array.from(res.samples), resumedNfe: res.nfe, resumedSteps: res.stepTimesMs.length, resumedBackend: res.backend,
            interruptedAfter: await engine.interruptedRequests(),
          });
        }
        // a fresh request on the new device
        const fresh = await engine.sampleText(cases[0].req);
        out.fresh = { samples: Array.from(fresh.samples), backend: fresh.backend, nfe: fresh.nfe };
        out.info = (await engine.info()).name;
        out.workers = engine.workersStarted;
    `);
    expect(r.backend).toBe('webgpu');
    expect(r.runs.map((x: any) => x.name)).toEqual(['fhs', 'ancestral']);
    for (const x of r.runs) {
      const at = x.name;
      expect(x.err, at).toEqual({ name: 'DeviceLostError', typed: true, reason: 'destroyed' });
      expect(x.interrupted, at).toContain(`lost-${at}`);
      // steps before the loss: 0..last, contiguous, at least up to killAt, and the request did not finish
      const last = x.before[x.before.length - 1];
      expect(x.before, at).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
      expect(last, at).toBeGreaterThanOrEqual(x.killAt);
      expect(last, at).toBeLessThan(x.fullSteps - 1);
      // resume continues after the last completed step, to the end, under the same request id
      expect(
        x.after.map((p: any) => p.step),
        at,
      ).toEqual(Array.from({ length: x.fullSteps - (last + 1) }, (_, i) => last + 1 + i));
      expect(new Set(x.after.map((p: any) => p.requestId)), at).toEqual(new Set([`lost-${at}`]));
      expect(x.resumedSteps, at).toBe(x.after.length);
      expect(x.resumed, at).toEqual(x.full);
      expect(x.resumedBackend, at).toBe('webgpu');
      expect(x.interruptedAfter, at).not.toContain(`lost-${at}`);
    }
    const fhs = r.runs[0];
    expect([fhs.fullNfe, fhs.resumedNfe]).toEqual([r.L, r.L]); // NFE counted across the interruption
    expect(r.fresh).toEqual({ samples: fhs.full, backend: 'webgpu', nfe: r.L });
    expect(r.info).toBe('webgpu');
    expect(r.workers, 'device loss is not a worker crash').toBe(1);
    expect(errors).toEqual([]);
  }, 300_000);
});
