// spec_verify (speculative decoding's accept/reject) vs twin: the same decided tokens on the GPU and
// the CPU for random logits (some −inf), drafts (including ones the draft could not have drawn),
// ragged counts and bonus flags, at temperature 1, 0.7 and 0 (greedy), with top-k and top-p — exact
// equality (the same Philox words; f32 vs f64 could split a near-tie, which these fixed seeds avoid).
// Invalid logits → InvalidLogitsError on read, on both; bad shapes → OpInputError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, gpuBackend, rand, randomF32 } from '../util/gpu.js';
import { InvalidLogitsError, OpInputError } from '../../src/errors.js';
import { SPEC_NONE, SPEC_RESAMPLED } from '../../src/ops/spec_verify.js';

describe('spec_verify (webgpu vs twin)', () => {
  it('decides the same tokens', async () => {
    const gpu = await gpuBackend();
    let decided = 0,
      rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 70 }),
          K: fc.integer({ min: 1, max: 5 }),
          V: fc.integer({ min: 2, max: 40 }),
          knobs: fc.constantFrom(
            { temperature: 1 },
            { temperature: 0.7, topK: 3 },
            { temperature: 1.3, topP: 0.8 },
            { temperature: 1, topK: 5, topP: 0.9 },
            { temperature: 0 },
          ),
          seed: fc.nat(),
        }),
        async ({ B, K, V, knobs, seed }) => {
          const r = rand(seed);
          const logits = randomF32(B * (2 * K + 1) * V, seed + 1, 3);
          for (let i = 0; i < logits.length; i++) if (r() < 0.05) logits[i] = -Infinity;
          for (let row = 0; row < B * (2 * K + 1); row++) logits[row * V] = 0; // a finite logit in every row
          const drafts = Uint32Array.from({ length: B * K }, () => Math.floor(r() * V));
          const counts = Uint32Array.from({ length: 2 * B }, (_, i) =>
            i % 2 ? Number(r() < 0.7) : Math.floor(r() * (K + 1)),
          );
          const o = { ...knobs, seed, counter: seed % 97 };
          const run = async (be: typeof cpu) =>
            (await be.read(
              be.specVerify(
                be.tensor(logits, [B, 2 * K + 1, V]),
                be.tensor(drafts, [B, K]),
                be.tensor(counts, [B, 2]),
                o,
              ),
            )) as Uint32Array;
          const want = await run(cpu);
          expect(Array.from(await run(gpu))).toEqual(Array.from(want));
          for (let b = 0; b < B; b++) {
            const row = want.subarray(b * (K + 1), (b + 1) * (K + 1));
            const n = row.findIndex((t) => t === SPEC_NONE);
            const made = n < 0 ? K + 1 : n;
            decided += made;
            // tokens before the last decided one are the accepted drafts
            for (let j = 0; j + 1 < made; j++) expect(row[j]).toBe(drafts[b * K + j]);
            // a rejection: the last decided token is flagged, at a draft position
            if (made > 0 && row[made - 1] & SPEC_RESAMPLED) {
              rejected++;
              expect(made).toBeLessThanOrEqual(counts[2 * b]);
            }
            expect(made).toBeLessThanOrEqual(counts[2 * b] + counts[2 * b + 1]);
          }
        },
      ),
      { numRuns: 25, seed: 24 },
    );
    expect(decided).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(10);
  });

  it('per-row streams: row b with stream (s, c) decides what row s decides at counter c, on both backends', async () => {
    const gpu = await gpuBackend();
    const [B, K, V] = [24, 3, 9];
    const r = rand(4);
    const logits = randomF32(B * (2 * K + 1) * V, 5, 3);
    const drafts = Uint32Array.from({ length: B * K }, () => Math.floor(r() * V));
    const counts = Uint32Array.from({ length: 2 * B }, (_, i) => (i % 2 ? 1 : K));
    const perm = Uint32Array.from({ length: B }, (_, b) => (b * 5 + 2) % B);
    const gather = <T extends Float32Array | Uint32Array>(a: T, w: number) => {
      const out = a.slice() as T;
      for (let b = 0; b < B; b++) out.set(a.subarray(perm[b] * w, (perm[b] + 1) * w) as never, b * w);
      return out;
    };
    const streams = Uint32Array.from({ length: 2 * B }, (_, i) => (i % 2 ? 7 : perm[i >> 1]));
    for (const be of [cpu, gpu]) {
      const run = (l: Float32Array, d: Uint32Array, c: Uint32Array, o: { counter: number; streams?: Uint32Array }) =>
        be.read(
          be.specVerify(be.tensor(l, [B, 2 * K + 1, V]), be.tensor(d, [B, K]), be.tensor(c, [B, 2]), {
            seed: 3,
            counter: o.counter,
            streams: o.streams && be.tensor(o.streams, [B, 2]),
          }),
        );
      const plain = (await run(logits, drafts, counts, { counter: 7 })) as Uint32Array;
      const got = (await run(gather(logits, (2 * K + 1) * V), gather(drafts, K), gather(counts, 2), {
        counter: 0,
        streams,
      })) as Uint32Array;
      expect(Array.from(got)).toEqual(Array.from(gather(plain, K + 1)));
      expect(plain.some((t) => t !== SPEC_NONE && t & SPEC_RESAMPLED)).toBe(true);
    }
  });

  it('invalid logits are InvalidLogitsError on read; bad shapes are OpInputError', async () => {
    const gpu = await gpuBackend();
    for (const be of [cpu, gpu]) {
      const logits = new Float32Array(3 * 4).fill(0);
      logits[5] = NaN; // q_0
      const t = be.specVerify(
        be.tensor(logits, [1, 3, 4]),
        be.tensor(new Uint32Array([1]), [1, 1]),
        be.tensor(new Uint32Array([1, 1]), [1, 2]),
        {
          seed: 1,
          counter: 0,
        },
      );
      await expect(be.read(t)).rejects.toBeInstanceOf(InvalidLogitsError);
      expect(() =>
        be.specVerify(be.empty([1, 4, 4]), be.empty([1, 1], 'u32'), be.empty([1, 2], 'u32'), { seed: 1, counter: 0 }),
      ).toThrow(OpInputError);
      expect(() =>
        be.specVerify(be.empty([1, 3, 4]), be.empty([1, 1], 'u32'), be.empty([1, 2], 'u32'), { seed: 1, counter: -1 }),
      ).toThrow(/counter/);
    }
  });
});
