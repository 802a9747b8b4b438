/**
 * The built demo site for end-to-end tests: `vite build` into a temporary folder (the models plugin
 * copies models/ into it), served by a plain static server — what `vite preview` or any static host
 * serves. `openPage` records console errors, page errors and CSP violations from the first byte.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { build } from 'vite';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { launchBrowser } from './browser.js';
import { serveStatic } from './static.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'bench/results/screenshots');

export function useBuiltSite(): { readonly url: string; readonly browser: Browser; readonly requests: string[] } {
  let out = '',
    url = '',
    server: Server | undefined,
    browser: Browser | undefined,
    requests: string[] = [];
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'samplescope-site-'));
    await build({
      root: ROOT,
      configFile: join(ROOT, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: out, emptyOutDir: true },
    });
    ({ url, server, requests } = await serveStatic({ '/': out }, { isolated: true }));
    browser = await launchBrowser();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (out) rmSync(out, { recursive: true, force: true });
  });
  return {
    get url() {
      return url;
    },
    get browser() {
      return browser!;
    },
    get requests() {
      return requests;
    },
  };
}

export interface OpenPage {
  page: Page;
  /** console errors and uncaught page errors */
  errors: string[];
  /** CSP violations seen by the document */
  csp(): Promise<string[]>;
}

export async function openPage(browser: Browser, url: string): Promise<OpenPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.setDefaultNavigationTimeout(120_000); // the load event can take over 30 s on a loaded 2-core machine
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(url);
  return { page, errors, csp: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp) };
}
