// nllLeftToRight on a toy two-stream model equals −log of the exact left-to-right sequence
// probability / L for every sequence (within 1e-6: both in f64 from the same f32 logits).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { OpInputError } from '../../src/errors.js';
import { nllLeftToRight } from '../../src/metrics/nll.js';
import { randomModel } from '../../src/models/random.js';
import { sequentialDistribution } from '../util/exact.js';

describe('nllLeftToRight', () => {
  it('is the exact left-to-right likelihood per token', async () => {
    const cpu = new CpuBackend();
    const L = 3,
      R = 3;
    const model = randomModel(
      { vocab: R, length: L, dModel: 8, heads: 2, classes: 2, twoStream: true, scale: 2, seed: 5 },
      cpu,
    );
    const p = await sequentialDistribution(model, L, Uint32Array.from([0, 1, 2]), { classId: 1 });
    const n = R ** L;
    const tokens = new Uint32Array(n * L);
    for (let idx = 0; idx < n; idx++)
      for (let i = 0; i < L; i++) tokens[idx * L + i] = Math.floor(idx / R ** (L - 1 - i)) % R;
    const nll = await nllLeftToRight(model, tokens, n, L, 1);
    for (let idx = 0; idx < n; idx++) expect(nll[idx]).toBeCloseTo(-Math.log(p[idx]) / L, 6);
    // [MASK] is not data
    await expect(nllLeftToRight(model, Uint32Array.from([0, R, 1]), 1, L)).rejects.toBeInstanceOf(OpInputError);
  });
});
