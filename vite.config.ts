/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// One config for the demo (vite dev/build/preview), the library's browser bundle and the tests.
export default defineConfig({
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 5173 },
  worker: { format: 'es' },
  build: {
    outDir: 'dist/site',
    target: 'es2022',
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, 'index.html') },
    },
  },
  test: {
    // GPU and browser tests share 2 cores and one software adapter: run files one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      { extends: true, test: { name: 'gpu', include: ['test/gpu/**/*.test.ts'], environment: 'node', pool: 'forks' } },
      { extends: true, test: { name: 'samplers', include: ['test/samplers/**/*.test.ts'], environment: 'node', pool: 'forks' } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', pool: 'forks' } },
    ],
  },
});
