// diffusion_step kernel vs twin over ragged sizes (odd n included), with and without guidance,
// clipping and noise: atol 1e-5 + rtol 1e-4 for the arithmetic (x̂0 divides by s0 down to √ᾱ ≈ 0.006,
// so unclipped values get atol 1e-5/s0), plus σ times the WGSL spec bound of each noise value,
// r·(2^-11 + 2^-20) + 1e-6 (test/util/wgsl-accuracy.ts), r the radius of its Box–Muller pair. Guidance w = 0 gives
// exactly the
// conditional update; DUP writes x' to both halves; bad inputs are typed errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';
import type { Backend } from '../../src/backend/backend.js';
import type { DiffusionStepOptions } from '../../src/ops/diffusion_step.js';
import { DIFFUSION_STREAM } from '../../src/reference/diffusion_step.js';
import { normalPair, philox4x32, seedToKey } from '../../src/rng.js';
import { normalPairTolerance } from '../util/wgsl-accuracy.js';

type Step = Omit<DiffusionStepOptions, 'out' | 'x0Out' | 'dupOut'>;

/** σ × the spec bound of element i's noise value (its pair as the kernel draws it; 0 without noise) */
function noiseTolerance(n: number, seed: number, step: number, sigma: number): Float64Array {
  if (sigma === 0) return new Float64Array(n);
  const key = seedToKey(seed),
    w = new Uint32Array(4),
    pairs = new Float64Array(n + 1);
  for (let j = 0; 2 * j < n; j++) {
    philox4x32(j, step, DIFFUSION_STREAM, 0, key[0], key[1], w);
    pairs.set(normalPair(w[0], w[1], w[2], w[3]), 2 * j);
  }
  return normalPairTolerance(pairs)
    .subarray(0, n)
    .map((t) => sigma * t);
}

async function run(be: Backend, x: Float32Array, eps: Float32Array, o: Step, dup = false) {
  const n = x.length;
  const tx = be.tensor(x, [n]),
    te = be.tensor(eps, [eps.length]);
  const out = be.empty([n]),
    x0 = be.empty([n]),
    d = dup ? be.empty([2 * n]) : undefined;
  be.diffusionStep(tx, te, { ...o, out, x0Out: x0, dupOut: d });
  return { x: await be.read(out), x0: await be.read(x0), dup: d ? await be.read(d) : undefined };
}

describe('diffusion_step (webgpu vs twin)', () => {
  it('matches the twin', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 700 }),
          cfg: fc.boolean(),
          clip: fc.boolean(),
          noisy: fc.boolean(),
          seed: fc.nat(),
          ab: fc.double({ min: 4e-5, max: 0.9999, noNaN: true }),
          abPrev: fc.double({ min: 0.5, max: 1, noNaN: true }),
          w: fc.double({ min: 0, max: 5, noNaN: true }),
        }),
        async ({ n, cfg, clip, noisy, seed, ab, abPrev, w }) => {
          const x = randomF32(n, seed, 2);
          const eps = randomF32(cfg ? 2 * n : n, seed + 1, 1.5);
          const o: Step = {
            seed,
            step: seed % 1000,
            guidance: cfg ? w : undefined,
            clip,
            s0: Math.sqrt(ab),
            s1: Math.sqrt(1 - ab),
            cX0: Math.sqrt(abPrev),
            cX: 0.1,
            cE: Math.sqrt(Math.max(0, 1 - abPrev)) * 0.5,
            sigma: noisy ? 0.3 : 0,
          };
          const [g, c] = [await run(gpu, x, eps, o), await run(cpu, x, eps, o)];
          // x̂0 = (x − s1 e)/s0 amplifies f32 rounding by 1/s0 when unclipped
          const amp = clip ? 1 : 1 / Math.sqrt(ab);
          expectClose(g.x0, c.x0, 1e-5 * amp, 1e-4, 'x0');
          const noise = noiseTolerance(n, seed, o.step, Math.fround(o.sigma));
          expectClose(
            g.x,
            c.x,
            noise.map((t) => 1e-5 * amp + t),
            1e-4,
            'x',
          );
        },
      ),
      { numRuns: 20, seed: 5 },
    );
  });

  it('guidance w = 0 is exactly the conditional update; DUP fills both halves', async () => {
    const gpu = await gpuBackend();
    for (const be of [gpu, cpu] as Backend[]) {
      const n = 301;
      const x = randomF32(n, 1, 2),
        ec = randomF32(n, 2),
        eu = randomF32(n, 3, 4);
      const both = new Float32Array(2 * n);
      both.set(ec);
      both.set(eu, n);
      const o: Step = {
        seed: 9,
        step: 3,
        clip: true,
        s0: 0.3,
        s1: Math.sqrt(1 - 0.09),
        cX0: 0.5,
        cX: 0,
        cE: 0.7,
        sigma: 0.2,
      };
      const plain = await run(be, x, ec, o);
      const guided = await run(be, x, both, { ...o, guidance: 0 }, true);
      expect(guided.x).toEqual(plain.x);
      expect(guided.x0).toEqual(plain.x0);
      expect(guided.dup!.subarray(0, n)).toEqual(plain.x);
      expect(guided.dup!.subarray(n)).toEqual(plain.x);
      const strong = await run(be, x, both, { ...o, guidance: 2 });
      expect(strong.x).not.toEqual(plain.x);
    }
  });

  it('rejects bad inputs with OpInputError', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(randomF32(8, 1), [8]),
      e = gpu.tensor(randomF32(8, 2), [8]),
      out = gpu.empty([8]),
      x0 = gpu.empty([8]);
    const o = { seed: 1, step: 0, clip: true, s0: 0.5, s1: 0.8, cX0: 1, cX: 0, cE: 0, sigma: 0, out, x0Out: x0 };
    expect(() => gpu.diffusionStep(x, e, { ...o, guidance: 1 })).toThrow(OpInputError); // eps must be 2n with guidance
    expect(() => gpu.diffusionStep(x, e, { ...o, s0: 0 })).toThrow(OpInputError);
    expect(() => gpu.diffusionStep(x, e, { ...o, sigma: NaN })).toThrow(OpInputError);
    expect(() => gpu.diffusionStep(x, e, { ...o, out: x })).toThrow(OpInputError);
    expect(() => gpu.diffusionStep(x, e, { ...o, x0Out: out })).toThrow(OpInputError);
    expect(() => gpu.diffusionStep(x, e, { ...o, out: gpu.empty([9]) })).toThrow(OpInputError);
  });
});
