/**
 * A toy ε-prediction "denoiser" with the exact answer: data are Gaussian mixtures in 2-D (an
 * "image" of 1×1 pixels with 2 channels), one mixture per class plus the class-averaged mixture as
 * the unconditional model. For x_t = √ᾱ x₀ + √(1−ᾱ) ε the marginal is Σ π_k N(√ᾱ μ_k, (ᾱ s_k² + 1 − ᾱ) I),
 * so the optimal ε̂ = −√(1−ᾱ) ∇ log p_t(x) is available in closed form. CPU backend only (it reads
 * the input tensor's host data synchronously).
 */
import { LimitExceededError } from '../../src/errors.js';
import type { Backend } from '../../src/backend/backend.js';
import type { CpuTensor } from '../../src/backend/cpu.js';
import type { Tensor } from '../../src/backend/tensor.js';
import { linearAlphasCumprod } from '../../src/models/denoiser.js';
import type { DenoiserInput, DenoiserModel } from '../../src/models/model.js';
import type { DitManifest } from '../../src/models/manifest.js';

export interface Component {
  w: number;
  mu: [number, number];
  s: number;
}

/** class 0: two tight blobs; class 1: one wider blob */
export const GMM_CLASSES: Component[][] = [
  [
    { w: 0.7, mu: [-0.5, -0.3], s: 0.1 },
    { w: 0.3, mu: [-0.2, 0.5], s: 0.08 },
  ],
  [{ w: 1, mu: [0.5, 0.1], s: 0.15 }],
];

export function mixtureOf(c: number | null): Component[] {
  if (c !== null) return GMM_CLASSES[c];
  return GMM_CLASSES.flatMap((comps) => comps.map((k) => ({ ...k, w: k.w / GMM_CLASSES.length })));
}

/** exact mean and per-axis variance of a mixture */
export function moments(comps: Component[]): { mean: [number, number]; var: [number, number] } {
  const mean: [number, number] = [0, 0],
    sq: [number, number] = [0, 0];
  for (const k of comps)
    for (let a = 0; a < 2; a++) {
      mean[a] += k.w * k.mu[a];
      sq[a] += k.w * (k.s * k.s + k.mu[a] * k.mu[a]);
    }
  return { mean, var: [sq[0] - mean[0] ** 2, sq[1] - mean[1] ** 2] };
}

export function gmmEps(x: [number, number], ab: number, comps: Component[]): [number, number] {
  const sa = Math.sqrt(ab);
  const logs = comps.map((k) => {
    const v = ab * k.s * k.s + 1 - ab;
    const d0 = x[0] - sa * k.mu[0],
      d1 = x[1] - sa * k.mu[1];
    return Math.log(k.w) - (d0 * d0 + d1 * d1) / (2 * v) - Math.log(v);
  });
  const m = Math.max(...logs);
  const r = logs.map((l) => Math.exp(l - m));
  const z = r.reduce((a, b) => a + b, 0);
  const g: [number, number] = [0, 0];
  comps.forEach((k, i) => {
    const v = ab * k.s * k.s + 1 - ab;
    g[0] -= ((r[i] / z) * (x[0] - sa * k.mu[0])) / v;
    g[1] -= ((r[i] / z) * (x[1] - sa * k.mu[1])) / v;
  });
  const s1 = Math.sqrt(1 - ab);
  return [-s1 * g[0], -s1 * g[1]];
}

export class GmmDenoiser implements DenoiserModel {
  readonly kind = 'denoiser' as const;
  readonly name = 'gmm-toy';
  readonly imageSize = 1;
  readonly channels = 2;
  readonly numClasses = GMM_CLASSES.length;
  readonly nullClass = GMM_CLASSES.length;
  readonly timesteps: number;
  readonly alphasCumprod: Float64Array;
  readonly manifest = { name: 'gmm-toy', classes: ['0', '1', 'none'] } as unknown as DitManifest;
  calls = 0;

  /** two floats per image: fits whenever the backend can hold the batch's images */
  checkFits(batch: number): void {
    const max = this.backend.maxTensor;
    if (!(batch * 2 * 4 <= max.bytes)) throw new LimitExceededError(max.limit, batch * 8, max.bytes, 'gmm-toy');
  }

  constructor(
    readonly backend: Backend,
    T = 1000,
  ) {
    this.timesteps = T;
    this.alphasCumprod = linearAlphasCumprod(T, 1e-4, 0.02);
  }

  forward(input: DenoiserInput): Tensor {
    this.calls++;
    const x = (input.x as CpuTensor).data as Float32Array;
    const B = input.x.shape[0];
    const out = new Float32Array(B * 2);
    for (let b = 0; b < B; b++) {
      const c = input.classes ? input.classes[b] : this.nullClass;
      const e = gmmEps(
        [x[2 * b], x[2 * b + 1]],
        this.alphasCumprod[input.t[b]],
        mixtureOf(c === this.nullClass ? null : c),
      );
      out[2 * b] = e[0];
      out[2 * b + 1] = e[1];
    }
    return this.backend.tensor(out, [B, 1, 1, 2]);
  }

  dispose(): void {}
}
