// <sample-scope> embedded from the built bundle only: `vite build --mode element` is built into a
// temporary folder and served by a plain static server next to models/ and one HTML page whose only
// script is that bundle, under a strict CSP (script-src 'self'). In Chromium on WebGPU (SwiftShader):
// a 2×16 FHS sample streams one progress event per pass, ends at 100% with NFE = 16 and shows the
// texts the done event carries, with no [MASK] left; Stop cancels a longer run (AbortError, fewer
// passes than tokens); an out-of-range knob is refused by the UI before any request, and a knob
// combination only the engine rejects shows the engine's SamplerConfigError. The page runs under
// Trusted Types (require-trusted-types-for 'script', policies lit-html and samplescope only); a
// cross-origin model URL is refused (OriginNotAllowedError) unless allowed-origins lists it; markup
// in attributes and error messages is rendered as text. Without WebGPU the same
// page falls back to the CPU backend and says so. No page loads anything outside /lib/ and /models/,
// no console errors, no CSP violations. Screenshots: bench/results/screenshots/embed*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build } from 'vite';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { CHROMIUM, launchBrowser } from '../util/browser.js';
import { serveStatic } from '../util/static.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shots = join(root, 'bench/results/screenshots');
let out = '',
  url = '',
  server: Server | undefined,
  requests: string[] = [],
  isolatedUrl = '',
  isolatedServer: Server | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'samplescope-element-'));
  await build({
    root,
    configFile: join(root, 'vite.config.ts'),
    mode: 'element',
    logLevel: 'error',
    build: { outDir: out, emptyOutDir: true },
  });
  const mounts = { '/lib/': out, '/models/': join(root, 'models'), '/': join(root, 'test/fixtures/embed') };
  ({ url, server, requests } = await serveStatic(mounts));
  // the same files from a host that sends COOP/COEP (as npm run demo does): wasm threads allowed
  ({ url: isolatedUrl, server: isolatedServer } = await serveStatic(mounts, { isolated: true }));
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await new Promise((r) => (isolatedServer ? isolatedServer.close(r) : r(undefined)));
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Open the embed page, recording console errors, CSP violations and the element's events. */
async function open(b: Browser, at = url): Promise<{ page: Page; errors: string[] }> {
  const page = await b.newPage();
  await page.setViewport({ width: 900, height: 700 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __csp: string[]; __ev: { type: string; detail: Record<string, unknown> }[] };
    w.__csp = [];
    w.__ev = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    for (const t of ['sample-start', 'sample-progress', 'sample-done', 'sample-error']) {
      document.addEventListener(t, (e) => {
        const { images: _i, request: _r, ...rest } = (e as CustomEvent).detail as Record<string, unknown>;
        w.__ev.push({ type: t, detail: rest });
      });
    }
  });
  await page.goto(at);
  await page.waitForFunction(() => document.querySelector('sample-scope')?.state === 'ready', { timeout: 180_000 });
  return { page, errors };
}

/** Run one sample with the given attributes; returns when the element settles. */
async function run(page: Page, attrs: Record<string, string | null>, stopAfterProgress = false) {
  return page.evaluate(
    async (attrs, stopAfterProgress) => {
      const w = window as unknown as { __ev: { type: string; detail: Record<string, unknown> }[] };
      const el = document.querySelector('sample-scope')!;
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null) el.removeAttribute(k);
        else el.setAttribute(k, v);
      }
      await el.updateComplete;
      w.__ev.length = 0;
      const sr = el.shadowRoot!;
      const button = sr.querySelector('button[part=start]') as HTMLButtonElement;
      const buttonDisabled = button.disabled;
      // a disabled button (knobs the UI rejects) leaves the programmatic start()
      if (buttonDisabled) void el.start();
      else button.click();
      if (stopAfterProgress) {
        await new Promise<void>((res) => el.addEventListener('sample-progress', () => res(), { once: true }));
        (sr.querySelector('button[part=stop]') as HTMLButtonElement).click();
      }
      for (let i = 0; i < 3000 && ['running', 'ready'].includes(el.state); i++)
        await new Promise((r) => setTimeout(r, 100));
      await el.updateComplete;
      return {
        buttonDisabled,
        knobMsg: [...sr.querySelectorAll('.knobs .msg')].map((m) => m.textContent),
        state: el.state,
        events: w.__ev.map((e) => e.type),
        done: w.__ev.find((e) => e.type === 'sample-done')?.detail as
          { nfe: number; texts: string[]; backend: string } | undefined,
        error: w.__ev.find((e) => e.type === 'sample-error')?.detail as { name: string; message: string } | undefined,
        rows: [...sr.querySelectorAll('.row')].map((r) => r.textContent),
        masked: sr.querySelectorAll('.row .m').length,
        progress: (sr.querySelector('progress') as HTMLProgressElement).value,
        footer: sr.querySelector('footer')?.textContent ?? '',
        alert: sr.querySelector('.error')?.textContent ?? '',
        notice: sr.querySelector('.notice')?.textContent ?? '',
      };
    },
    attrs,
    stopAfterProgress,
  );
}

