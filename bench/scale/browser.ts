/**
 * `npm run bench:scale:browser -- --dir <folder>` — the scale check of bench/scale/run.ts in Chromium
 * (headless, --enable-unsafe-webgpu: SwiftShader here): a model folder written by
 * `npm run bench:scale -- [--arch hf-llama] --keep <folder>` is served over http (a static server on
 * 127.0.0.1 with CORS; the page itself comes from the Vite dev server, as the e2e tests', its CSP
 * bypassed so it may fetch from that second origin), streamed
 * onto the page's WebGPU adapter by loadModel (fetch → sha256 via the incremental hash → one tensor at a
 * time), and its logits on a short input (L ≤ 8) compared with the CPU twin's in the same page
 * (the same f16 weights on the CPU backend, f64 accumulation): atol 1e-3 + rtol 1e-3.
 *
 * Memory during the load, two ways: (1) the V8 heap with array buffers — CDP Runtime.getHeapUsage
 * (usedSize + backingStorageSize, the page's ArrayBuffers), polled every 20 ms from here while the page
 * loads; (2) performance.memory.usedJSHeapSize sampled at every progress report in the page (precise
 * with --enable-precise-memory-info; V8 heap only, no ArrayBuffer backing stores). Both relative to the
 * level after a gc() before the load. measureUserAgentSpecificMemory is not used: it needs a
 * cross-origin-isolated page and reports seconds after the fact, so it cannot see a peak during a load.
 * Prints load time, peaks vs the largest tensor, GPU bytes (weights; buffer pool) and split weights.
 * `--binding <bytes>` caps maxStorageBufferBindingSize (SwiftShader grants 1 GiB, past every tensor
 * here). Not part of `npm test`.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { launchBrowser, startServer } from '../../test/util/browser.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const dir = arg('dir', '/tmp/hf-llama-153m');
const L = Number(arg('length', '8'));
const skipCpu = process.argv.includes('--skip-cpu');
// cap the adapter's binding (createBackend's limitsCap) — SwiftShader grants 1 GiB, so the real limit
// splits nothing; a cap of 134217728 reproduces lavapipe's 128 MiB and its splits
const binding = process.argv.includes('--binding') ? Number(arg('binding', '0')) : undefined;

const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  name: string;
  files: { path: string; role: string }[];
};
// the tensors' sizes, from the shards' headers
let largest = 0;
const sizes: [string, number][] = [];
for (const f of manifest.files.filter((x) => x.role === 'weights')) {
  const b = readFileSync(join(dir, f.path));
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets?: number[] }>;
  for (const [name, t] of Object.entries(h))
    if (t.data_offsets) {
      sizes.push([name, t.data_offsets[1] - t.data_offsets[0]]);
      largest = Math.max(largest, t.data_offsets[1] - t.data_offsets[0]);
    }
}

// the folder over http, with CORS (the page's origin is Vite's)
const files = createServer((req, res) => {
  const p = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
  const path = join(dir, p);
  if (p.includes('..') || !statSync(path, { throwIfNoEntry: false })?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'Content-Length': statSync(path).size,
    'Content-Type': 'application/octet-stream',
    'Access-Control-Allow-Origin': '*',
  });
  createReadStream(path).pipe(res);
});
await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
const modelUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}/`;

const { server, url } = await startServer();
const browser = await launchBrowser(['--enable-precise-memory-info', '--js-flags=--expose-gc']);
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (!m.text().startsWith('[vite]')) console.log(`[page] ${m.text()}`);
  });
  // index.html's CSP allows connect-src 'self' only; the model's origin is the static server's
  await page.setBypassCSP(true);
  await page.goto(url);
  const cdp = await page.createCDPSession();
  let backing = false;
  const heap = async () => {
    const u = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
    backing ||= u.backingStorageSize !== undefined;
    return u.usedSize + (u.backingStorageSize ?? 0);
  };
  const setup = (await page.evaluate(`(async () => {
    const { createBackend } = await import('/src/backend/create.ts');
    const cap = ${binding ?? 'undefined'};
    const be = await createBackend({ prefer: 'webgpu', ...(cap ? { limitsCap: { maxStorageBufferBindingSize: cap } } : {}) });
    window.__be = be;
    const a = be.info.adapter ?? {};
    gc();
    return {
      backend: be.name,
      adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' '),
      bound: be.maxTensor,
      maxBufferSize: be.runtime?.limits.maxBufferSize,
    };
  })()`)) as { backend: string; adapter: string; bound: { bytes: number; limit: string }; maxBufferSize: number };
  if (setup.backend !== 'webgpu') throw new Error(`the page got ${setup.backend}, not webgpu`);
  console.log(
    `[scale:browser] ${manifest.name} in Chromium, adapter ${setup.adapter}; storage binding ${setup.bound.bytes} ` +
      `bytes (${setup.bound.limit}${binding ? ', capped by --binding' : ''}), maxBufferSize ${setup.maxBufferSize}`,
  );
  const base = await heap();
  let peak = base;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      peak = Math.max(peak, await heap().catch(() => peak));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const load = (await page.evaluate(`(async () => {
    const { loadModel } = await import('/src/models/index.ts');
    const be = window.__be;
    const js = () => performance.memory.usedJSHeapSize;
    const base = js();
    let peak = base, reports = 0;
    const t = performance.now();
    window.__model = await loadModel(${JSON.stringify(modelUrl)}, be, {
      cache: false,
      allowedOrigins: ['*'],
      onProgress: () => { reports++; peak = Math.max(peak, js()); },
    });
    await be.flush();
    const ms = performance.now() - t;
    peak = Math.max(peak, js());
    return { ms, base, peak, reports, weights: window.__model.weightBytes(), pool: be.stats().pool.bytes };
  })()`)) as {
    ms: number;
    base: number;
    peak: number;
    reports: number;
    weights: { total: number; f16: number; f32: number };
    pool: number;
  };
  polling = false;
  await poll;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(
    `[scale:browser] load (stream over http → GPU, ${load.reports} progress reports): ${(load.ms / 1000).toFixed(1)} s; ` +
      `peak V8 heap + array buffers (CDP Runtime.getHeapUsage${backing ? '' : ' WITHOUT backingStorageSize'}, 20 ms polls) ${mib(peak - base)} MiB above the start ` +
      `(${mib(base)} → ${mib(peak)} MiB, start after gc; largest tensor ${mib(largest)} MiB: ${((peak - base) / largest).toFixed(2)}×); ` +
      `performance.memory.usedJSHeapSize at every report: ${mib(load.peak - load.base)} MiB above the start`,
  );
  // f16 matrices keep their bytes on the GPU (F32 vectors too): a tensor past the binding is split
  const split =
    sizes
      .filter(([, b]) => b > setup.bound.bytes)
      .map(([n]) => n)
      .join(', ') || 'none';
  console.log(
    `[scale:browser] GPU bytes: weights ${load.weights.total} (f16 ${load.weights.f16}, f32 ${load.weights.f32}); ` +
      `pool ${load.pool}; split over bindings: ${split}`,
  );
  const fwd = (await page.evaluate(`(async () => {
    const { createBackend } = await import('/src/backend/create.ts');
    const { loadModel } = await import('/src/models/index.ts');
    const be = window.__be, m = window.__model, L = ${L}, V = m.vocabSize;
    const tokens = Uint32Array.from({ length: L }, (_, i) => 5 + ((i * 7919 + 13) % (V - 6)));
    const input = { tokens, batch: 1, length: L };
    let t = performance.now();
    const g = await be.read(m.forward(input));
    const gpuMs = performance.now() - t;
    if (${skipCpu}) return { gpuMs, n: g.length };
    m.dispose();
    const cpu = await createBackend({ prefer: 'cpu' });
    const twin = await loadModel(${JSON.stringify(modelUrl)}, cpu, { cache: false, allowedOrigins: ['*'] });
    t = performance.now();
    const c = await cpu.read(twin.forward(input));
    const cpuMs = performance.now() - t;
    let worst = 0, excess = -Infinity, top = 0, finite = true;
    for (let i = 0; i < c.length; i++) {
      top = Math.max(top, Math.abs(c[i]));
      const d = Math.abs(g[i] - c[i]);
      worst = Math.max(worst, d);
      excess = Math.max(excess, d - (1e-3 + 1e-3 * Math.abs(c[i])));
      finite &&= Number.isFinite(g[i]);
    }
    return { gpuMs, cpuMs, n: c.length, worst, excess, top, finite };
  })()`)) as {
    gpuMs: number;
    cpuMs?: number;
    n: number;
    worst?: number;
    excess?: number;
    top?: number;
    finite?: boolean;
  };
  console.log(`[scale:browser] GPU forward (B 1, L ${L}, incl. readback): ${fwd.gpuMs.toFixed(0)} ms`);
  if (fwd.cpuMs !== undefined) {
    const ok = fwd.excess! <= 0 && fwd.finite;
    console.log(
      `[scale:browser] CPU twin forward ${(fwd.cpuMs / 1000).toFixed(1)} s; logits max |GPU − CPU| ${fwd.worst!.toExponential(2)} ` +
        `over ${fwd.n} values (max |logit| ${fwd.top!.toFixed(2)}): ${ok ? 'PASS' : 'FAIL'} (atol 1e-3 + rtol 1e-3)`,
    );
    if (!ok) process.exitCode = 1;
  }
} finally {
  await browser.close();
  await server.close();
  files.close();
}
