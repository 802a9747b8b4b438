// Continuous batching (issue 19 item 4) on toy two-stream models, CPU backend, fixed seeds:
// - `samples` = 10 on 4 slots gives exactly the samples (and orders, per-sample NFE and tokens) of the 10
//   single-sample runs { batch: 1, firstSample: i } and of one plain batch of 10, for AS-ARM sequential and
//   ASSD (KV cache and full passes) and speculative decoding — with per-sample prompts of different lengths,
//   so slots finish at different rounds and are refilled mid-run;
// - ASSD and speculative in continuous mode (20,000 samples on 500 slots) still draw from the exact
//   sequential law: χ² over 81 sequences, p > 0.01;
// - a cancelled request (AbortSignal) stops after the pass in flight with AbortError and frees its slots
//   (every KV cache it made is disposed); bad `samples` / `firstSample` are SamplerConfigErrors.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { AbortError, SamplerConfigError } from '../../src/errors.js';
import type { DecodeCache, Model } from '../../src/models/model.js';
import { randomModel } from '../../src/models/random.js';
import { sampleAsarm, type AsarmOptions } from '../../src/samplers/asarm.js';
import { sampleSpeculative, type SpeculativeOptions } from '../../src/samplers/speculative.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { sequenceIndex, sequentialDistribution } from '../util/exact.js';
import { Engine } from '../../src/worker/engine.js';
import { FIXTURES } from '../util/models.js';

const cpu = new CpuBackend();
const R = 3;
const spec = { vocab: R, dModel: 8, heads: 2, classes: 2, twoStream: true, scale: 2.5 };
const L = 9;
const target = randomModel({ ...spec, length: L, layers: 2, seed: 3 }, cpu);
const draft = randomModel({ ...spec, length: L, layers: 1, seed: 11 }, cpu);
const S = 10;
// per-sample prompts: 0 … 4 fixed positions (ragged work per sample); sample 7 fixes every position
const prompt = new Int32Array(S * L).fill(-1);
for (let i = 0; i < S; i++) for (let p = 0; p < i % 5; p++) prompt[i * L + ((p * 4 + i) % L)] = (i + p) % R;
for (let p = 0; p < L; p++) prompt[7 * L + p] = p % R;

type Run = { samples: Uint32Array; rowNfe: Uint32Array; rowTokens: Uint32Array; order: Uint32Array };

/** the continuous run vs the single-sample runs and the plain batch: the same rows */
async function expectSameAsUnbatched(
  run: (o: { batch: number; samples?: number; firstSample?: number }) => Promise<Run>,
) {
  const cont = await run({ batch: 4, samples: S });
  const plain = await run({ batch: S });
  for (const key of ['samples', 'order', 'rowNfe', 'rowTokens'] as const)
    expect(Array.from(cont[key]), key).toEqual(Array.from(plain[key]));
  for (let i = 0; i < S; i++) {
    const one = await run({ batch: 1, firstSample: i });
    expect(Array.from(one.samples), `sample ${i}`).toEqual(Array.from(cont.samples.subarray(i * L, (i + 1) * L)));
    expect([one.rowNfe[0], one.rowTokens[0]]).toEqual([cont.rowNfe[i], cont.rowTokens[i]]);
  }
  // the prompts are kept, every free position is decided
  for (let i = 0; i < S * L; i++) {
    if (prompt[i] >= 0) expect(cont.samples[i]).toBe(prompt[i]);
    expect(cont.samples[i]).toBeLessThan(R);
  }
  return cont;
}

/** per-sample prompts sliced for a run of `samples` rows starting at `firstSample` */
function promptFor(o: { batch: number; samples?: number; firstSample?: number }): Int32Array {
  const first = o.firstSample ?? 0;
  return prompt.slice(first * L, (first + (o.samples ?? o.batch)) * L);
}

