// npm run bench:gpu's decisions (bench/gpu/lib.ts): a software or fallback adapter is never picked nor
// summarised as a GPU; the report of a machine without one names each probe's finding and the drivers;
// a finished run's summary gives matmul GFLOP/s as a fraction of the peak passed and forward × the CPU twin.
import { describe, expect, it } from 'vitest';
import { notFoundReport, pickEnv, summarize, summaryMarkdown, type Probe } from '../../bench/gpu/lib.js';
import type { ConfigResult, Figure } from '../../bench/sections.js';
import type { AdapterSummary } from '../../src/gpu/device.js';

const HW: AdapterSummary = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: '',
  description: 'NVIDIA H200',
  software: false,
};
const SW: AdapterSummary = {
  vendor: 'google',
  architecture: '',
  device: '',
  description: 'swiftshader',
  software: true,
};

const fig = (f: Partial<Figure>): Figure =>
  ({
    section: 'kernels',
    metric: 'm',
    unit: 'ms',
    impl: 'ours-webgpu',
    value: 1,
    iqr: 0,
    runs: 1,
    adapterBound: true,
    ...f,
  }) as Figure;
const result = (adapter: AdapterSummary | null, figures: Figure[], id = 'node/x'): ConfigResult =>
  ({ config: { id }, env: 'node', adapter, figures, validations: [], wallMs: 1 }) as unknown as ConfigResult;

describe('bench:gpu', () => {
  it('picks the first hardware adapter, never a software or fallback one', () => {
    const p = (env: Probe['env'], adapter: AdapterSummary | null, fallback = false): Probe => ({
      env,
      adapter,
      fallback,
    });
    expect(pickEnv([p('node', SW), p('browser', HW)])).toBe('browser');
    expect(pickEnv([p('node', HW), p('browser', HW)])).toBe('node');
    expect(pickEnv([p('node', null), p('browser', SW)])).toBeUndefined();
    expect(pickEnv([p('node', HW, true)])).toBeUndefined();
  });

  it('says what each probe found and which Vulkan drivers exist when there is no GPU', () => {
    const text = notFoundReport(
      [
        { env: 'node', adapter: null, error: 'requestAdapter returned null' },
        { env: 'browser', adapter: SW },
      ],
      ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'],
      null,
    );
    expect(text).toMatch(/no hardware GPU adapter found; nothing was benchmarked/);
    expect(text).toMatch(/Node \+ Dawn .*: no adapter \(requestAdapter returned null\)/);
    expect(text).toMatch(/Chromium .*: swiftshader — a software\/fallback adapter, not a GPU/);
    expect(text).toMatch(/lvp_icd/);
    expect(text).toMatch(/nvidia-smi: not found/);
  });

  it('summarises a hardware run (fraction of peak, × CPU twin) and refuses one on a software adapter', () => {
    const figures = [
      fig({ unit: 'GFLOP/s', metric: 'matmul GFLOP/s', value: 30000, setting: '2048×2048×2048' }),
      fig({ unit: 'GFLOP/s', metric: 'matmul GFLOP/s', value: 900, setting: '256×256×256' }),
      fig({ section: 'forward', model: 'text-mdm', batch: 64, value: 2 }),
      fig({ section: 'forward', model: 'text-mdm', batch: 64, impl: 'ours-cpu', value: 500 }),
    ];
    const s = summarize('node', [result(HW, figures)], 60000);
    expect(s.matmul).toEqual({ setting: '2048×2048×2048', gflops: 30000, fractionOfPeak: 0.5 });
    expect(s.forward).toEqual([{ model: 'text-mdm', batch: 64, ms: 2, vsCpuTwin: 250 }]);
    expect(summaryMarkdown(s, 60000)).toMatch(/30000\.0 GFLOP\/s = 50\.0 % of the 60000 GFLOP\/s peak given/);
    expect(() => summarize('node', [result(HW, figures), result(SW, figures, 'node/y')])).toThrow(
      /node\/y ran on swiftshader, a software or fallback adapter — not reported as a GPU/,
    );
    expect(() => summarize('node', [])).toThrow(/no results/);
  });
});
