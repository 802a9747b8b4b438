/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = import.meta.dirname;

/** the demo pages: index.html and demos/<name>/index.html */
function pages(): Record<string, string> {
  const input: Record<string, string> = { main: resolve(root, 'index.html') };
  for (const d of readdirSync(resolve(root, 'demos'))) {
    const f = resolve(root, 'demos', d, 'index.html');
    if (existsSync(f)) input[d] = f;
  }
  return input;
}

/**
 * Models for the site: /models/index.json lists the model folders (the dev server answers it; the
 * build writes it), and the build copies models/ into the output so the static site can load them.
 */
function models(): Plugin {
  const dir = resolve(root, 'models');
  const list = () =>
    JSON.stringify({
      models: readdirSync(dir)
        .filter((d) => existsSync(join(dir, d, 'manifest.json')))
        .sort(),
    });
  let outDir = '';
  return {
    name: 'samplescope-models',
    // only a build writes (vite and vitest servers also call closeBundle when they close)
    configResolved(c) {
      outDir = c.command === 'build' ? resolve(c.root, c.build.outDir) : '';
    },
    configureServer(server) {
      server.middlewares.use('/models/index.json', (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(list());
      });
    },
    closeBundle() {
      if (!outDir) return;
      cpSync(dir, join(outDir, 'models'), { recursive: true });
      writeFileSync(join(outDir, 'models', 'index.json'), list());
    },
  };
}

/** Every page's security policy: same-origin only, no inline script or style, Trusted Types (Lit's policy and ours). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "worker-src 'self'; object-src 'none'; base-uri 'self'; require-trusted-types-for 'script'; " +
  'trusted-types lit-html samplescope';

/** The demo pages' navigation, in order. */
const NAV: [string, string][] = [
  ['/', 'home'],
  ['/demos/text-mdm/', 'text MDM: FHS vs ancestral'],
  ['/demos/asarm/', 'AS-ARM: ASSD, speculative vs sequential'],
  ['/demos/mam/', 'MaM: score text / Ising'],
  ['/demos/digits/', 'digits diffusion'],
  ['/demos/pareto/', 'Pareto explorer'],
  ['/demos/replication/', 'replication report'],
  ['/demos/your-model/', 'your model'],
  ['/demos/kernel/', 'kernels'],
];

/**
 * What every demo page shares, written once here: `<!-- page-head -->` becomes the CSP, viewport and icon
 * (`<!-- page-head wasm -->`: the CSP also allows compiling WebAssembly, 'wasm-unsafe-eval', and blob:
 * workers, which onnxruntime-web needs — only pages that load ONNX models say so), and an empty
 * `<nav class="demos" aria-label="demos"></nav>` the navigation with the page itself marked. A demo page
 * without the placeholder is refused (it would have no CSP); other pages (the bench page) pass through.
 */
function pageChrome(): Plugin {
  return {
    name: 'samplescope-page-chrome',
    transformIndexHtml(html, ctx) {
      if (!/^\/(index\.html|demos\/[^/]+\/index\.html)$/.test(ctx.path)) return html;
      const head = /<!-- page-head( wasm)? -->/.exec(html);
      if (!head) throw new Error(`${ctx.path}: no <!-- page-head --> (the CSP goes there)`);
      // onnxruntime-web compiles wasm and may fetch/run its worker from a blob: URL
      const csp = head[1]
        ? CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
            .replace("connect-src 'self'", "connect-src 'self' blob:")
            .replace("worker-src 'self'", "worker-src 'self' blob:")
        : CSP;
      const here = ctx.path.replace(/index\.html$/, '');
      const links = NAV.map(
        ([href, label]) => `<a href="${href}"${href === here ? ' aria-current="page"' : ''}>${label}</a>`,
      ).join('\n      ');
      return html
        .replace(
          head[0],
          `<meta http-equiv="Content-Security-Policy" content="${csp}" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />`,
        )
        .replace(
          '<nav class="demos" aria-label="demos"></nav>',
          `<nav class="demos" aria-label="demos">\n      ${links}\n    </nav>`,
        );
    },
  };
}

/**
 * Cross-origin isolation (everything the site loads is its own): it gives the pages SharedArrayBuffer, so the
 * fast CPU path (onnxruntime-web's wasm EP) runs on several threads. A host that omits these still works, on
 * one thread, and the notice says why (src/models/onnx/threads.ts).
 */
export const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// One config for the demo site (vite dev/build/preview), the <sample-scope> bundle
// (`vite build --mode element` → dist/element/sample-scope.js, worker included) and the tests.
export default defineConfig(({ mode }) => ({
  // the element bundle finds its worker next to itself, wherever it is served
  base: mode === 'element' ? './' : '/',
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: ISOLATION },
  preview: { host: '127.0.0.1', port: 5173, headers: ISOLATION },
  // keepNames: typed errors are named by their class (errors.ts: new.target.name) and revived by
  // that name across the worker boundary; a minifier that renames classes would turn them into Errors
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  plugins: mode === 'element' ? [] : [models(), pageChrome()],
  build:
    mode === 'element'
      ? {
          outDir: 'dist/element',
          target: 'es2022',
          copyPublicDir: false,
          lib: { entry: resolve(root, 'src/ui/index.ts'), formats: ['es'], fileName: () => 'sample-scope.js' },
          rolldownOptions: { output: { keepNames: true } },
        }
      : {
          outDir: 'dist/site',
          target: 'es2022',
          rolldownOptions: { input: pages(), output: { keepNames: true } },
        },
  test: {
    // GPU and browser tests share 2 cores and one software adapter: run files one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      { extends: true, test: { name: 'gpu', include: ['test/gpu/**/*.test.ts'], environment: 'node', pool: 'forks' } },
      {
        extends: true,
        test: { name: 'samplers', include: ['test/samplers/**/*.test.ts'], environment: 'node', pool: 'forks' },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', pool: 'forks' } },
      // schedulers run for real (a local SLURM): skipped unless SAMPLESCOPE_SLURM_TEST=1 (npm run test:slurm)
      {
        extends: true,
        test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], environment: 'node', pool: 'forks' },
      },
    ],
  },
}));
