/**
 * Marginalization-model operations (Liu et al., arXiv 2310.12920) for models with a marginal head:
 * - `logMarginals`: log p(x_S | class) of any batch of partial inputs ([MASK] = unobserved) in ONE pass;
 * - `sampleMam`: sampling in an order σ through marginal ratios, p(x_j = v | x_S) ∝ exp(log p(x_S ∪ {j = v})),
 *   one pass per position over the batch × V candidates;
 * - `selfConsistency`: how far the head is from a consistent distribution along a chain,
 *   mean |log p(x_S) + log p_cond(x_j | x_S) − log p(x_S ∪ {j})| with the token head's conditionals,
 *   plus |log p(∅)|.
 */
import { OpInputError, SamplerConfigError } from '../errors.js';
import type { Model, TokenRows } from '../models/model.js';
import type { Tensor } from '../backend/tensor.js';
import { categoricalProbs, dataLogProb } from '../ops/categorical.js';
import type { CommonOptions, SampleResult } from './common.js';
import { checkInt, initialTokens, now, PositionRng, resolveCommon, sampleResult } from './common.js';

function needHead(model: Model, op: string): number {
  if (!model.hasMarginalHead || model.maskId === undefined)
    throw new OpInputError(op, `model ${model.name} has no marginal head / [MASK]`);
  return model.maskId;
}

/**
 * (batch) log p(x_S | class) in one pass; tokens (batch, length) with [MASK] where unobserved.
 * A row shorter than the model's window is scored as the start of a full window whose other positions
 * are unobserved (right-padded with [MASK]): a marginal over the model's own window, so the same text
 * gets the same score whatever length it was declared with — not a pass at a length the model was
 * never trained on.
 */
export async function logMarginals(
  model: Model,
  ...[tokens, batch, length, classId]: TokenRows
): Promise<Float32Array> {
  const mask = needHead(model, 'logMarginals');
  if (classId !== undefined && !(Number.isInteger(classId) && classId >= 0 && classId < model.numClasses)) {
    throw new SamplerConfigError('classId', `an integer in [0, ${model.numClasses - 1}]`, classId);
  }
  checkInt('batch', batch, 1, Number.MAX_SAFE_INTEGER);
  checkInt('length', length, 1, model.maxLength);
  if (tokens.length !== batch * length)
    throw new OpInputError(
      'logMarginals',
      `tokens has ${tokens.length} ids, expected batch·length = ${batch * length}`,
    );
  const W = model.maxLength;
  model.checkFits(batch, W); // before the padded copy below
  let window = tokens;
  if (length < W) {
    window = new Uint32Array(batch * W).fill(mask);
    for (let b = 0; b < batch; b++) window.set(tokens.subarray(b * length, (b + 1) * length), b * W);
  }
  const cls = new Uint32Array(batch).fill(classId ?? model.nullClass);
  const t = model.logMarginal({ tokens: window, batch, length: W, classes: cls });
  try {
    return (await model.backend.read(t)) as Float32Array;
  } finally {
    model.backend.free(t);
  }
}

export interface MamSampleOptions extends CommonOptions {
  /** (length) order σ of the free positions' reveal; default uniformly random per row */
  order?: Uint32Array;
}

