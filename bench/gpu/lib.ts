/**
 * `npm run bench:gpu` decisions, pure (unit-tested): which environment has a hardware adapter, the
 * report of what was found when none does, and the summary of a finished run — matmul GFLOP/s as a
 * fraction of the peak the user passes, and a refusal to call a software or fallback adapter a GPU.
 */
import type { AdapterSummary } from '../../src/gpu/device.js';
import type { ConfigResult } from '../sections.js';

export type GpuEnv = 'node' | 'browser';

/** What one environment's probe saw: its adapter, or why there was none. */
export interface Probe {
  env: GpuEnv;
  adapter: AdapterSummary | null;
  /** the adapter says it is a fallback adapter (WebGPU's isFallbackAdapter) */
  fallback?: boolean;
  error?: string;
}

/** Chromium flags that ask for the hardware GPU through Vulkan (headless, no display). */
export const HARDWARE_CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan',
  '--use-angle=vulkan',
  '--ignore-gpu-blocklist',
  '--disable-vulkan-surface',
];

export const isHardware = (p: Probe): boolean => !!p.adapter && !p.adapter.software && !p.fallback;

/** The first environment (Node/Dawn, then Chromium) whose adapter is hardware; undefined if none. */
export function pickEnv(probes: readonly Probe[]): GpuEnv | undefined {
  return probes.find(isHardware)?.env;
}

const name = (a: AdapterSummary) => a.description || `${a.vendor} ${a.architecture}`.trim() || 'unnamed adapter';

/** Why no hardware adapter was used: each probe's finding, the Vulkan drivers seen, what to check. */
export function notFoundReport(probes: readonly Probe[], icds: readonly string[], nvidiaSmi: string | null): string {
  const lines = ['bench:gpu: no hardware GPU adapter found; nothing was benchmarked.', ''];
  for (const p of probes)
    lines.push(
      `- ${p.env === 'node' ? 'Node + Dawn (npm webgpu)' : 'Chromium (navigator.gpu, Vulkan flags)'}: ${
        p.adapter
          ? `${name(p.adapter)} — ${p.adapter.software || p.fallback ? 'a software/fallback adapter, not a GPU' : 'hardware'}`
          : `no adapter (${p.error ?? 'requestAdapter returned null'})`
      }`,
    );
  lines.push(
    `- Vulkan ICDs: ${icds.length ? icds.join(', ') : 'none in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d'}`,
    `- nvidia-smi: ${nvidiaSmi ?? 'not found'}`,
    '',
    'Check: the GPU is visible to this process (container: --gpus all / the device plugin; SLURM: --gres=gpu:1),',
    "its Vulkan ICD is installed (NVIDIA: the driver's nvidia_icd.json), and VK_ICD_FILENAMES, if set, names it.",
  );
  return lines.join('\n');
}

export interface GpuSummary {
  env: GpuEnv;
  adapter: AdapterSummary;
  matmul?: { setting: string; gflops: number; fractionOfPeak?: number };
  forward: { model: string; batch: number; ms: number; vsCpuTwin?: number }[];
  samplers: { setting: string; value: number; unit: string }[];
}

/**
 * The summary of a finished run. Throws when any result ran on a software or fallback adapter (it must
 * not be reported as a GPU) or when there are no results.
 */
export function summarize(env: GpuEnv, results: readonly ConfigResult[], peakGflops?: number): GpuSummary {
  if (!results.length) throw new Error('bench:gpu: the run produced no results');
  const adapter = results[0].adapter;
  for (const r of results)
    if (!r.adapter || r.adapter.software)
      throw new Error(
        `bench:gpu: ${r.config.id} ran on ${r.adapter ? name(r.adapter) : 'no adapter'}, a software or fallback adapter — not reported as a GPU`,
      );
  const figs = results.flatMap((r) => r.figures);
  const mm = figs
    .filter((f) => f.section === 'kernels' && f.impl === 'ours-webgpu' && f.unit === 'GFLOP/s')
    .sort((a, b) => b.value - a.value)[0];
  const forward = figs
    .filter((f) => f.section === 'forward' && f.impl === 'ours-webgpu')
    .map((f) => {
      const cpu = figs.find(
        (g) => g.section === 'forward' && g.impl === 'ours-cpu' && g.model === f.model && g.batch === f.batch,
      );
      return {
        model: f.model ?? '?',
        batch: f.batch ?? 0,
        ms: f.value,
        ...(cpu ? { vsCpuTwin: cpu.value / f.value } : {}),
      };
    });
  const samplers = figs
    .filter((f) => f.section === 'samplers' && f.impl === 'ours-webgpu')
    .map((f) => ({ setting: `${f.metric}${f.setting ? ` ${f.setting}` : ''}`, value: f.value, unit: f.unit }));
  return {
    env,
    adapter: adapter!,
    ...(mm
      ? {
          matmul: {
            setting: mm.setting ?? '',
            gflops: mm.value,
            ...(peakGflops ? { fractionOfPeak: mm.value / peakGflops } : {}),
          },
        }
      : {}),
    forward,
    samplers,
  };
}

/** The summary as Markdown. */
export function summaryMarkdown(s: GpuSummary, peakGflops?: number): string {
  const out = [
    `# bench:gpu — ${name(s.adapter)} (${s.env === 'node' ? 'Node + Dawn' : 'Chromium'})`,
    '',
    `adapter: vendor ${s.adapter.vendor}, architecture ${s.adapter.architecture}, device ${s.adapter.device}`,
    '',
  ];
  if (s.matmul)
    out.push(
      `matmul ${s.matmul.setting}: ${s.matmul.gflops.toFixed(1)} GFLOP/s` +
        (s.matmul.fractionOfPeak !== undefined
          ? ` = ${(100 * s.matmul.fractionOfPeak).toFixed(1)} % of the ${peakGflops} GFLOP/s peak given`
          : ' (pass --peak-gflops for the fraction of peak)'),
      '',
    );
  if (s.forward.length) {
    out.push('| forward | batch | ms | × our CPU twin |', '|---|---|---|---|');
    for (const f of s.forward)
      out.push(`| ${f.model} | ${f.batch} | ${f.ms.toFixed(3)} | ${f.vsCpuTwin ? f.vsCpuTwin.toFixed(1) : '—'} |`);
    out.push('');
  }
  if (s.samplers.length) {
    out.push('| sampler | value | unit |', '|---|---|---|');
    for (const x of s.samplers) out.push(`| ${x.setting} | ${x.value.toPrecision(4)} | ${x.unit} |`);
  }
  return out.join('\n') + '\n';
}
