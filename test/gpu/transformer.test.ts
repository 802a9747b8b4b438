// The transformer on WebGPU against the same PyTorch golden vectors as the CPU test (all kernels
// composed: embedding, layer norm, matmul+bias+GELU, RoPE, masked two-stream attention, add).
// Tolerance atol 2e-4 + rtol 2e-4 (f32 kernels vs f32 PyTorch through 2 layers).
import { describe, it } from 'vitest';
import { loadModel } from '../../src/models/index.js';
import { expectClose, gpuBackend } from '../util/gpu.js';
import { FIXTURES, golden } from '../util/models.js';

describe('transformer (webgpu) vs PyTorch golden', () => {
  it('bidirectional logits and log-marginal', async () => {
    const gpu = await gpuBackend();
    const m = await loadModel(FIXTURES + 'tiny-bidir', gpu);
    const g = await golden(FIXTURES + 'tiny-bidir');
    const input = { tokens: Uint32Array.from(g.x), batch: 3, length: 12, classes: Uint32Array.from(g.cls) };
    expectClose(await gpu.read(m.forward(input)), g.logits, 2e-4, 2e-4, 'logits');
    expectClose(await gpu.read(m.logMarginal(input)), g.log_marginal, 2e-4, 2e-4, 'log marginal');
    m.dispose();
  });

  it('two-stream logits for three orders', async () => {
    const gpu = await gpuBackend();
    const m = await loadModel(FIXTURES + 'tiny-twostream', gpu);
    const g = await golden(FIXTURES + 'tiny-twostream');
    const input = { tokens: Uint32Array.from(g.x), batch: 3, length: 12, classes: Uint32Array.from(g.cls), order: Uint32Array.from(g.order) };
    expectClose(await gpu.read(m.forward(input)), g.logits_two_stream, 2e-4, 2e-4, 'two-stream logits');
    expectClose(await gpu.read(m.logMarginal(input)), g.log_marginal, 2e-4, 2e-4, 'log marginal');
    m.dispose();
  });
});
