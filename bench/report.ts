/**
 * The bench report: ratios between figures of one configuration (so both sides were measured in the
 * same process or page, on the same adapter, minutes apart at most) and the Markdown summary.
 */
import { profileTable } from './profile.js';
import type { AdapterSummary } from '../src/gpu/device.js';
import type { ConfigResult, Figure } from './sections.js';

export interface Ratio {
  env: 'node' | 'browser';
  config: string;
  comparison: string;
  /** how the ratio is formed, e.g. "peer ms ÷ our ms (> 1: ours faster)" */
  definition: string;
  ratio: number;
  /** 'yes': both sides ran on the (software) GPU; 'partly': one side did; 'no': CPU only */
  adapterBound: 'yes' | 'partly' | 'no';
  goal?: string;
}

export interface Report {
  date: string;
  commit: string;
  quick: boolean;
  shard: string;
  argv: string[];
  host: { platform: string; cpus: number; node: string; loadavg?: number[] };
  adapters: Record<string, AdapterSummary | Record<string, unknown> | null>;
  results: ConfigResult[];
  ratios: Ratio[];
  /** configurations that failed (validation, timeout, crash): reported, never silently dropped */
  failures?: { id: string; error: string }[];
}

const bound = (a: Figure, b: Figure): Ratio['adapterBound'] =>
  a.adapterBound && b.adapterBound ? 'yes' : a.adapterBound || b.adapterBound ? 'partly' : 'no';
const IMPL: Record<Figure['impl'], string> = {
  'ours-webgpu': 'ours WebGPU',
  'ours-cpu': 'ours CPU',
  'ort-webgpu': 'ORT-web WebGPU EP',
  'ort-wasm': 'ORT-web wasm EP',
};

/** Ratios within each configuration: ours vs every peer, webgpu vs the CPU twin, sampler vs sampler. */
export function ratios(results: readonly ConfigResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of results) {
    const f = r.figures;
    const push = (comparison: string, definition: string, ratio: number, a: Figure, b: Figure, goal?: string) =>
      out.push({
        env: r.env,
        config: r.config.id,
        comparison,
        definition,
        ratio,
        adapterBound: bound(a, b),
        ...(goal ? { goal } : {}),
      });
    if (r.config.section === 'forward') {
      const ours = f.find((x) => x.impl === 'ours-webgpu');
      if (!ours) continue;
      const shape = `B=${ours.batch}${ours.length ? ` L=${ours.length}` : ''}`;
      for (const p of f.filter((x) => x !== ours)) {
        const ratio = p.value / ours.value;
        const goal =
          p.impl === 'ort-webgpu' && ours.batch === 1 ? `goal ≥ 2×: ${ratio >= 2 ? 'met' : 'not met'}` : undefined;
        push(
          `${ours.model} forward ${shape}: ours WebGPU vs ${IMPL[p.impl]}`,
          'peer ms ÷ our ms (> 1: ours faster)',
          ratio,
          ours,
          p,
          goal,
        );
      }
    }
    if (r.config.section === 'kernels') {
      for (const g of f.filter((x) => x.impl === 'ours-webgpu')) {
        const c = f.find((x) => x.impl === 'ours-cpu' && x.setting === g.setting);
        if (c) push(`matmul ${g.setting}: WebGPU kernel vs CPU twin`, 'GFLOP/s ÷ GFLOP/s', g.value / c.value, g, c);
      }
    }
    if (r.config.section === 'samplers') {
      const by = (model: string, prefix: string) => f.filter((x) => x.model === model && x.setting?.startsWith(prefix));
      for (const [model, a, b, label] of [
        ['text-mdm', 'fhs', 'ancestral', 'FHS vs'],
        ['text-asarm', 'assd', 'sequential', 'ASSD vs'],
        ['text-mam', 'marginal', 'chain', 'MaM one-pass marginal vs'],
      ] as const) {
        const x = by(model, a)[0];
        for (const y of x ? by(model, b) : []) {
          push(
            `${model} L=${x.length}: ${label} ${y.setting}, tokens/s`,
            'tokens/s ÷ tokens/s',
            x.value / y.value,
            x,
            y,
          );
          if (x.nfe && y.nfe)
            push(
              `${model} L=${x.length}: ${label} ${y.setting}, NFE`,
              'their NFE ÷ this NFE (> 1: fewer passes)',
              y.nfe / x.nfe,
              x,
              y,
            );
        }
      }
    }
  }
  return out;
}

