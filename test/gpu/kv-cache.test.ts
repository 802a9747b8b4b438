// The two-stream transformer's KV cache (issue 18): every cached decode pass gives the logits a full
// forward gives for the same prefix and order — random orders, ragged rows, passes of 0–3 appended
// tokens and 1–4 queries, explicit `visible` (ASSD drafts), roll-backs followed by different tokens,
// and a self-speculation cache of fewer layers (vs the full forward with `layers`). On cpu and webgpu.
// Tolerance 2e-4 + 2e-4·|ref|: f32 on both sides; the cache sums attention over slots in decode order
// where the full pass sums in position order (a different rounding order, nothing else).
// Then: no GPU buffer is created after the first pass of a steady decode, and bad input is typed.
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, rand } from '../util/gpu.js';
import { randomModel } from '../../src/models/random.js';
import type { Backend } from '../../src/backend/backend.js';
import type { DecodeCache, Model } from '../../src/models/model.js';
import { LimitExceededError, OpInputError } from '../../src/errors.js';

const V = 7,
  L = 12;
const TOL = 2e-4;

function randomOrders(B: number, r: () => number): Uint32Array {
  const o = new Uint32Array(B * L);
  for (let b = 0; b < B; b++) {
    const row = [...Array(L).keys()];
    for (let i = L - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [row[i], row[j]] = [row[j], row[i]];
    }
    if (b === 0) row.sort((x, y) => x - y); // one row left to right
    o.set(row, b * L);
  }
  return o;
}

async function fullLogits(model: Model, x: Uint32Array, order: Uint32Array, classes: Uint32Array, layers?: number) {
  const B = classes.length;
  const t = await model.forward({ tokens: x, batch: B, length: L, order, classes, layers });
  const out = (await model.backend.read(t)) as Float32Array;
  model.backend.free(t);
  return out;
}

async function parityRun(be: Backend, seed: number, layers?: number) {
  const model = randomModel(
    { vocab: V - 1, length: L, dModel: 16, layers: 2, heads: 2, classes: 2, twoStream: true, scale: 2, seed },
    be,
  );
  const r = rand(seed);
  const B = 3;
  const order = randomOrders(B, r);
  const classes = new Uint32Array([0, 1, 2]);
  const x = Uint32Array.from({ length: B * L }, () => Math.floor(r() * V));
  let full = await fullLogits(model, x, order, classes, layers);
  const cache = model.createCache(B, L + 2, { layers });
  let passes = 0;
  let rollbacks = 0;
  while (passes < 14) {
    const len = cache.lengths();
    const room = Math.min(...Array.from(len, (n) => L - 1 - n));
    if (room < 0) break;
    const m = Math.floor(r() * Math.min(3, room) + (room > 0 ? 1 : 0)) % (room + 1);
    const draftLike = r() < 0.25;
    const q = draftLike ? 1 + Math.floor(r() * 3) : 1 + Math.floor(r() * (m + 1));
    const tokens = new Uint32Array(B * m),
      positions = new Uint32Array(B * m),
      queries = new Uint32Array(B * q);
    const visible = draftLike ? new Uint32Array(B * q) : undefined;
    const want: number[] = []; // (b, j) → the position whose full-forward logits it must equal, −1 = none
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < m; i++) {
        const p = order[b * L + len[b] + i];
        tokens[b * m + i] = x[b * L + p];
        positions[b * m + i] = p;
      }
      for (let j = 0; j < q; j++) {
        // drafts: every query sees the whole new prefix and predicts a later rank (as ASSD drafts do)
        const seen = draftLike ? len[b] + m : len[b] + m - q + 1 + j;
        const rank = draftLike ? Math.min(len[b] + m + j, L - 1) : seen;
        if (visible) visible[b * q + j] = seen;
        queries[b * q + j] = order[b * L + rank];
        want.push(draftLike ? (rank === seen ? rank : -1) : rank);
      }
    }
    const t = model.decode!(cache, { tokens, positions, m, queries, q, visible, classes });
    const got = (await be.read(t)) as Float32Array;
    be.free(t);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < q; j++) {
        const rank = want[b * q + j];
        if (rank < 0) continue; // a draft query past the prefix: checked against the draft-mode forward elsewhere
        const p = order[b * L + rank];
        expectClose(
          got.subarray((b * q + j) * V, (b * q + j + 1) * V),
          full.subarray((b * L + p) * V, (b * L + p + 1) * V),
          TOL,
          TOL,
        );
      }
    passes++;
    if (passes % 4 === 0) {
      // roll rows back (ragged), and change the tokens beyond: stale slots must not leak into later passes
      const now = cache.lengths();
      for (let b = 0; b < B; b++) {
        const to = Math.floor(r() * (now[b] + 1));
        cache.truncate(b, to);
        for (let i = to; i < L; i++) x[b * L + order[b * L + i]] = Math.floor(r() * V);
      }
      rollbacks++;
      full = await fullLogits(model, x, order, classes, layers);
    }
  }
  expect(passes).toBeGreaterThan(5);
  expect(rollbacks).toBeGreaterThan(0);
  cache.dispose();
  model.dispose();
}