describe('continuous batching gives the unbatched runs’ samples', () => {
  it.each([
    ['sequential', true],
    ['sequential', false],
    ['assd', true],
    ['assd', false],
  ] as const)('AS-ARM %s (KV cache %s): 10 samples on 4 slots', async (sampler, kvCache) => {
    const cont = await expectSameAsUnbatched((o) =>
      sampleAsarm(target, { ...o, length: L, seed: 77, sampler, kvCache, draft: 3, prompt: promptFor(o) }),
    );
    expect(cont.rowTokens[7]).toBe(0); // complete at load: never took a slot's pass
    expect(cont.rowNfe[7]).toBe(0);
  });

  it('AS-ARM ASSD with guidance: 10 samples on 4 slots', async () => {
    await expectSameAsUnbatched((o) =>
      sampleAsarm(target, {
        ...o,
        length: L,
        seed: 5,
        sampler: 'assd',
        classId: 1,
        guidance: 1.5,
        prompt: promptFor(o),
      }),
    );
  });

  it.each([[false], [true]])('speculative (adaptive draft %s): 10 samples on 4 slots', async (adaptiveDraft) => {
    await expectSameAsUnbatched((o) =>
      sampleSpeculative(target, {
        ...o,
        length: L,
        seed: 31,
        draftModel: draft,
        draft: 3,
        adaptiveDraft,
        prompt: promptFor(o),
      }),
    );
  });
});

describe('continuous batching keeps the law (χ², 20,000 samples on 500 slots)', () => {
  const L4 = 4,
    N = 20000;
  const t4 = randomModel({ ...spec, length: L4, layers: 2, seed: 3 }, cpu);
  const d4 = randomModel({ ...spec, length: L4, layers: 1, seed: 11 }, cpu);
  const l2r = Uint32Array.from([0, 1, 2, 3]);
  const sigma = Uint32Array.from([2, 0, 3, 1]);
  const fit = async (res: { samples: Uint32Array }, order: Uint32Array) => {
    const counts = new Array(R ** L4).fill(0);
    for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L4, R)]++;
    return chiSquare(counts, await sequentialDistribution(t4, L4, order));
  };

  it('ASSD on the KV cache', async () => {
    const o: AsarmOptions = { batch: 500, samples: N, length: L4, seed: 2026, sampler: 'assd', draft: 3, order: sigma };
    const res = await sampleAsarm(t4, o);
    expect(res.batch).toBe(N);
    expect((await fit(res, sigma)).pValue).toBeGreaterThan(0.01);
    expect(res.rowTokens.every((t) => t === L4)).toBe(true);
    expect(res.rowNfe.every((v, i) => v <= res.rowTokens[i])).toBe(true);
  });

  it('speculative', async () => {
    const o: SpeculativeOptions = { batch: 500, samples: N, length: L4, seed: 2026, draftModel: d4, draft: 2 };
    const res = await sampleSpeculative(t4, o);
    expect((await fit(res, l2r)).pValue).toBeGreaterThan(0.01);
    expect(res.accepted).toBeLessThan(res.proposed);
  });
});

/** a fresh copy of the target, with every KV cache it makes recorded (to see that a run frees them) */
function tracked(): { model: Model; caches: { disposed: boolean }[] } {
  const caches: { disposed: boolean }[] = [];
  const model: Model = randomModel({ ...spec, length: L, layers: 2, seed: 3 }, cpu);
  const create = model.createCache!.bind(model);
  model.createCache = (batch: number, capacity: number, o?: { layers?: number }): DecodeCache => {
    const c = create(batch, capacity, o);
    const rec = { disposed: false };
    caches.push(rec);
    const dispose = c.dispose.bind(c);
    c.dispose = () => {
      rec.disposed = true;
      dispose();
    };
    return c;
  };
  return { model, caches };
}