export async function sampleMam(model: Model, o: MamSampleOptions): Promise<SampleResult> {
  const mask = needHead(model, 'sampleMam');
  const r = resolveCommon(model, o);
  if (r.guidance !== 1) throw new SamplerConfigError('guidance', '1 for marginal-ratio sampling', r.guidance);
  const { batch: B, length: L } = r;
  const R = model.vocabSize - 1; // real tokens (mask is the last id in our vocabularies)
  if (mask !== R) throw new OpInputError('sampleMam', '[MASK] must be the last vocabulary id');
  model.checkFits(B * R, L); // each step scores B × R candidates in one pass
  const rng = new PositionRng(r.key, 3);
  const init = initialTokens(r, mask);
  const tokens = init.tokens;
  const free: number[][] = [];
  for (let b = 0; b < B; b++) {
    const f = init.free[b];
    if (o.order) {
      if (o.order.length !== L) throw new SamplerConfigError('order', `a Uint32Array of length ${L}`, o.order.length);
      free.push(Array.from(o.order).filter((p) => f.includes(p)));
    } else {
      for (let i = f.length - 1; i > 0; i--) {
        const j = Math.floor(rng.uniform(b, i) * (i + 1));
        [f[i], f[j]] = [f[j], f[i]];
      }
      free.push(f);
    }
  }
  const steps = free.reduce((m, f) => Math.max(m, f.length), 0); // no spread: B rows can exceed the argument limit
  const cand = new Uint32Array(B * R * L);
  const stepTimesMs: number[] = [];
  let nfe = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = now();
    for (let b = 0; b < B; b++) {
      for (let v = 0; v < R; v++) {
        const row = cand.subarray((b * R + v) * L, (b * R + v + 1) * L);
        row.set(tokens.subarray(b * L, (b + 1) * L));
        if (s < free[b].length) row[free[b][s]] = v;
      }
    }
    const lm = model.logMarginal({
      tokens: cand,
      batch: B * R,
      length: L,
      classes: Uint32Array.from({ length: B * R }, (_, i) => r.classes[Math.floor(i / R)]),
    });
    const vals = (await model.backend.read(lm)) as Float32Array;
    model.backend.free(lm);
    nfe++;
    for (let b = 0; b < B; b++) {
      if (s >= free[b].length) continue;
      const p = categoricalProbs(vals.subarray(b * R, (b + 1) * R), {
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
      });
      const u = rng.uniform(b, 1_000_000 + s);
      let c = 0,
        pick = R - 1;
      for (let v = 0; v < R; v++) {
        c += p[v];
        if (u < c) {
          pick = v;
          break;
        }
      }
      tokens[b * L + free[b][s]] = pick;
    }
    stepTimesMs.push(now() - t0);
    o.onStep?.({ step: s, nfe, tokens: tokens.slice() });
  }
  return sampleResult(
    r,
    { samples: tokens, nfe, stepTimesMs, backend: model.backend.name },
    { sampler: 'mam-marginals' },
  );
}

export interface SelfConsistencyReport {
  /** mean over rows and chain steps of |log p(x_S) + log p(x_j | x_S) − log p(x_S ∪ {j})| */
  meanAbsError: number;
  maxAbsError: number;
  /** mean |log p(∅)| (should be 0) */
  emptyAbsLogProb: number;
  steps: number;
}

/** Self-consistency of the marginal head against the token head along a random chain per row. */
export async function selfConsistency(
  model: Model,
  x: Uint32Array,
  batch: number,
  length: number,
  opts: { seed?: number; steps?: number; classId?: number } = {},
): Promise<SelfConsistencyReport> {
  const mask = needHead(model, 'selfConsistency');
  const L = length,
    B = batch;
  const steps = checkInt('steps', opts.steps ?? L, 1, L);
  const rng = new PositionRng([opts.seed ?? 0, 0], 4);
  const cls = new Uint32Array(B).fill(opts.classId ?? model.nullClass);
  const be = model.backend;
  const cur = new Uint32Array(B * L).fill(mask);
  const orders = [...Array(B)].map((_, b) => {
    const p = [...Array(L).keys()];
    for (let i = L - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform(b, i) * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  });
  const readFree = async (p: Tensor | Promise<Tensor>) => {
    const t = await p;
    try {
      return (await be.read(t)) as Float32Array;
    } finally {
      be.free(t);
    }
  };
  let sum = 0,
    max = 0,
    n = 0;
  const lm0 = await readFree(model.logMarginal({ tokens: cur, batch: B, length: L, classes: cls }));
  const empty = lm0.reduce((a, v) => a + Math.abs(v), 0) / B;
  let prev = lm0;
  for (let s = 0; s < steps; s++) {
    const logits = await readFree(await model.forward({ tokens: cur, batch: B, length: L, classes: cls }));
    const V = model.vocabSize;
    const cond = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      const j = orders[b][s];
      cond[b] = dataLogProb(logits.subarray((b * L + j) * V, (b * L + j + 1) * V), x[b * L + j], mask);
      cur[b * L + j] = x[b * L + j];
    }
    const next = await readFree(model.logMarginal({ tokens: cur, batch: B, length: L, classes: cls }));
    for (let b = 0; b < B; b++) {
      const e = Math.abs(prev[b] + cond[b] - next[b]);
      sum += e;
      max = Math.max(max, e);
      n++;
    }
    prev = next;
  }
  return { meanAbsError: sum / n, maxAbsError: max, emptyAbsLogProb: empty, steps };
}
