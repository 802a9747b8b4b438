// Causal HF models' KV cache (src/models/hf/model.ts HfCache): every decode pass gives the logits the full
// forward gives for the same prefix — BOS fed at createCache, passes of 0–3 appended tokens with 1–4 queries,
// explicit `visible`, ragged rows, roll-backs followed by other tokens. On cpu and
// webgpu, for the causal fixtures (LLaMA with GQA 4/1 and biases, GPT-2's learned positions, llama3-scaled
// RoPE). Tolerance 2e-4 + 2e-4·|ref| as for the two-stream cache (f32 both sides; attention summed over
// slots in another order). Then: sequential sampling with and without the cache draws the same tokens, and
// bad input is typed.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { loadModel, type HfTextModel } from '../../src/models/index.js';
import type { DecodeCache } from '../../src/models/model.js';
import { OpInputError } from '../../src/errors.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { cpu, expectClose, gpuBackend, rand } from '../util/gpu.js';
import { convertedFixture } from '../util/hf.js';

const L = 8,
  B = 2,
  TOL = 2e-4;

async function read(be: Backend, t: ReturnType<Backend['empty']>): Promise<Float32Array> {
  const out = (await be.read(t)) as Float32Array;
  be.free(t);
  return out;
}

async function check(be: Backend, name: 'llama-causal' | 'gpt2' | 'llama-rope') {
  const m = (await loadModel(await convertedFixture(name), be)) as HfTextModel;
  const V = m.vocabSize;
  const r = rand(11);
  const x = Uint32Array.from({ length: B * L }, () => 5 + Math.floor(r() * (V - 5)));
  const full = await read(be, await m.forward({ tokens: x, batch: B, length: L }));
  // the full forward's logits predicting rank `rank` of row b
  const want = (rows: [number, number][]) => {
    const out = new Float32Array(rows.length * V);
    rows.forEach(([b, rank], i) => out.set(full.subarray((b * L + rank) * V, (b * L + rank + 1) * V), i * V));
    return out;
  };
  const tok = (spans: [number, number, number][]) =>
    Uint32Array.from(spans.flatMap(([b, s, n]) => [...x.subarray(b * L + s, b * L + s + n)]));
  const pass = async (c: DecodeCache, tokens: Uint32Array, m_: number, q: number, visible?: Uint32Array) =>
    read(
      be,
      m.decode(c, {
        tokens,
        positions: new Uint32Array(B * m_),
        m: m_,
        queries: new Uint32Array(B * q),
        q,
        visible,
      }),
    );
  const c = m.createCache(B, L);
  // three tokens per row, queries for ranks 0 … 3 (q = m + 1: a speculative verify's shape)
  expectClose(
    await pass(
      c,
      tok([
        [0, 0, 3],
        [1, 0, 3],
      ]),
      3,
      4,
    ),
    want([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]),
    TOL,
    TOL,
    `${name} verify`,
  );
  // one more, one query; then a query alone (m = 0) sees what is there
  expectClose(
    await pass(
      c,
      tok([
        [0, 3, 1],
        [1, 3, 1],
      ]),
      1,
      1,
    ),
    want([
      [0, 4],
      [1, 4],
    ]),
    TOL,
    TOL,
    `${name} step`,
  );
  expectClose(
    await pass(c, new Uint32Array(0), 0, 1, Uint32Array.of(2, 4)),
    want([
      [0, 2],
      [1, 4],
    ]),
    TOL,
    TOL,
    `${name} m = 0`,
  );
  // ragged: row 1 rolled back to 2 and fed other tokens (then the truth is a forward of that row)
  c.truncate(1, 2);
  const other = Uint32Array.of(x[4], x[5], 7, 9); // row 0: x_4 x_5; row 1: two new tokens at ranks 2, 3
  const got = await pass(c, other, 2, 1);
  const y = x.slice();
  y.set([7, 9], L + 2);
  const fullY = await read(be, await m.forward({ tokens: y, batch: B, length: L }));
  expectClose(got.subarray(0, V), want([[0, 6]]), TOL, TOL, `${name} ragged row 0`);
  expectClose(got.subarray(V), fullY.subarray((L + 4) * V, (L + 5) * V), TOL, TOL, `${name} rolled-back row 1`);
  expect(c.lengths()).toEqual(Uint32Array.of(6, 4));
  c.dispose();
  expect(() => m.createCache(B, L, { layers: 1 })).toThrow(/all 2 layers/);
  m.dispose();
}

