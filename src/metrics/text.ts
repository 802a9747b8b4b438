/**
 * Text diversity metrics on token ids (batch, length):
 * - token entropy of a sample: Shannon entropy (nats) of its empirical unigram distribution — the
 *   statistic Zheng et al. (arXiv 2409.02908) use to expose the low effective temperature of
 *   truncated fp32 Gumbel sampling (repetitive text has low token entropy);
 * - distinct-n (Li et al., arXiv 1510.03055): distinct n-grams / total n-grams over all samples.
 */
export function tokenEntropy(tokens: ArrayLike<number>, batch: number, length: number): Float64Array {
  if (tokens.length !== batch * length)
    throw new RangeError(`need batch·length = ${batch * length} tokens, got ${tokens.length}`);
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const counts = new Map<number, number>();
    for (let i = 0; i < length; i++) counts.set(tokens[b * length + i], (counts.get(tokens[b * length + i]) ?? 0) + 1);
    let h = 0;
    for (const c of counts.values()) {
      const p = c / length;
      h -= p * Math.log(p);
    }
    out[b] = h;
  }
  return out;
}

export function distinctN(tokens: ArrayLike<number>, batch: number, length: number, n: number): number {
  if (tokens.length !== batch * length)
    throw new RangeError(`need batch·length = ${batch * length} tokens, got ${tokens.length}`);
  if (!Number.isInteger(n) || n < 1 || n > length)
    throw new RangeError(`n must be an integer in [1, ${length}], got ${n}`);
  const seen = new Set<string>();
  let total = 0;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i + n <= length; i++) {
      let key = '';
      for (let j = 0; j < n; j++) key += `${tokens[b * length + i + j]},`;
      seen.add(key);
      total++;
    }
  return seen.size / total;
}