describe('KV cache: cached decode = full recomputation', () => {
  for (const name of ['cpu', 'webgpu'] as const) {
    it(`${name}: random orders, ragged rows, roll-backs`, async () => {
      const be = name === 'cpu' ? cpu : await gpuBackend();
      for (const seed of [1, 2, 3]) await parityRun(be, seed);
    });
    it(`${name}: a one-layer cache (self-speculation) = the forward with layers: 1`, async () => {
      const be = name === 'cpu' ? cpu : await gpuBackend();
      await parityRun(be, 4, 1);
    });
  }

  it('draft queries (visible = prefix) equal the forward in draft mode (queryPrefix)', async () => {
    const be = await gpuBackend();
    const model = randomModel(
      { vocab: V - 1, length: L, dModel: 16, layers: 2, heads: 2, twoStream: true, scale: 2, seed: 9 },
      be,
    );
    const r = rand(9);
    const order = randomOrders(2, r);
    const x = Uint32Array.from({ length: 2 * L }, () => Math.floor(r() * V));
    const n = new Uint32Array([3, 5]);
    const t = model.forward({ tokens: x, batch: 2, length: L, order, queryPrefix: n });
    const full = (await be.read(t)) as Float32Array;
    be.free(t);
    const cache = model.createCache(2, L);
    // prefill each row's prefix (m = 5 for both, then roll row 0 back to 3), then 4 draft queries
    const pre = new Uint32Array(10),
      pos = new Uint32Array(10);
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 5; i++) {
        pos[b * 5 + i] = order[b * L + i];
        pre[b * 5 + i] = x[b * L + order[b * L + i]];
      }
    be.free(model.decode!(cache, { tokens: pre, positions: pos, m: 5, queries: new Uint32Array(2), q: 1 }));
    cache.truncate(0, 3);
    const queries = new Uint32Array(8),
      visible = new Uint32Array(8);
    for (let b = 0; b < 2; b++)
      for (let j = 0; j < 4; j++) {
        queries[b * 4 + j] = order[b * L + n[b] + j];
        visible[b * 4 + j] = n[b];
      }
    const d = model.decode!(cache, {
      tokens: new Uint32Array(0),
      positions: new Uint32Array(0),
      m: 0,
      queries,
      q: 4,
      visible,
    });
    const got = (await be.read(d)) as Float32Array;
    be.free(d);
    for (let b = 0; b < 2; b++)
      for (let j = 0; j < 4; j++) {
        const p = queries[b * 4 + j];
        expectClose(
          got.subarray((b * 4 + j) * V, (b * 4 + j + 1) * V),
          full.subarray((b * L + p) * V, (b * L + p + 1) * V),
          TOL,
          TOL,
        );
      }
    cache.dispose();
    model.dispose();
  });

  it('no GPU buffer is created after the first pass of a steady decode', async () => {
    const be = await gpuBackend();
    const model = randomModel({ vocab: 6, length: 32, dModel: 16, layers: 2, heads: 2, twoStream: true, seed: 5 }, be);
    const cache = model.createCache(4, 32);
    const step = async (i: number) => {
      const t = model.decode!(cache, {
        tokens: new Uint32Array(4).fill(i % 6),
        positions: new Uint32Array(4).fill(i),
        m: 1,
        queries: new Uint32Array(4).fill(i + 1),
        q: 1,
      });
      await be.read(t);
      be.free(t);
    };
    await step(0);
    const before = be.stats().buffersCreated;
    for (let i = 1; i < 20; i++) await step(i);
    expect(be.stats().buffersCreated - before).toBe(0);
    cache.dispose();
    model.dispose();
  });

  it('bad input: typed errors, and a failed pass leaves the lengths as they were', async () => {
    const be = await gpuBackend();
    const model = randomModel({ vocab: 6, length: 8, dModel: 8, layers: 2, twoStream: true, seed: 6 }, be);
    const other = randomModel({ vocab: 6, length: 8, dModel: 8, layers: 2, twoStream: true, seed: 7 }, be);
    const bidir = randomModel({ vocab: 6, length: 8, dModel: 8, layers: 1, seed: 8 }, be);
    expect(() => bidir.createCache(1, 8)).toThrow(/bidirectional/);
    expect(() => model.createCache(1, 8, { layers: 3 })).toThrow(OpInputError);
    expect(() => model.createCache(0, 8)).toThrow(OpInputError);
    expect(() => model.createCache(1 << 20, 1 << 20)).toThrow(LimitExceededError);
    const cache: DecodeCache = model.createCache(2, 4);
    const one = (o: Partial<Parameters<NonNullable<Model['decode']>>[1]> = {}) =>
      model.decode!(cache, {
        tokens: new Uint32Array([1, 2]),
        positions: new Uint32Array([0, 0]),
        m: 1,
        queries: new Uint32Array([1, 1]),
        q: 1,
        ...o,
      });
    expect(() =>
      other.decode!(cache, {
        tokens: new Uint32Array(0),
        positions: new Uint32Array(0),
        m: 0,
        queries: new Uint32Array(2),
        q: 1,
      }),
    ).toThrow(/not created by/);
    expect(() => one({ tokens: new Uint32Array([1, 9]) })).toThrow(/vocabulary/);
    expect(() => one({ positions: new Uint32Array([0, 8]) })).toThrow(/position 8/);
    expect(() => one({ queries: new Uint32Array([8, 0]) })).toThrow(/query position/);
    expect(() => one({ q: 3, queries: new Uint32Array(6) })).toThrow(/visible/);
    expect(() => one({ visible: new Uint32Array([1, 2]) })).toThrow(/sees 2 slots/);
    expect(() => one({ classes: new Uint32Array([0, 1]) })).toThrow(/class/);
    expect(Array.from(cache.lengths())).toEqual([0, 0]);
    for (let i = 0; i < 4; i++) be.free(one());
    expect(() => one()).toThrow(/do not fit/);
    expect(() => cache.truncate(0, 5)).toThrow(OpInputError);
    expect(() => cache.truncate(2, 0)).toThrow(OpInputError);
    cache.dispose();
    expect(() => one()).toThrow(/disposed/);
    for (const m of [model, other, bidir]) m.dispose();
  });
});
