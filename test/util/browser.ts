/**
 * Headless Chromium (Debian's, through puppeteer-core) with WebGPU enabled, and a Vite dev server on
 * 127.0.0.1 (WebGPU needs a secure context: localhost, not about:blank).
 */
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));

export async function startServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite dev server did not report a URL');
  return { server, url };
}

/**
 * Headless Chromium with WebGPU. `SAMPLESCOPE_CHROMIUM_ARGS` adds flags (space-separated) — `npm run bench:gpu`
 * passes the ones that give a hardware adapter.
 */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (run scripts/setup.sh)`);
  const fromEnv = (process.env.SAMPLESCOPE_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...fromEnv,
      ...extraArgs,
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Start a dev server and a browser for the test file (closed after it); read them via the getters. */
export function useBrowserAndServer(): { readonly url: string; readonly browser: Browser } {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let url = '';
  beforeAll(async () => {
    ({ server, url } = await startServer());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get url() {
      return url;
    },
    get browser() {
      return browser!;
    },
  };
}