describe('cancel and bad options', () => {
  it.each(['sequential', 'assd', 'speculative'] as const)(
    '%s: a cancelled request frees its slots at once',
    async (s) => {
      const { model, caches } = tracked();
      const ac = new AbortController();
      let steps = 0;
      const onStep = () => {
        if (++steps === 3) ac.abort();
      };
      const base = { batch: 4, samples: 1000, length: L, seed: 1, signal: ac.signal, onStep };
      const run =
        s === 'speculative'
          ? sampleSpeculative(model, { ...base, draftModel: { layers: 1 } })
          : sampleAsarm(model, { ...base, sampler: s });
      const e = await run.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(AbortError);
      expect(steps).toBe(3); // stopped after the pass in flight, not at the end of 1,000 samples
      expect(caches.length).toBeGreaterThan(0);
      expect(caches.every((c) => c.disposed)).toBe(true);
    },
  );

  it('an already aborted signal runs no pass', async () => {
    const ac = new AbortController();
    ac.abort();
    let steps = 0;
    const e = await sampleAsarm(target, {
      batch: 2,
      samples: 4,
      length: L,
      seed: 1,
      sampler: 'assd',
      signal: ac.signal,
      onStep: () => steps++,
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AbortError);
    expect(steps).toBe(0);
  });

  it('bad samples / firstSample / prompt rows are SamplerConfigErrors naming the knob', async () => {
    const base = { length: L, seed: 1, sampler: 'assd' as const };
    const knobOf = (p: Promise<unknown>) => p.catch((e: unknown) => (e instanceof SamplerConfigError ? e.knob : e));
    expect(await knobOf(sampleAsarm(target, { ...base, batch: 4, samples: 3 }))).toBe('samples');
    expect(await knobOf(sampleAsarm(target, { ...base, batch: 4, samples: 2.5 }))).toBe('samples');
    expect(await knobOf(sampleAsarm(target, { ...base, batch: 4, firstSample: -1 }))).toBe('firstSample');
    expect(await knobOf(sampleAsarm(target, { ...base, batch: 2, samples: 3, prompt: new Int32Array(2 * L) }))).toBe(
      'prompt',
    );
    // the other samplers key draws by row: they refuse samples ≠ batch and firstSample
    const mdm = randomModel({ vocab: R, length: L, seed: 2 }, cpu);
    const m = { batch: 2, length: L, seed: 1, sampler: 'fhs' as const };
    expect(await knobOf(sampleMdm(mdm, { ...m, samples: 4 } as MdmOptions))).toBe('samples');
    expect(await knobOf(sampleMdm(mdm, { ...m, firstSample: 3 } as MdmOptions))).toBe('firstSample');
    const sp = { batch: 2, samples: 4, length: L, seed: 1, draftModel: draft };
    expect(
      await knobOf(sampleSpeculative(target, { ...sp, resume: { sampler: 'speculative', next: 1, nfe: 0 } })),
    ).toBe('resume');
  });
});

describe('through the engine', () => {
  it('samples > batch: every sample as text, progress over all samples, the sampler’s result; cancel frees', async () => {
    const e = new Engine();
    await e.init('cpu');
    const info = await e.loadModel(FIXTURES + 'tiny-twostream', { id: 'as' });
    const L4 = Math.min(8, info.maxLength!);
    const options = { batch: 2, samples: 5, length: L4, seed: 9, draft: 3 };
    const seen: number[] = [];
    const r = await e.sampleText({ model: 'as', sampler: 'assd', options }, (p) => seen.push(p.tokens!.length));
    expect(r.texts).toHaveLength(5);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 5 * L4)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const one = await e.sampleText({
        model: 'as',
        sampler: 'assd',
        options: { ...options, batch: 1, samples: 1, firstSample: i },
      });
      expect(one.texts[0]).toBe(r.texts[i]);
    }
    let steps = 0;
    const err = await e
      .sampleText(
        { model: 'as', sampler: 'assd', options: { ...options, samples: 500 } },
        () => {
          if (++steps === 2) e.cancel('c');
        },
        { requestId: 'c' },
      )
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(AbortError);
    expect(steps).toBe(2);
    e.dispose();
  });
});
