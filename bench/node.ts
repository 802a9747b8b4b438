/**
 * One bench configuration in a fresh Node process on Dawn (the `webgpu` package), started by
 * bench/run.ts: `node --import tsx bench/node.ts '<config json>' <result file>`. Writes the
 * ConfigResult as JSON to the result file; a failure prints its message and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { createBackend } from '../src/backend/create.js';
import type { WebGPUBackend } from '../src/backend/webgpu.js';
import { runSection, type BenchConfig, type Host } from './sections.js';
import { trackGpuMemory, type GpuMemory } from './util.js';

const t0 = performance.now();
const [cfgJson, outFile] = process.argv.slice(2);
const config = JSON.parse(cfgJson) as BenchConfig;
const trackers = new WeakMap<object, GpuMemory>();

const host: Host = {
  env: 'node',
  modelPath: (name) => `models/${name}`,
  async webgpu() {
    const be = (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend;
    // count from the first buffer the runtime makes after its 16-byte dummy
    trackers.set(be, trackGpuMemory(be.runtime.device));
    return be;
  },
  peakBytes: (be) => trackers.get(be)?.peakOf(be.runtime.device) ?? 0,
};

try {
  const { result, ctx } = await runSection(host, config, t0);
  writeFileSync(outFile, JSON.stringify(result));
  ctx.be.destroy();
  process.exit(0);
} catch (e) {
  console.error(`${(e as Error).name}: ${(e as Error).message}`);
  process.exit(1);
}
