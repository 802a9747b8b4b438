/**
 * Likelihood and class-consistency metrics through the Model / classifier interfaces:
 * - `nllLeftToRight`: −log p(x) per token under a two-stream (AS-ARM) or causal evaluator in left-to-right
 *   order — one pass gives every conditional p(x_i | x_<i), so this is an exact likelihood;
 * - `classConsistency`: the fraction of samples a classifier assigns to the class they were asked for.
 */
import { OpInputError } from '../errors.js';
import type { Model, TokenRows } from '../models/model.js';
import { dataLogProb } from '../ops/categorical.js';

/**
 * Mean negative log-likelihood per token (nats) of each row, under `classId` (default: no class);
 * the conditionals are normalised over the data vocabulary ([MASK] excluded), in f64.
 */
export async function nllLeftToRight(model: Model, ...rows: TokenRows): Promise<Float64Array> {
  const [, batch, length] = rows;
  const lp = await logProbsLeftToRight(model, ...rows);
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let i = 0; i < length; i++) s -= lp[b * length + i];
    out[b] = s / length;
  }
  return out;
}

/**
 * log p(x_i | x_<i) (nats) at every position of each row, (batch, length), from one left-to-right pass
 * of a two-stream (AS-ARM) model: the sum of a row's first k entries is the exact log-probability of
 * its first k tokens (the query stream at i sees only positions < i, so what follows cannot matter).
 */
export async function logProbsLeftToRight(
  model: Model,
  ...[tokens, batch, length, classId]: TokenRows
): Promise<Float64Array> {
  if (model.attention !== 'two-stream' && model.attention !== 'causal')
    throw new OpInputError('nllLeftToRight', `${model.name} is not a two-stream (AS-ARM) or causal model`);
  const be = model.backend,
    V = model.vocabSize;
  if (tokens.length !== batch * length)
    throw new OpInputError('nllLeftToRight', `need batch·length = ${batch * length} tokens, got ${tokens.length}`);
  for (const t of tokens)
    if (t === model.maskId || t >= V) throw new OpInputError('nllLeftToRight', `token ${t} is not a data token`);
  const order = new Uint32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let i = 0; i < length; i++) order[b * length + i] = i;
  const classes = new Uint32Array(batch).fill(classId ?? model.nullClass);
  const logits = await model.forward({ tokens, batch, length, order, classes });
  const l = (await be.read(logits)) as Float32Array;
  be.free(logits);
  const out = new Float64Array(batch * length);
  for (let i = 0; i < batch * length; i++)
    out[i] = dataLogProb(l.subarray(i * V, (i + 1) * V), tokens[i], model.maskId);
  return out;
}

/** Fraction of rows of (n, K) logits whose argmax equals the requested class. */
export function classConsistency(logits: ArrayLike<number>, numClasses: number, requested: ArrayLike<number>): number {
  const n = requested.length;
  if (logits.length !== n * numClasses) throw new RangeError(`need ${n}·${numClasses} logits, got ${logits.length}`);
  let ok = 0;
  for (let b = 0; b < n; b++) {
    let k = 0;
    for (let j = 1; j < numClasses; j++) if (logits[b * numClasses + j] > logits[b * numClasses + k]) k = j;
    if (k === requested[b]) ok++;
  }
  return ok / n;
}
