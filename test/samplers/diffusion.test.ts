// Diffusion samplers on a 2-D Gaussian-mixture toy whose optimal ε̂ is exact (test/util/gmm.ts),
// CPU backend, fixed seeds.
// - Class 1 is one Gaussian N(μ, s²I), so every sampler is a linear-Gaussian chain whose output
//   variance is computable exactly, including the discretisation error of few steps (DDIM-50 on
//   this schedule keeps only 71% of the variance). The test computes that variance with its own
//   textbook formulas (DDPM in the ε form of Ho et al., DDIM of Song et al.) — not the sampler's —
//   and requires the sample variance ratio within 5·√(2/N) of it (N = 20,000) and the mean within
//   5 sd.
// - Class 0 is a two-mode mixture: at 1000 steps, mean within 5 sd + 0.01, variance ratio within
//   5·√(2/N) + 0.05 of the data's, minor-mode mass 0.3 within 5 sd + 0.02 (N = 4,000); few-step
//   samplers must keep the modes' masses.
// - DDPM (posterior form) and DDIM with η = 1 use different formulas for the same chain: with the
//   same seed their sample paths must agree to 1e-3.
// Guidance s = 1 is the conditional model (one pass per step), s = 0 the unconditional one (one pass on the
// null class); guided steps cost two; typed errors.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { SamplerConfigError } from '../../src/errors.js';
import { sampleDiffusion, timestepGrid, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { GmmDenoiser, mixtureOf, moments } from '../util/gmm.js';

const cpu = new CpuBackend();
const model = new GmmDenoiser(cpu);
const N = 4000;

function points(images: Float32Array): [number, number][] {
  const p: [number, number][] = [];
  for (let i = 0; i < images.length; i += 2) p.push([2 * images[i] - 1, 2 * images[i + 1] - 1]);
  return p;
}

function checkAgainstExact(pts: [number, number][], cls: number) {
  const ex = moments(mixtureOf(cls));
  for (let a = 0; a < 2; a++) {
    const m = pts.reduce((s, p) => s + p[a], 0) / pts.length;
    const v = pts.reduce((s, p) => s + (p[a] - m) ** 2, 0) / (pts.length - 1);
    expect(Math.abs(m - ex.mean[a]), `mean axis ${a}`).toBeLessThan(5 * Math.sqrt(ex.var[a] / pts.length) + 0.01);
    expect(Math.abs(v / ex.var[a] - 1), `variance axis ${a}`).toBeLessThan(5 * Math.sqrt(2 / pts.length) + 0.05);
  }
  if (cls === 0) {
    const minor = pts.filter((p) => p[1] > 0.1).length / pts.length;
    expect(Math.abs(minor - 0.3)).toBeLessThan(5 * Math.sqrt(0.21 / pts.length) + 0.02);
  }
}

const base = { batch: N, clip: false } as const;

/** Output variance / data variance of a sampler on N(0, s²): independent textbook formulas. */
function exactChainVarianceRatio(sampler: 'ddpm' | 'ddim', S: number, eta: number, s: number): number {
  const ab = model.alphasCumprod,
    T = model.timesteps;
  const ts = Array.from({ length: S }, (_, i) => (S === 1 ? T - 1 : Math.round((T - 1) * (1 - i / (S - 1)))));
  let v = 1; // x_T ~ N(0, 1)
  for (let i = 0; i < S; i++) {
    const a = ab[ts[i]],
      ap = i + 1 < S ? ab[ts[i + 1]] : 1;
    const epsGain = (Math.sqrt(1 - a) * 1) / (a * s * s + 1 - a); // ε̂ = x·√(1−ᾱ)/(ᾱs² + 1 − ᾱ) for μ = 0
    let f: number, noise: number;
    if (sampler === 'ddpm') {
      const beta = 1 - a / ap; // x' = (x − β/√(1−ᾱ) ε̂)/√(1−β) + σz, σ² = β(1−ᾱ')/(1−ᾱ)
      f = (1 - (beta / Math.sqrt(1 - a)) * epsGain) / Math.sqrt(1 - beta);
      noise = (beta * (1 - ap)) / (1 - a);
    } else {
      const sig2 = eta * eta * ((1 - ap) / (1 - a)) * (1 - a / ap); // x' = √ᾱ' x̂0 + √(1−ᾱ'−σ²) ε̂ + σz
      const x0Gain = (1 - Math.sqrt(1 - a) * epsGain) / Math.sqrt(a);
      f = Math.sqrt(ap) * x0Gain + Math.sqrt(Math.max(0, 1 - ap - sig2)) * epsGain;
      noise = sig2;
    }
    v = f * f * v + noise;
  }
  return v / (s * s);
}

const configs: [string, Partial<DiffusionOptions>, 'ddpm' | 'ddim', number, number][] = [
  ['ddpm, 1000 steps', { sampler: 'ddpm' }, 'ddpm', 1000, 0],
  ['ddpm, 100 respaced steps', { sampler: 'ddpm', steps: 100 }, 'ddpm', 100, 0],
  ['ddim η = 1, 1000 steps', { sampler: 'ddim', eta: 1, steps: 1000 }, 'ddim', 1000, 1],
  ['ddim η = 0, 50 steps', { sampler: 'ddim', steps: 50 }, 'ddim', 50, 0],
  ['ddim η = 0.5, 20 steps', { sampler: 'ddim', eta: 0.5, steps: 20 }, 'ddim', 20, 0.5],
];

describe('diffusion samplers draw what the discretised chain predicts (exact-score toy)', () => {
  it.each(configs)('%s: Gaussian class, exact output variance', async (_, o, sampler, S, eta) => {
    const n = 20000;
    const r = await sampleDiffusion(model, { ...base, batch: n, seed: 21, classId: 1, ...o } as DiffusionOptions);
    expect(r.nfe).toBe(S);
    const comp = mixtureOf(1)[0];
    const want = exactChainVarianceRatio(sampler, S, eta, comp.s);
    const pts = points(r.images);
    for (let a = 0; a < 2; a++) {
      const m = pts.reduce((s, p) => s + p[a], 0) / n;
      const v = pts.reduce((s, p) => s + (p[a] - m) ** 2, 0) / (n - 1);
      expect(Math.abs(m - comp.mu[a]), `mean axis ${a}`).toBeLessThan(5 * comp.s * Math.sqrt(want / n));
      expect(
        Math.abs(v / (comp.s * comp.s) - want),
        `variance ratio axis ${a} (chain predicts ${want.toFixed(3)})`,
      ).toBeLessThan(5 * want * Math.sqrt(2 / n));
    }
  });

  it('the few-step discretisation error is real: the chain keeps < 80% of the variance at DDIM-50 and 95% at DDPM-1000 (posterior variance β̃)', () => {
    expect(exactChainVarianceRatio('ddim', 50, 0, 0.15)).toBeLessThan(0.8);
    expect(exactChainVarianceRatio('ddpm', 1000, 0, 0.15)).toBeCloseTo(0.951, 3);
  });

  it.each(configs)('%s: two-mode class keeps its modes', async (_, o, __, S) => {
    const r = await sampleDiffusion(model, { ...base, seed: 11, classId: 0, ...o } as DiffusionOptions);
    const pts = points(r.images);
    const minor = pts.filter((p) => p[1] > 0.1).length / pts.length;
    expect(Math.abs(minor - 0.3)).toBeLessThan(5 * Math.sqrt(0.21 / pts.length) + 0.02);
    if (S === 1000) checkAgainstExact(pts, 0);
  });

  it('DDPM and DDIM with η = 1 are the same chain: same seed, same paths (to 1e-3)', async () => {
    const a = await sampleDiffusion(model, { ...base, batch: 500, seed: 3, classId: 0, sampler: 'ddpm', steps: 200 });
    const b = await sampleDiffusion(model, {
      ...base,
      batch: 500,
      seed: 3,
      classId: 0,
      sampler: 'ddim',
      eta: 1,
      steps: 200,
    });
    let worst = 0;
    for (let i = 0; i < a.images.length; i++) worst = Math.max(worst, Math.abs(a.images[i] - b.images[i]));
    expect(worst).toBeLessThan(1e-3);
    const c = await sampleDiffusion(model, {
      ...base,
      batch: 500,
      seed: 3,
      classId: 0,
      sampler: 'ddim',
      eta: 0,
      steps: 200,
    });
    let diff = 0;
    for (let i = 0; i < a.images.length; i++) diff = Math.max(diff, Math.abs(a.images[i] - c.images[i]));
    expect(diff).toBeGreaterThan(0.05); // η = 0 is a different (deterministic) map: the check above has power
  });

  it('unconditional sampling reproduces the class-averaged mixture', async () => {
    const r = await sampleDiffusion(model, { ...base, seed: 5, sampler: 'ddim', steps: 50 });
    const ex = moments(mixtureOf(null));
    const pts = points(r.images);
    const m0 = pts.reduce((s, p) => s + p[0], 0) / pts.length;
    expect(Math.abs(m0 - ex.mean[0])).toBeLessThan(5 * Math.sqrt(ex.var[0] / N) + 0.01);
  });
});

describe('guidance, knobs, accounting', () => {
  it('s = 1 is the conditional model: one pass per step, the same samples as no guidance', async () => {
    const a = await sampleDiffusion(model, { batch: 64, seed: 1, classId: 1, sampler: 'ddim', steps: 20, guidance: 1 });
    const b = await sampleDiffusion(model, { batch: 64, seed: 1, classId: 1, sampler: 'ddim', steps: 20 });
    expect(a.images).toEqual(b.images);
    expect(a.nfe).toBe(20);
    expect(a.calls).toBe(20);
  });

  it('s = 0 is the unconditional model: one pass per step on the null class, the samples of no class', async () => {
    const a = await sampleDiffusion(model, { batch: 64, seed: 1, classId: 1, sampler: 'ddim', steps: 20, guidance: 0 });
    const b = await sampleDiffusion(model, { batch: 64, seed: 1, sampler: 'ddim', steps: 20 });
    expect(a.images).toEqual(b.images);
    expect(a.nfe).toBe(20);
    expect(a.knobs.guidance).toBe(0);
  });

  it('guided steps cost two evaluations; the interval limits them; guidance moves samples away from the other class', async () => {
    const steps = 20;
    const ts = timestepGrid(1000, steps);
    const inside = Array.from(ts).filter((t) => t >= 200 && t <= 600).length;
    const g = await sampleDiffusion(model, {
      batch: 400,
      seed: 2,
      classId: 0,
      sampler: 'ddim',
      steps,
      guidance: 4,
      guidanceInterval: [200, 600],
    });
    expect(g.nfe).toBe(steps + inside);
    expect(g.calls).toBe(steps);
    const full = await sampleDiffusion(model, { batch: 400, seed: 2, classId: 0, sampler: 'ddim', steps, guidance: 4 });
    expect(full.nfe).toBe(2 * steps);
    const plain = await sampleDiffusion(model, { batch: 400, seed: 2, classId: 0, sampler: 'ddim', steps });
    const meanX = (r: { images: Float32Array }) => points(r.images).reduce((s, p) => s + p[0], 0) / 400;
    expect(meanX(full)).toBeLessThan(meanX(plain)); // class 1 sits at x = +0.5: guidance pushes class 0 further left
  });

  it('noise temperature < 1 shrinks the spread; seeds reproduce; previews arrive', async () => {
    const spread = async (tau: number) => {
      const r = await sampleDiffusion(model, {
        batch: 1000,
        seed: 4,
        classId: 1,
        sampler: 'ddim',
        steps: 25,
        noiseTemperature: tau,
      });
      const p = points(r.images);
      const m = p.reduce((s, q) => s + q[0], 0) / p.length;
      return p.reduce((s, q) => s + (q[0] - m) ** 2, 0) / p.length;
    };
    expect(await spread(0.5)).toBeLessThan(0.5 * (await spread(1)));
    const seen: number[] = [];
    const a = await sampleDiffusion(model, {
      batch: 8,
      seed: 4,
      sampler: 'ddpm',
      steps: 10,
      previewEvery: 5,
      onStep: (p) => {
        if (p.x0) seen.push(p.step);
      },
    });
    const b = await sampleDiffusion(model, { batch: 8, seed: 4, sampler: 'ddpm', steps: 10 });
    expect(a.images).toEqual(b.images);
    expect(seen).toEqual([4, 9]);
    expect(a.stepTimesMs.length).toBe(10);
  });

  it('consistency sampler: k steps on round((T − 1)(1 − i/k)), fully re-noised between steps', async () => {
    const r = await sampleDiffusion(model, { batch: 16, seed: 3, classId: 0, sampler: 'consistency', steps: 4 });
    expect(Array.from(r.timesteps)).toEqual([999, 749, 500, 250]);
    expect(r.nfe).toBe(4);
    // with the exact ε̂, one step returns E[x0 | x_T] ≈ the class mean for every sample
    const one = await sampleDiffusion(model, {
      batch: 200,
      seed: 3,
      classId: 1,
      sampler: 'consistency',
      steps: 1,
      clip: false,
    });
    const pts = points(one.images);
    for (const p of pts) expect(Math.hypot(p[0] - 0.5, p[1] - 0.1)).toBeLessThan(0.05);
  });

  it('hybrid: base steps on the grid, then student consistency steps from where the base stopped', async () => {
    const student = new GmmDenoiser(cpu);
    const before = student.calls;
    const r = await sampleDiffusion(model, {
      batch: 8,
      seed: 3,
      classId: 0,
      sampler: 'ddim',
      steps: 10,
      hybrid: { student, baseSteps: 3, studentSteps: 2 },
    });
    const grid = timestepGrid(1000, 10);
    expect(Array.from(r.timesteps)).toEqual([grid[0], grid[1], grid[2], grid[3], Math.round(grid[3] / 2)]);
    expect(r.stepModels).toEqual(['base', 'base', 'base', 'student', 'student']);
    expect(student.calls - before).toBe(2);
    expect(r.nfe).toBe(5);
    const bad = await sampleDiffusion(model, {
      batch: 8,
      seed: 3,
      sampler: 'ddim',
      steps: 10,
      hybrid: { student: new GmmDenoiser(cpu, 500), baseSteps: 3, studentSteps: 2 },
    }).catch((e) => e);
    expect(bad).toBeInstanceOf(SamplerConfigError);
    expect(bad.knob).toBe('hybrid');
    const tooMany = await sampleDiffusion(model, {
      batch: 8,
      seed: 3,
      sampler: 'ddim',
      steps: 10,
      hybrid: { student, baseSteps: 10, studentSteps: 2 },
    }).catch((e) => e);
    expect(tooMany.knob).toBe('hybrid.baseSteps');
  });

  it.each([
    ['sampler', { sampler: 'euler' }],
    ['eta', { sampler: 'consistency', eta: 0 }],
    ['steps', { steps: 0 }],
    ['steps', { steps: 1001 }],
    ['eta', { sampler: 'ddim', eta: 1.5 }],
    ['eta', { sampler: 'ddpm', eta: 0.5 }],
    ['guidance', { classId: 1, guidance: Infinity }],
    ['guidance', { classId: 1, guidance: -1 }],
    ['guidance', { guidance: 2 }],
    ['guidanceInterval', { classId: 1, guidance: 1, guidanceInterval: [500, 100] }],
    ['guidanceInterval', { classId: 1, guidance: 1, guidanceInterval: [0, 1000] }],
    ['noiseTemperature', { noiseTemperature: 0 }],
    ['classId', { classId: 7 }],
    ['classes', { classes: new Uint32Array(3) }],
    ['batch', { batch: 0 }],
    ['seed', { seed: -2 }],
  ] as [string, Record<string, unknown>][])('bad %s → SamplerConfigError', async (knob, bad) => {
    const err = await sampleDiffusion(model, {
      batch: 4,
      seed: 1,
      sampler: 'ddim',
      steps: 5,
      ...bad,
    } as DiffusionOptions).catch((e) => e);
    expect(err).toBeInstanceOf(SamplerConfigError);
    expect((err as SamplerConfigError).knob).toBe(knob);
  });
});
