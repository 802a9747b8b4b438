/**
 * The bench page (bench/browser/index.html), loaded in a fresh headless Chromium per configuration
 * by bench/run.ts. `window.__bench(config)` runs one configuration (bench/sections.ts) on this
 * page's WebGPU adapter and, for `forward`, the ORT peers on the same adapter; it hands the result
 * (or the error) to `window.__benchReport`, which the runner exposes.
 */
import { createBackend } from '../../src/backend/create.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { runSection, type BenchConfig, type ConfigResult, type Host } from '../sections.js';
import { assertClose, stats, trackGpuMemory } from '../util.js';
import { ortSession } from './ort.js';

const t0 = performance.now();
// before any device exists: every buffer of every device on this page (ours and ORT's) is counted
const memory = typeof GPUDevice !== 'undefined' ? trackGpuMemory(GPUDevice.prototype) : null;

const host: Host = {
  env: 'browser',
  modelPath: (name) => `/models/${name}/`,
  webgpu: async () => (await createBackend({ prefer: 'webgpu' })) as WebGPUBackend,
  peakBytes: (be) => memory?.peakOf(be.runtime.device) ?? 0,
};

declare global {
  interface Window {
    __bench(config: BenchConfig): Promise<void>;
    __benchReport(json: string): Promise<void>;
    __benchReady?: boolean;
  }
}

async function run(config: BenchConfig): Promise<ConfigResult> {
  const { result, forward, ctx } = await runSection(host, config, t0);
  if (forward) {
    // peers: validate against our CPU reference output first, then time the same way as ours
    for (const ep of ['webgpu', 'wasm'] as const) {
      const impl = `ort-${ep}` as const;
      if (!config.peers?.includes(impl)) continue;
      const s = await ortSession(ep, forward.inputs);
      const what = `${config.model} B=${config.batch}${config.model === 'text-mdm' ? ` L=${config.length}` : ''}: ORT ${ep} EP vs ours cpu`;
      const tol = { atol: 2e-3, rtol: 2e-3 };
      result.validations.push({
        what,
        maxAbsDiff: assertClose(what, await s.run(), forward.reference, tol.atol, tol.rtol),
        ...tol,
      });
      for (let i = 1; i < config.warmup; i++) await s.run(); // the validation run was the first warm-up
      const ms: number[] = [];
      for (let i = 0; i < config.runs; i++) {
        const a = performance.now();
        await s.run();
        ms.push(performance.now() - a);
      }
      const st = stats(ms);
      result.figures.push({
        section: 'forward',
        metric: 'forward ms',
        unit: 'ms',
        impl,
        model: config.model,
        batch: config.batch,
        ...(config.model === 'text-mdm' ? { length: config.length } : {}),
        value: st.median,
        iqr: st.iqr,
        runs: st.runs,
        adapterBound: ep === 'webgpu' && !!result.adapter?.software,
        ...(s.device ? { peakGpuBytes: memory?.peakOf(s.device) ?? 0 } : {}),
      });
      if (s.device) {
        const info = s.device.adapterInfo;
        result.peerAdapters = {
          ...result.peerAdapters,
          [impl]: {
            vendor: info.vendor,
            architecture: info.architecture,
            device: info.device,
            description: info.description,
          },
        };
      }
      await s.release();
    }
  }
  ctx.be.destroy();
  result.wallMs = performance.now() - t0;
  return result;
}

window.__bench = async (config) => {
  let msg: string;
  try {
    msg = JSON.stringify({ ok: true, result: await run(config) });
  } catch (e) {
    msg = JSON.stringify({ ok: false, error: `${(e as Error).name}: ${(e as Error).message}` });
  }
  await window.__benchReport(msg);
};
window.__benchReady = true;
