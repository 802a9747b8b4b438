/**
 * `npm run bench` command line (bench/options.ts, bench/run.ts): the configuration grid, shards that
 * partition it, and bad configurations that end with a clear message and exit status 2 before
 * anything is launched.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BenchConfigError, buildConfigs, checkEnvironment, parseOptions } from '../../bench/options.js';
import { stats } from '../../bench/util.js';

describe('bench options', () => {
  it('--quick is a small grid in Node and Chromium, with the ORT peers only in the browser', () => {
    const o = parseOptions(['--quick']);
    const cs = buildConfigs(o);
    expect(cs.map((c) => c.id)).toContain('browser/forward/text-mdm/b1-l16');
    expect(cs.every((c) => c.env === 'browser' || !c.peers?.some((p) => p.startsWith('ort-')))).toBe(true);
    expect(cs.find((c) => c.id === 'browser/forward/text-mdm/b1-l16')?.peers).toEqual([
      'ours-cpu',
      'ort-webgpu',
      'ort-wasm',
    ]);
    expect(new Set(cs.map((c) => c.id)).size).toBe(cs.length);
  });

  it('the full grid has batch 1 and 64 and shards partition it', () => {
    const all = buildConfigs(parseOptions([]));
    expect(all.filter((c) => c.section === 'forward').map((c) => c.batch)).toEqual(expect.arrayContaining([1, 64]));
    const parts = [0, 1, 2].map((i) => buildConfigs(parseOptions(['--shard', `${i}/3`])).map((c) => c.id));
    expect(parts.flat().sort()).toEqual(all.map((c) => c.id).sort());
  });

  it('the profile section runs only when asked, per model in Node and Chromium, without peers', () => {
    expect(buildConfigs(parseOptions([])).some((c) => c.section === 'profile')).toBe(false);
    const cs = buildConfigs(parseOptions(['--only', 'profile', '--quick']));
    expect(cs.map((c) => c.id)).toEqual([
      'node/profile/text-mdm/b1-l16',
      'node/profile/digits-diffusion/b1',
      'browser/profile/text-mdm/b1-l16',
      'browser/profile/digits-diffusion/b1',
    ]);
    expect(cs.every((c) => c.peers === undefined)).toBe(true);
  });

  it('bad configurations name the problem', () => {
    const bad: [string[], RegExp][] = [
      [['--models', 'gpt-9'], /unknown model 'gpt-9' \(known: text-mdm, digits-diffusion\)/],
      [['--only', 'kernels,nope'], /unknown section 'nope'/],
      [['--env', 'safari'], /unknown env 'safari'/],
      [['--shard', '2/2'], /--shard must be i\/n/],
      [['--batches', '0'], /--batches takes integers ≥ 1/],
      [['--length', '512'], /exceeds text-mdm's max_len/],
      [['--frobnicate'], /unknown option '--frobnicate'/],
      [['--runs'], /--runs needs a value/],
    ];
    for (const [argv, msg] of bad) expect(() => parseOptions(argv), argv.join(' ')).toThrow(msg);
    const o = parseOptions(['--quick', '--chromium', '/nonexistent/chromium']);
    expect(() => checkEnvironment(o, buildConfigs(o))).toThrow(BenchConfigError);
    expect(() => checkEnvironment(o, buildConfigs(o))).toThrow(/Chromium not found at \/nonexistent\/chromium/);
  });

  it('median and IQR', () => {
    expect(stats([5, 1, 3, 2, 4])).toEqual({ median: 3, iqr: 2, runs: 5 });
  });

  it('the runner exits 2 with the message, before launching anything', () => {
    for (const [argv, msg] of [
      [['--models', 'nope'], /unknown model 'nope'/],
      [['--chromium', '/nonexistent', '--env', 'browser'], /Chromium not found/],
    ] as const) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...argv], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
