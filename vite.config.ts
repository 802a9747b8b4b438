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

// One config for the demo site (vite dev/build/preview), the <sample-scope> bundle
// (`vite build --mode element` → dist/element/sample-scope.js, worker included) and the tests.
export default defineConfig(({ mode }) => ({
  // the element bundle finds its worker next to itself, wherever it is served
  base: mode === 'element' ? './' : '/',
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 5173 },
  // keepNames: typed errors are named by their class (errors.ts: new.target.name) and revived by
  // that name across the worker boundary; a minifier that renames classes would turn them into Errors
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  plugins: mode === 'element' ? [] : [models()],
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
