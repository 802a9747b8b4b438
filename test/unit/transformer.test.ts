// The transformer on the CPU backend against PyTorch golden vectors (training/export_test_fixtures.py):
// bidirectional logits, two-stream logits for three orders (left-to-right, random, reversed), and the
// MaM head. Tolerance atol 1e-4 + rtol 1e-4 (f32 PyTorch vs f64-accumulating twins over 2 layers).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadModel } from '../../src/models/index.js';
import { OpInputError } from '../../src/errors.js';
import { expectClose } from '../util/gpu.js';
import { FIXTURES, golden } from '../util/models.js';

const cpu = new CpuBackend();

describe('transformer (cpu) vs PyTorch golden', () => {
  it('bidirectional: logits and log-marginal', async () => {
    const m = await loadModel(FIXTURES + 'tiny-bidir', cpu);
    const g = await golden(FIXTURES + 'tiny-bidir');
    const input = { tokens: Uint32Array.from(g.x), batch: 3, length: 12, classes: Uint32Array.from(g.cls) };
    expectClose(await cpu.read(m.forward(input)), g.logits, 1e-4, 1e-4, 'logits');
    expectClose(await cpu.read(m.logMarginal(input)), g.log_marginal, 1e-4, 1e-4, 'log marginal');
  });

  it('two-stream: logits for three orders, and the marginal head', async () => {
    const m = await loadModel(FIXTURES + 'tiny-twostream', cpu);
    const g = await golden(FIXTURES + 'tiny-twostream');
    const input = {
      tokens: Uint32Array.from(g.x),
      batch: 3,
      length: 12,
      classes: Uint32Array.from(g.cls),
      order: Uint32Array.from(g.order),
    };
    expectClose(await cpu.read(m.forward(input)), g.logits_two_stream, 1e-4, 1e-4, 'two-stream logits');
    expectClose(await cpu.read(m.logMarginal(input)), g.log_marginal, 1e-4, 1e-4, 'log marginal');
  });

  it('observed-softplus MaM head: log-marginal of partly and wholly unobserved rows (log p(∅) = 0 exactly)', async () => {
    const m = await loadModel(FIXTURES + 'tiny-mam-softplus', cpu);
    const g = await golden(FIXTURES + 'tiny-mam-softplus');
    const input = { tokens: Uint32Array.from(g.x), batch: 3, length: 12, classes: Uint32Array.from(g.cls) };
    expectClose(await cpu.read(m.forward(input)), g.logits, 1e-4, 1e-4, 'logits');
    const lm = await cpu.read(m.logMarginal(input));
    expectClose(lm, g.log_marginal, 1e-4, 1e-4, 'log marginal');
    expect(lm[1]).toBe(0); // row 1 observes nothing: an empty sum, not a trained-to-be-small number
    expect(Math.max(...lm)).toBeLessThanOrEqual(0);
  });

  it('bad inputs are typed errors', async () => {
    const m = await loadModel(FIXTURES + 'tiny-twostream', cpu);
    const ok = { tokens: new Uint32Array(12), batch: 1, length: 12 };
    expect(() => m.forward({ ...ok, tokens: new Uint32Array(12).fill(11) })).toThrow(/outside the vocabulary/);
    expect(() => m.forward({ ...ok, length: 13, tokens: new Uint32Array(13) })).toThrow(OpInputError);
    expect(() => m.forward({ ...ok, classes: Uint32Array.of(3) })).toThrow(/class 3/);
    expect(() => m.forward({ ...ok, order: new Uint32Array(12) })).toThrow(/permutation/);
  });
});
