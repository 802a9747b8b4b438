// text-asarm's ONNX form (training/export_onnx.py --folder models/text-asarm models/text-asarm-onnx): the
// two-stream model in left-to-right order as a causal graph. Its left-to-right NLL per character of held-out
// windows equals the native model's within 2e-3 (at the full length and at 40 characters: the graph's length is
// dynamic), so it serves as a sweep's NLL evaluator in place of text-asarm (issue 16 item 3: an ONNX model as the
// evaluator); sequential sampling runs on it and any other order is a typed error.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { OpInputError, SamplerConfigError } from '../../src/errors.js';
import { loadModel, loadModelFiles } from '../../src/models/index.js';
import { loadOnnxModel } from '../../src/models/onnx.js';
import { tensorData } from '../../src/models/safetensors.js';
import { nllLeftToRight } from '../../src/metrics/nll.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { Engine } from '../../src/worker/engine.js';
import { MODELS } from '../util/models.js';

describe('text-asarm as a causal ONNX graph', () => {
  it('left-to-right NLL equals the native model’s; it evaluates a sweep; sequential sampling only', async () => {
    const be = new CpuBackend();
    const native = await loadModel(MODELS + 'text-asarm', be);
    const onnx = await loadOnnxModel(MODELS + 'text-asarm-onnx', be, { ep: 'wasm' });
    expect(onnx.attention).toBe('causal');
    const ref = await loadModelFiles(MODELS + 'text-classifier', { roles: ['reference'] });
    const all = Uint32Array.from(tensorData(ref.files.get('reference.safetensors')!, 'tokens'));
    const B = 3;
    for (const L of [128, 40]) {
      const rows = new Uint32Array(B * L);
      for (let b = 0; b < B; b++) rows.set(all.subarray(b * 128 * 70, b * 128 * 70 + L), b * L);
      for (const cls of [undefined, 1]) {
        const [a, n] = [await nllLeftToRight(onnx, rows, B, L, cls), await nllLeftToRight(native, rows, B, L, cls)];
        for (let b = 0; b < B; b++) expect(Math.abs(a[b] - n[b]), `L ${L} row ${b} class ${cls}`).toBeLessThan(2e-3);
      }
    }
    const s = await sampleAsarm(onnx, { sampler: 'sequential', batch: 2, length: 12, seed: 1 });
    expect(s.samples.every((t) => t !== onnx.maskId)).toBe(true);
    const assd = await sampleAsarm(onnx, { sampler: 'assd', batch: 1, length: 8, seed: 1 }).catch((e) => e);
    expect(assd instanceof OpInputError || assd instanceof SamplerConfigError).toBe(true);

    // as a sweep's evaluator: the same realism as with the native text-asarm
    const e = new Engine();
    await e.init('cpu');
    for (const m of ['text-mdm-onnx', 'text-classifier', 'text-asarm', 'text-asarm-onnx'])
      await e.loadModel(MODELS + m, { id: m });
    const spec = {
      kind: 'text' as const,
      model: 'text-mdm-onnx',
      sampler: 'ancestral',
      base: { steps: 2 },
      grid: { temperature: [1] },
      classes: [0, 1],
      perClass: 3,
      seed: 3,
      classifier: 'text-classifier',
    };
    const [viaOnnx] = await e.sweep({ ...spec, evaluator: 'text-asarm-onnx' });
    const [viaNative] = await e.sweep({ ...spec, evaluator: 'text-asarm' });
    expect(Math.abs(viaOnnx.metrics.nll - viaNative.metrics.nll)).toBeLessThan(2e-3);
    e.dispose();
  });
});
