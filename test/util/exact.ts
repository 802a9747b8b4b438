/**
 * Exact distributions of toy models, by enumeration (f64): the any-order mixture of a masked model's
 * conditionals, with guidance, temperature and a prompt — what FHS and ancestral-with-k=1 must draw.
 */
import type { Model } from '../../src/models/model.js';

export interface MixtureOptions {
  length: number;
  classId?: number;
  guidance?: number;
  temperature?: number;
  /** (length), −1 = free */
  prompt?: Int32Array;
}

/** All partial states (free positions ∈ {0..R−1, MASK}) → conditionals cond[state][pos][v] (f64). */
async function conditionals(model: Model, o: MixtureOptions): Promise<Map<string, Float64Array[]>> {
  const L = o.length,
    mask = model.maskId!,
    R = model.vocabSize - 1;
  const fixed = o.prompt ?? new Int32Array(L).fill(-1);
  const states: number[][] = [[]];
  for (let i = 0; i < L; i++) {
    const opts = fixed[i] >= 0 ? [fixed[i]] : [...Array(R).keys(), mask];
    const next: number[][] = [];
    for (const s of states) for (const v of opts) next.push([...s, v]);
    states.splice(0, states.length, ...next);
  }
  const B = states.length;
  const tokens = Uint32Array.from(states.flat());
  const be = model.backend;
  const cls = o.classId ?? model.nullClass;
  const lc = (await be.read(
    await model.forward({ tokens, batch: B, length: L, classes: new Uint32Array(B).fill(cls) }),
  )) as Float32Array;
  const s = o.guidance ?? 1;
  const lu =
    s !== 1
      ? ((await be.read(
          await model.forward({ tokens, batch: B, length: L, classes: new Uint32Array(B).fill(model.nullClass) }),
        )) as Float32Array)
      : lc;
  const T = o.temperature ?? 1;
  const V = model.vocabSize;
  const out = new Map<string, Float64Array[]>();
  states.forEach((st, b) => {
    const rows: Float64Array[] = [];
    for (let i = 0; i < L; i++) {
      const z = new Float64Array(R);
      for (let v = 0; v < R; v++) {
        const o_ = (b * L + i) * V + v;
        z[v] = (lu[o_] + s * (lc[o_] - lu[o_])) / T;
      }
      const m = Math.max(...z);
      let sum = 0;
      for (let v = 0; v < R; v++) sum += z[v] = Math.exp(z[v] - m);
      for (let v = 0; v < R; v++) z[v] /= sum;
      rows.push(z);
    }
    out.set(st.join(','), rows);
  });
  return out;
}

/**
 * p(x) = E_σ Π_i p(x_σ(i) | x_σ(<i)) over uniformly random orders σ of the free positions, for every
 * full sequence x (index = base-R digits, position 0 most significant; prompt positions fixed).
 */
export async function anyOrderMixture(model: Model, o: MixtureOptions): Promise<Float64Array> {
  const L = o.length,
    R = model.vocabSize - 1,
    mask = model.maskId!;
  const fixed = o.prompt ?? new Int32Array(L).fill(-1);
  const cond = await conditionals(model, o);
  const freePos = [...Array(L).keys()].filter((i) => fixed[i] < 0);
  const m = freePos.length;
  const out = new Float64Array(R ** L);
  let fact = 1;
  for (let i = 2; i <= m; i++) fact *= i;
  for (let idx = 0; idx < out.length; idx++) {
    const x = [...Array(L)].map((_, i) => Math.floor(idx / R ** (L - 1 - i)) % R);
    if (x.some((v, i) => fixed[i] >= 0 && v !== fixed[i])) continue;
    // DP over subsets of free positions: f(S) = Σ_{j∈S} f(S∖j) · p(x_j | x_{S∖j})
    const f = new Float64Array(1 << m);
    f[0] = 1;
    for (let S = 1; S < 1 << m; S++) {
      for (let jj = 0; jj < m; jj++) {
        if (!(S & (1 << jj))) continue;
        const prev = S & ~(1 << jj);
        const state = x.map((v, i) => {
          const k = freePos.indexOf(i);
          return k < 0 ? v : prev & (1 << k) ? v : mask;
        });
        f[S] += f[prev] * cond.get(state.join(','))![freePos[jj]][x[freePos[jj]]];
      }
    }
    out[idx] = f[(1 << m) - 1] / fact;
  }
  return out;
}

export function sequenceIndex(samples: Uint32Array, b: number, L: number, R: number): number {
  let idx = 0;
  for (let i = 0; i < L; i++) idx = idx * R + samples[b * L + i];
  return idx;
}

/**
 * The exact distribution of sequential sampling in order σ from a two-stream model:
 * p(x) = Π_i p_T(x_σ(i) | x_σ(<i)), for every x (one batched pass over all R^L sequences).
 */
export async function sequentialDistribution(
  model: Model,
  L: number,
  order: Uint32Array,
  o: { temperature?: number; classId?: number; guidance?: number; topK?: number } = {},
): Promise<Float64Array> {
  const R = model.vocabSize - 1,
    V = model.vocabSize,
    n = R ** L;
  const tokens = new Uint32Array(n * L);
  for (let idx = 0; idx < n; idx++)
    for (let i = 0; i < L; i++) tokens[idx * L + i] = Math.floor(idx / R ** (L - 1 - i)) % R;
  const orders = new Uint32Array(n * L);
  for (let idx = 0; idx < n; idx++) orders.set(order, idx * L);
  const run = async (cls: number) =>
    (await model.backend.read(
      await model.forward({ tokens, batch: n, length: L, classes: new Uint32Array(n).fill(cls), order: orders }),
    )) as Float32Array;
  const s = o.guidance ?? 1;
  const lc = await run(s === 0 ? model.nullClass : (o.classId ?? model.nullClass));
  const lu = s !== 1 && s !== 0 ? await run(model.nullClass) : lc;
  const T = o.temperature ?? 1;
  const out = new Float64Array(n);
  const z = new Float64Array(R);
  for (let idx = 0; idx < n; idx++) {
    let lp = 0;
    for (let i = 0; i < L; i++) {
      const at = (idx * L + i) * V;
      for (let v = 0; v < R; v++) z[v] = (lu[at + v] + s * (lc[at + v] - lu[at + v])) / T;
      // top-k: keep the k largest (random toy logits have no ties)
      const kth = o.topK ? [...z].sort((a, b) => b - a)[Math.min(o.topK, R) - 1] : -Infinity;
      const x = tokens[idx * L + i];
      if (z[x] < kth) {
        lp = -Infinity;
        break;
      }
      let m = -Infinity;
      for (let v = 0; v < R; v++) if (z[v] >= kth) m = Math.max(m, z[v]);
      let sum = 0;
      for (let v = 0; v < R; v++) if (z[v] >= kth) sum += Math.exp(z[v] - m);
      lp += z[x] - m - Math.log(sum);
    }
    out[idx] = Math.exp(lp);
  }
  return out;
}

/** The law `p` conditioned on the sequences `keep` accepts (by index): restricted and renormalised. */
export function conditioned(p: Float64Array, keep: (index: number) => boolean): Float64Array {
  const c = p.map((v, i) => (keep(i) ? v : 0));
  const z = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / z);
}