describe('<sample-scope> from the built bundle', () => {
  it('samples live on WebGPU, stops, validates knobs and shows typed engine errors', async () => {
    const { page, errors } = await open(browser!);
    const r = await run(page, {});
    expect(r.state).toBe('done');
    expect(r.buttonDisabled).toBe(false);
    expect(r.events[0]).toBe('sample-start');
    expect(r.events.filter((e) => e === 'sample-progress').length).toBe(16);
    expect(r.events.at(-1)).toBe('sample-done');
    expect(r.done!.nfe).toBe(16);
    expect(r.done!.backend).toBe('webgpu');
    expect(r.done!.texts.map((t) => t.length)).toEqual([16, 16]);
    expect(r.rows).toEqual(r.done!.texts);
    expect(r.masked).toBe(0);
    expect(r.progress).toBe(100);
    expect(r.footer).toMatch(/NFE 16 · [\d.]+ s · webgpu/);
    // a software adapter: the path was measured at load (our kernels vs the ONNX form on the wasm EP)
    expect(r.notice).toMatch(
      /measured on webgpu \(.*\): one forward [\d.]+ ms with our kernels, [\d.]+ ms with its ONNX form/,
    );
    await page.screenshot({ path: join(shots, 'embed.png'), fullPage: true });

    // Stop: a 64-character run cancelled after its first pass
    const s = await run(page, { length: '64', n: '1' }, true);
    expect(s.state).toBe('stopped');
    expect(s.error!.name).toBe('AbortError');
    expect(s.events).not.toContain('sample-done');
    expect(s.events.filter((e) => e === 'sample-progress').length).toBeLessThan(64);

    // the UI refuses an out-of-range knob before any request …
    const u = await run(page, { length: '16', 'top-p': '3' });
    expect(u.buttonDisabled).toBe(true);
    expect(u.knobMsg).toEqual([expect.stringContaining('knob "top-p" must be a number in (0, 1], got 3')]);
    expect(u.state).toBe('error');
    expect(u.events).toEqual(['sample-error']);
    expect(u.alert).toContain('SamplerConfigError');
    expect(u.alert).toContain('top-p');
    // … and shows the engine's typed error for a combination only the engine checks (guidance needs a class)
    const g = await run(page, { 'top-p': '0.9', 'class-label': '', guidance: '2' });
    expect(g.state).toBe('error');
    expect(g.events).toEqual(['sample-start', 'sample-error']);
    expect(g.error!.name).toBe('SamplerConfigError');
    expect(g.alert).toMatch(/SamplerConfigError: knob "guidance" must be 1 when no classId is given/);
    // typing an out-of-range value marks the input and disables Sample
    const typed = await page.evaluate(async () => {
      const el = document.querySelector('sample-scope')!;
      const input = el.shadowRoot!.querySelector('input[name=top-p]') as HTMLInputElement;
      input.value = '0';
      input.dispatchEvent(new Event('input'));
      await el.updateComplete;
      return {
        invalid: input.getAttribute('aria-invalid'),
        disabled: (el.shadowRoot!.querySelector('button[part=start]') as HTMLButtonElement).disabled,
        msg: input.parentElement!.querySelector('.msg')?.textContent,
      };
    });
    expect(typed).toEqual({ invalid: 'true', disabled: true, msg: expect.stringContaining('(0, 1]') });
    await page.screenshot({ path: join(shots, 'embed-errors.png'), fullPage: true });

    expect(requests.filter((p) => !(p === '/' || p.startsWith('/lib/') || p.startsWith('/models/')))).toEqual([]);
    expect(requests.some((p) => p.startsWith('/lib/assets/sampler.worker'))).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
    // the page again (a reload): the decision comes from IndexedDB, nothing is measured
    const again = await open(browser!);
    const notice = await again.page.evaluate(
      () => document.querySelector('sample-scope')!.shadowRoot!.querySelector('.notice')?.textContent ?? '',
    );
    expect(notice).toMatch(
      /measured at an earlier load on this adapter; kept in IndexedDB samplescope\/path-decisions/,
    );
    expect(again.errors, again.errors.join('\n')).toEqual([]);
    await again.page.close();
  }, 300_000);

  // Page security (issue 9, parts 2 and 5): the page runs under Trusted Types (an HTML string sink
  // throws and is reported as a violation, so the listener above would have seen any from the
  // bundle); a model URL of another origin (localhost vs 127.0.0.1: same server, other origin) is
  // refused with OriginNotAllowedError before any request, and loads once the embedding page lists
  // that origin in allowed-origins; markup in attributes and in error messages stays text.
  it('Trusted Types enforced, model origins allowlisted, user text rendered as text', async () => {
    const { page, errors } = await open(browser!);
    const port = new URL(url).port;
    const other = `http://localhost:${port}`;
    const settle = (attrs: Record<string, string>) =>
      page.evaluate(async (attrs) => {
        const el = document.querySelector('sample-scope')!;
        for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
        await el.updateComplete;
        for (let i = 0; i < 1800 && el.state === 'loading'; i++) await new Promise((r) => setTimeout(r, 100));
        await el.updateComplete;
        const sr = el.shadowRoot!;
        return {
          state: el.state,
          alert: sr.querySelector('.error')?.textContent ?? '',
          heading: sr.querySelector('h3')?.textContent ?? '',
          imgs: sr.querySelectorAll('img').length,
        };
      }, attrs);

    const before = requests.length;
    const refused = await settle({ model: `${other}/models/text-mdm/` });
    expect(refused.state).toBe('error');
    expect(refused.alert).toContain('OriginNotAllowedError');
    expect(refused.alert).toContain(`origin ${other} is not allowed (allowed: ${new URL(url).origin})`);
    expect(requests.slice(before), 'nothing fetched for the refused origin').toEqual([]);
    const allowed = await settle({ 'allowed-origins': `https://cdn.example ${other}` });
    expect(allowed.alert).toBe('');
    expect(allowed.state).toBe('ready');
    expect(requests.slice(before)).toContain('/models/text-mdm/manifest.json');

    // markup as text: a heading and an unknown class label carrying an <img onerror> payload
    const payload = '<img src=x onerror=window.__xss=1>';
    const shown = await settle({ model: 'text-mdm', 'allowed-origins': '', heading: payload });
    expect(shown.heading).toBe(payload);
    const r = await run(page, { 'class-label': payload });
    expect(r.state).toBe('error');
    expect(r.alert).toContain(payload);
    expect(
      await page.evaluate(() => document.querySelector('sample-scope')!.shadowRoot!.querySelectorAll('img').length),
    ).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    // Trusted Types is on: a string into an HTML sink throws and is reported (so none came from the bundle)
    const sink = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        return 'accepted';
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(sink).toBe('TypeError');
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([
      expect.stringMatching(/^require-trusted-types-for/),
    ]);
    await page.close();
  }, 400_000);

  it('falls back to the CPU backend with a visible notice when WebGPU is absent', async () => {
    const noGpu = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-features=WebGPU', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const { page, errors } = await open(noGpu);
      const r = await run(page, { length: '8', n: '1' });
      expect(r.state).toBe('done');
      expect(r.done!.backend).toBe('cpu');
      expect(r.notice).toContain('WebGPU is not available here');
      expect(r.notice).toContain('WebGPU unavailable');
      // the fast CPU path: text-mdm's ONNX form on onnxruntime-web's wasm runtime, in the worker, under the page's CSP
      expect(r.notice).toContain("the model's ONNX form on onnxruntime-web's WebAssembly runtime");
      // this host sends no COOP/COEP headers: the element asked for threads, gets one, and says why
      expect(r.notice).toMatch(
        /one thread(: \d+ were asked for, but this page is not cross-origin isolated| \(one core here\))/,
      );
      expect(r.footer).toMatch(/NFE 8 · [\d.]+ s · cpu/);
      expect(r.masked).toBe(0);
      await page.screenshot({ path: join(shots, 'embed-cpu-fallback.png'), fullPage: true });
      expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
      expect(errors, errors.join('\n')).toEqual([]);
      // served cross-origin isolated: the wasm EP runs on the cores (up to 4), and the notice says so
      const iso = await open(noGpu, isolatedUrl);
      const cores = await iso.page.evaluate(() => [crossOriginIsolated, navigator.hardwareConcurrency] as const);
      expect(cores[0]).toBe(true);
      const ri = await run(iso.page, { length: '8', n: '1' });
      expect(ri.state).toBe('done');
      expect(ri.notice).toContain(
        cores[1] > 1 ? `${Math.min(4, cores[1])} threads (cross-origin isolated; ${cores[1]} cores)` : 'one thread',
      );
      expect(await iso.page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
      expect(iso.errors, iso.errors.join('\n')).toEqual([]);
    } finally {
      await noGpu.close();
    }
  }, 300_000);
});
