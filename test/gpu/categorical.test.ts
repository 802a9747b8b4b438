// The categorical sampling kernel: χ² goodness of fit against the exact distribution (fixed seeds,
// p > 0.001 required), with temperature, top-k, top-p and both precision modes; agreement with the
// CPU twin draw for draw (same Philox counters; only f32-vs-f64 near-ties may differ: ≥ 99% equal);
// greedy; ragged vocabularies; invalid rows as typed errors.
import { describe, expect, it } from 'vitest';
import { cpu, gpuBackend, randomF32 } from '../util/gpu.js';
import { countsOf, expectedProbs } from '../util/categorical.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { InvalidLogitsError, OpInputError } from '../../src/errors.js';
import type { SampleOptions } from '../../src/ops/categorical.js';

/** FNV-1a of the precise-draw test's tokens: the same on lavapipe, SwiftShader's Vulkan driver and the CPU twin */
const PINNED_DIGEST = '97f6800d';
const N = 20000;

function replicate(row: Float32Array, n: number): Float32Array {
  const out = new Float32Array(row.length * n);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

describe('categorical (webgpu)', () => {
  const logits = Float32Array.from([2.0, 1.5, 1.4, 0.3, 0.0, -0.5, -1.0, -1.2, -2.0, -3.0, -4.5, 0.9]);
  const V = logits.length;
  const cases: [string, Omit<SampleOptions, 'seed'>][] = [
    ['T=1', {}],
    ['T=0.6', { temperature: 0.6 }],
    ['T=1.7 top-k 5', { temperature: 1.7, topK: 5 }],
    ['top-p 0.8', { topP: 0.8 }],
    ['top-k 6 + top-p 0.7, T=0.9', { temperature: 0.9, topK: 6, topP: 0.7 }],
    ['naive-f32', { precision: 'naive-f32' }],
  ];

  it.each(cases)('%s matches the exact distribution (χ²) and the twin', async (_name, o) => {
    const gpu = await gpuBackend();
    const x = replicate(logits, N);
    const opts: SampleOptions = { ...o, seed: 7, counter: 3 };
    const got = (await gpu.read(gpu.categorical(gpu.tensor(x, [N, V]), opts))) as Uint32Array;
    const p = expectedProbs(logits, o.temperature ?? 1, o.topK ?? 0, o.topP ?? 1);
    const chi = chiSquare(countsOf(got, V), p);
    expect(chi.impossible).toBe(0); // nothing outside the top-k/top-p set
    expect(chi.pValue).toBeGreaterThan(0.001);
    const twin = (await cpu.read(cpu.categorical(cpu.tensor(x, [N, V]), opts))) as Uint32Array;
    let same = 0;
    for (let i = 0; i < N; i++) if (twin[i] === got[i]) same++;
    expect(same / N).toBeGreaterThan(0.99);
  });

  it('different counters give different draws, the same counter the same draws', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(replicate(logits, 500), [500, V]);
    const a = await gpu.read(gpu.categorical(x, { seed: 1, counter: 0 }));
    const b = await gpu.read(gpu.categorical(x, { seed: 1, counter: 0 }));
    const c = await gpu.read(gpu.categorical(x, { seed: 1, counter: 1 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('per-row streams: row r with stream (s, c) draws what row s draws at counter c, on both backends', async () => {
    // continuous batching runs sample s in any row: its (row, counter) words travel with it
    const gpu = await gpuBackend();
    const rows = 40;
    const x = randomF32(rows * V, 5, 2);
    const perm = Uint32Array.from({ length: rows }, (_, r) => (r * 7 + 3) % rows);
    const moved = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) moved.set(x.subarray(perm[r] * V, (perm[r] + 1) * V), r * V);
    for (const be of [cpu, gpu]) {
      const plain = (await be.read(be.categorical(be.tensor(x, [rows, V]), { seed: 9, counter: 5 + 2 ** 32 * 3 })))!;
      const streams = be.tensor(
        Uint32Array.from({ length: 2 * rows }, (_, i) => (i % 2 ? 5 : perm[i >> 1])),
        [rows, 2],
      );
      const got = await be.read(
        be.categorical(be.tensor(moved, [rows, V]), { seed: 9, counter: 11 + 2 ** 32 * 3, streams }),
      );
      expect(Array.from(got)).toEqual(Array.from(perm, (s) => plain[s]));
      const e = (() => {
        try {
          be.categorical(be.tensor(x, [rows, V]), { seed: 9, streams: be.tensor(new Uint32Array(rows), [rows, 1]) });
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(OpInputError);
    }
  });

  it('precise draws are the same tokens on every driver: a pinned digest of 4,000 draws', async () => {
    // run on lavapipe and on SwiftShader's Vulkan driver by npm test; their exp/log differ in the last
    // bits, but a precise draw only flips on a near-tie of two scores, which these logits never have
    const gpu = await gpuBackend();
    const rows = 4000,
      V = 50,
      logits = randomF32(rows * V, 99, 4),
      o = { seed: 2027, temperature: 0.9, topP: 0.95 };
    const digest = (t: Uint32Array) => {
      let h = 0x811c9dc5;
      for (const v of t) h = Math.imul(h ^ v, 0x01000193) >>> 0;
      return h.toString(16);
    };
    const got = (await gpu.read(gpu.categorical(gpu.tensor(logits, [rows, V]), o))) as Uint32Array;
    expect(digest(got)).toBe(PINNED_DIGEST);
    expect(digest((await cpu.read(cpu.categorical(cpu.tensor(logits, [rows, V]), o))) as Uint32Array)).toBe(
      PINNED_DIGEST,
    ); // and the twin
  });

  it('greedy (T=0) is the argmax, lowest index on ties', async () => {
    const gpu = await gpuBackend();
    const x = Float32Array.from([0, 3, 1, 3, -Infinity, 2]);
    expect([...(await gpu.read(gpu.categorical(gpu.tensor(x, [1, 6]), { seed: 0, temperature: 0 })))]).toEqual([1]);
  });

  it('ragged vocabularies (1, 255, 257, 1001) agree with the twin', async () => {
    const gpu = await gpuBackend();
    for (const v of [1, 255, 257, 1001]) {
      const rows = 64;
      const x = randomF32(rows * v, v, 4);
      const o: SampleOptions = { seed: v, topK: Math.min(v, 40), topP: 0.95 };
      const got = await gpu.read(gpu.categorical(gpu.tensor(x, [rows, v]), o));
      const want = await cpu.read(cpu.categorical(cpu.tensor(x, [rows, v]), o));
      let same = 0;
      for (let i = 0; i < rows; i++) if (got[i] === want[i]) same++;
      expect(same).toBeGreaterThanOrEqual(rows - 1);
    }
  });

  it('−inf tokens are never drawn; NaN/+inf/all −inf rows raise InvalidLogitsError on both backends', async () => {
    const gpu = await gpuBackend();
    const ok = Float32Array.from([0, -Infinity, 0, -Infinity]);
    const s = await gpu.read(gpu.categorical(gpu.tensor(replicate(ok, 200), [200, 4]), { seed: 3 }));
    expect(s.every((v) => v === 0 || v === 2)).toBe(true);
    const bad = Float32Array.from([0, 1, 2, 3, 0, NaN, 1, 1, -Infinity, -Infinity, Infinity, 0]);
    for (const be of [gpu, cpu]) {
      const t = be.categorical(be.tensor(bad, [3, 4]), { seed: 1 });
      await expect(be.read(t)).rejects.toThrow(InvalidLogitsError);
      await expect(be.read(t)).rejects.toMatchObject({ rows: [1, 2] });
    }
    const allMasked = Float32Array.from([-Infinity, -Infinity]);
    await expect(gpu.read(gpu.categorical(gpu.tensor(allMasked, [1, 2]), { seed: 1 }))).rejects.toThrow(
      InvalidLogitsError,
    );
  });

  it('bad knobs are typed errors naming the knob', async () => {
    const gpu = await gpuBackend();
    const x = gpu.tensor(logits, [1, V]);
    expect(() => gpu.categorical(x, { seed: 1, temperature: -1 })).toThrow(/temperature/);
    expect(() => gpu.categorical(x, { seed: 1, topP: 0 })).toThrow(/topP/);
    expect(() => gpu.categorical(x, { seed: 1, topP: 1.5 })).toThrow(OpInputError);
    expect(() => gpu.categorical(x, { seed: 1, topK: 2.5 })).toThrow(/topK/);
    expect(() => gpu.categorical(x, { seed: -4 })).toThrow(/seed/);
    expect(() => gpu.categorical(x, { seed: 1, precision: 'fp16' as never })).toThrow(/precision/);
  });
});