describe('causal HF models: cached decode equals the full forward', () => {
  for (const name of ['llama-causal', 'gpt2', 'llama-rope'] as const) {
    it(`${name} on cpu`, () => check(cpu, name));
    it(`${name} on webgpu`, async () => check(await gpuBackend(), name));
  }
});

describe('sequential sampling of a causal HF model on its KV cache', () => {
  it('greedy (top-k 1) draws equal the uncached sampler and a host argmax over full forwards, prompts ragged', async () => {
    const be = await gpuBackend();
    const m = (await loadModel(await convertedFixture('gpt2'), be)) as HfTextModel;
    const N = 3;
    // row 0 free, row 1 a one-token prompt, row 2 a three-token prompt: the cache's passes are ragged
    const prompt = new Int32Array(N * L).fill(-1);
    prompt.set([11], L);
    prompt.set([20, 31, 42], 2 * L);
    const run = (kvCache: boolean) =>
      sampleAsarm(m, { sampler: 'sequential', batch: N, length: L, seed: 3, topK: 1, prompt, kvCache });
    const [cached, full] = [await run(true), await run(false)];
    expect(cached.knobs.kvCache).toBe(true);
    expect(full.knobs.kvCache).toBe(false);
    expect([...cached.samples]).toEqual([...full.samples]);
    // the same by hand: argmax of the full forward's logits, position by position
    const x = new Uint32Array(N * L);
    for (let i = 0; i < N * L; i++) x[i] = prompt[i] >= 0 ? prompt[i] : 5;
    const V = m.vocabSize;
    for (let t = 0; t < L; t++) {
      const lg = await read(be, await m.forward({ tokens: x, batch: N, length: L }));
      for (let b = 0; b < N; b++) {
        if (prompt[b * L + t] >= 0) continue;
        const row = lg.subarray((b * L + t) * V, (b * L + t + 1) * V);
        x[b * L + t] = row.indexOf(Math.max(...row));
      }
    }
    expect([...cached.samples]).toEqual([...x]);
    expect(cached.nfe).toBe(full.nfe);
    m.dispose();
  });

  it('bad input is typed: a bidirectional model has no cache, a foreign cache, a rank past the model', async () => {
    const be = cpu;
    const bidir = await loadModel(await convertedFixture('llama-bidir'), be);
    expect(() => bidir.createCache!(1, 4)).toThrow(/bidirectional: incremental decoding needs a causal model/);
    const a = (await loadModel(await convertedFixture('gpt2'), be)) as HfTextModel;
    const b = (await loadModel(await convertedFixture('gpt2'), be)) as HfTextModel;
    const c = a.createCache(1, 4);
    const input = { tokens: Uint32Array.of(7), positions: Uint32Array.of(0), m: 1, queries: Uint32Array.of(1), q: 1 };
    expect(() => b.decode(c, input)).toThrow(/not created by/);
    expect(() => a.decode(c, { ...input, tokens: Uint32Array.of(96) })).toThrow(OpInputError);
    expect(() => a.decode(c, { ...input, m: 5, tokens: new Uint32Array(5), positions: new Uint32Array(5) })).toThrow(
      /do not fit the cache's 4/,
    );
    expect(c.lengths()).toEqual(Uint32Array.of(0)); // nothing appended by a refused pass
    expect(() => a.createCache(1, 4, { layers: 1 })).toThrow(/all 2 layers/);
    c.dispose();
    expect(() => a.decode(c, input)).toThrow(/disposed/);
    for (const x of [bidir, a, b]) x.dispose();
  });
});