const num = (v: number) =>
  Math.abs(v) >= 100
    ? v.toFixed(0)
    : Math.abs(v) >= 10
      ? v.toFixed(1)
      : Math.abs(v) >= 0.1
        ? v.toFixed(2)
        : v.toPrecision(2);
const adapterText = (a: AdapterSummary | Record<string, unknown> | null | undefined) =>
  !a ? '—' : `${String(a.description || `${a.vendor} ${a.architecture}`)}${a.software ? ' (software)' : ''}`;

export function markdown(rep: Report): string {
  const lines: string[] = [];
  lines.push(
    `## samplescope bench — ${rep.date.slice(0, 16).replace('T', ' ')} UTC, commit ${rep.commit}${rep.quick ? ', --quick' : ''}${rep.shard !== '0/1' ? `, shard ${rep.shard}` : ''}`,
  );
  lines.push('');
  lines.push(
    `Host: ${rep.host.platform}, ${rep.host.cpus} CPU cores, Node ${rep.host.node}${rep.host.loadavg ? `, load average ${rep.host.loadavg.map((x) => x.toFixed(1)).join(' / ')}` : ''}.`,
  );
  for (const [k, a] of Object.entries(rep.adapters)) lines.push(`- ${k}: ${adapterText(a)}`);
  lines.push('');
  lines.push(
    'Adapter-bound = measured on the GPU adapter above; on a software adapter (SwiftShader, lavapipe) these figures and the ratios built on them say little about real GPUs.',
  );
  lines.push('');
  lines.push(
    '| env | section | model | setting | B | L | impl | median | IQR | runs | NFE | peak GPU MiB | adapter-bound |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rep.results) {
    for (const f of r.figures) {
      lines.push(
        `| ${r.env} | ${f.section} | ${f.model ?? ''} | ${f.setting ?? ''} | ${f.batch ?? ''} | ${f.length ?? ''} | ${IMPL[f.impl]} | ${num(f.value)} ${f.unit} | ${num(f.iqr)} | ${f.runs} | ${f.nfe !== undefined ? num(f.nfe) : ''} | ${f.peakGpuBytes ? (f.peakGpuBytes / 2 ** 20).toFixed(2) : ''} | ${f.adapterBound ? 'yes' : 'no'} |`,
      );
    }
  }
  lines.push('');
  lines.push('Ratios (both sides measured in the same configuration: the same process or page, the same adapter):');
  lines.push('');
  lines.push('| env | comparison | ratio | defined as | adapter-bound |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const q of rep.ratios)
    lines.push(
      `| ${q.env} | ${q.comparison} | **${num(q.ratio)}×**${q.goal ? ` (${q.goal})` : ''} | ${q.definition} | ${q.adapterBound} |`,
    );
  lines.push('');
  const v = rep.results.flatMap((r) => r.validations.map((x) => ({ env: r.env, ...x })));
  if (rep.failures?.length) {
    lines.push(`**${rep.failures.length} configuration(s) failed** (no figures from them; the run exits 1):`);
    lines.push('');
    for (const f of rep.failures) lines.push(`- ${f.id}: ${f.error.replace(/\s+/g, ' ')}`);
    lines.push('');
  }
  lines.push(`Validated before timing (${v.length} checks, all passed; |Δ| ≤ atol + rtol·|ref|):`);
  lines.push('');
  lines.push('| env | check | max abs diff | atol, rtol |');
  lines.push('| --- | --- | --- | --- |');
  for (const x of v) lines.push(`| ${x.env} | ${x.what} | ${x.maxAbsDiff.toExponential(1)} | ${x.atol}, ${x.rtol} |`);
  for (const r of rep.results) {
    if (!r.profile) continue;
    const c = r.config;
    lines.push(
      '',
      profileTable(
        `profile: ${r.env} (${r.adapter ? adapterText(r.adapter) : 'webgpu'}), ${c.model} B=${c.batch}${c.length ? ` L=${c.length}` : ''}`,
        r.profile,
      ),
    );
  }
  return lines.join('\n') + '\n';
}
