/**
 * A plain static file server on 127.0.0.1 (no Vite): serves built output the way any static host
 * would. `mounts` maps URL prefixes to folders; a folder URL serves its index.html.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { ISOLATION } from '../../vite.config.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.onnx': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/**
 * `isolated`: send the demo server's cross-origin-isolation headers (vite.config.ts ISOLATION), as `npm run
 * demo` does; without them the pages are what a plain host serves (no SharedArrayBuffer: one wasm thread).
 */
export async function serveStatic(
  mounts: Record<string, string>,
  o: { isolated?: boolean } = {},
): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (!prefix) {
      res.writeHead(404).end();
      return;
    }
    const dir = mounts[prefix];
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(normalize(dir + sep)) && file !== normalize(dir)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    // CORS open, so a page on another origin (e.g. localhost vs 127.0.0.1) could read it: what stops
    // cross-origin model loads in the e2e tests is the engine's origin allowlist, not the server
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      ...(o.isolated ? ISOLATION : {}),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('static server has no port');
  return { url: `http://127.0.0.1:${addr.port}/`, server, requests };
}
