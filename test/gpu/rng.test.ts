// The GPU Philox stream is bit-identical to the CPU twin; the uniform transforms are exact (both
// build the same f32 from integers); the Gumbel transforms agree within atol 1e-5 + rtol 1e-5
// (WGSL's log is only accurate to ~2^-21 absolute near 1) — except the naive Gumbel, whose
// −log(u) for u near 1 turns that absolute error into a large relative one (part of why the naive
// mode is inexact): atol 1e-3 + rtol 1e-4 there, which the WGSL spec does not promise (the naive
// mode follows the driver's log: its far-tail draws may differ between drivers and from the twin).
// Normals: per value r·(2^-11 + 2^-20) + 1e-6 (test/util/wgsl-accuracy.ts: cos/sin's spec bound on
// [−π, π], scaled by the radius). Then the rare-event test: with the
// importance slice of probability 2^-24, the precise Gumbel exceeds the 1e-8 quantile at the right
// conditional rate (1e-8 / 2^-24 ≈ 0.168) while naive-f32 never does.
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend } from '../util/gpu.js';
import type { RngOptions } from '../../src/ops/rng.js';
import { normalPairTolerance } from '../util/wgsl-accuracy.js';

describe('rng (webgpu vs twin)', () => {
  it('u32 Philox stream is bit-identical', async () => {
    const gpu = await gpuBackend();
    for (const o of [
      { count: 5000, seed: 0 },
      { count: 333, seed: 2n ** 64n - 1n, stream: [7, 0xffffffff, 3] },
      { count: 1, seed: 123456789, stream: [0, 0, 1] },
    ] as RngOptions[]) {
      const want = await cpu.read(cpu.rng({ ...o, output: 'u32' }));
      const got = await gpu.read(gpu.rng({ ...o, output: 'u32' }));
      expect(got).toEqual(want);
    }
  });

  it('uniform transforms are exact; Gumbel transforms agree to float tolerance', async () => {
    const gpu = await gpuBackend();
    for (const output of ['uniform', 'uniform-naive', 'gumbel', 'gumbel-naive'] as const) {
      // naive Gumbels in the top slice are −log(−log(1 − 2^-24)): the GPU's log there is only
      // accurate to 2^-21 absolute, so the cap itself is adapter-dependent (16.09 on lavapipe vs
      // 16.64 in f64); the rare-event test below checks the cap instead.
      for (const tailSlice of output === 'gumbel-naive' ? [0] : [0, 24, 40]) {
        const o: RngOptions = { count: 4000, seed: 99, stream: [1, 2, 3], output, tailSlice };
        const want = await cpu.read(cpu.rng(o));
        const got = await gpu.read(gpu.rng(o));
        const [atol, rtol] = output === 'gumbel' ? [1e-5, 1e-5] : output === 'gumbel-naive' ? [1e-3, 1e-4] : [0, 0];
        expectClose(got, want, atol, rtol, `${output} slice ${tailSlice}`);
      }
    }
  });

  it('normal output agrees with the twin within the WGSL spec bound r·(2^-11 + 2^-20) + 1e-6 per value', async () => {
    const gpu = await gpuBackend();
    const o: RngOptions = { count: 5000, seed: 7, stream: [4, 5, 6], output: 'normal' };
    const want = await cpu.read(cpu.rng(o));
    expectClose(await gpu.read(gpu.rng(o)), want, normalPairTolerance(want), 1e-6, 'normal');
  });

  it('precise Gumbels hit the 1e-8 tail at the right rate; naive-f32 never does', async () => {
    const gpu = await gpuBackend();
    const n = 20000; // values (10000 counters × 2)
    const g8 = -Math.log(-Math.log1p(-1e-8)); // P(G > g8) = 1e-8
    const pCond = 1e-8 / 2 ** -24; // ≈ 0.1678 inside the 2^-24 slice
    const precise = (await gpu.read(
      gpu.rng({ count: n / 2, seed: 2024, output: 'gumbel', tailSlice: 24 }),
    )) as Float32Array;
    const naive = (await gpu.read(
      gpu.rng({ count: n / 2, seed: 2024, output: 'gumbel-naive', tailSlice: 24 }),
    )) as Float32Array;
    const hits = precise.filter((g) => g > g8).length;
    const sd = Math.sqrt(n * pCond * (1 - pCond));
    // 5 standard deviations (fixed seed): a transform truncated anywhere below ~20 fails this
    expect(Math.abs(hits - n * pCond)).toBeLessThan(5 * sd);
    // deeper: P(G > g) for g at 1e-9 within the slice
    const g9 = -Math.log(-Math.log1p(-1e-9));
    const p9 = 1e-9 / 2 ** -24;
    const hits9 = precise.filter((g) => g > g9).length;
    expect(Math.abs(hits9 - n * p9)).toBeLessThan(5 * Math.sqrt(n * p9 * (1 - p9)));
    expect(naive.filter((g) => g > g8).length).toBe(0);
    expect(Math.max(...naive)).toBeLessThan(16.7);
  });
});
