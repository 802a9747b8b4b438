// ONNX models under the samplers (issue 16), on onnxruntime-web's wasm EP in Node, CPU backend:
// - parity: the ONNX export of tiny-bidir (training/export_onnx.py --folder) vs the native model with the
//   same weights: logits within 2e-3 + 2e-3·|ref| at several batches and lengths (dynamic axes), and FHS
//   with one seed draws the same tokens on ≥ 99.9 % of positions;
// - exactness: FHS and ancestral (one token per step) through the adapter on an enumerable ONNX toy
//   (3 tokens + [MASK], length 4, sharp random weights) match the any-order mixture computed from
//   onnxruntime's own logits — χ² over 81 sequences, 20,000 samples, seed 2026, p > 0.01; guided too;
// - bad input: graphs whose inputs do not match the manifest's roles, wrong dtypes or ranks, corrupt
//   bytes, a sha256 mismatch → ModelFormatError / IntegrityError naming the input and the rule.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { IntegrityError, ModelFormatError } from '../../src/errors.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { loadModel } from '../../src/models/index.js';
import type { OnnxManifest } from '../../src/models/manifest.js';
import { loadOnnxModel, planOnnx } from '../../src/models/onnx.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';
import { anyOrderMixture, sequenceIndex } from '../util/exact.js';
import { expectClose, sameFraction } from '../util/gpu.js';
import { FIXTURES } from '../util/models.js';

const cpu = new CpuBackend();

describe('ONNX adapter: parity with the native model (same weights)', () => {
  it('logits agree at several batches and lengths; FHS draws the same tokens', async () => {
    const onnx = await loadOnnxModel(FIXTURES + 'tiny-bidir-onnx', cpu);
    const native = await loadModel(FIXTURES + 'tiny-bidir', cpu);
    expect([onnx.maxLength, onnx.vocabSize, onnx.maskId, onnx.numClasses]).toEqual([
      native.maxLength,
      native.vocabSize,
      native.maskId,
      native.numClasses,
    ]);
    for (const [B, L] of [
      [1, 12],
      [3, 5],
      [4, 1],
    ]) {
      const tokens = Uint32Array.from({ length: B * L }, (_, i) => (i * 7) % 11);
      const classes = Uint32Array.from({ length: B }, (_, b) => b % 3);
      const input = { tokens, batch: B, length: L, classes };
      expectClose(
        await cpu.read(await onnx.forward(input)),
        await cpu.read(native.forward(input)),
        2e-3,
        2e-3,
        `B=${B} L=${L}`,
      );
    }
    const o = { batch: 16, length: 12, seed: 5, sampler: 'fhs' as const, classId: 1, guidance: 2 };
    const [a, b] = [await sampleMdm(onnx, o), await sampleMdm(native, o)];
    expect(sameFraction(a.samples, b.samples)).toBeGreaterThanOrEqual(0.999);
    expect(a.nfe).toBe(b.nfe);
    onnx.dispose();
  });
});

describe('ONNX adapter: samplers draw from the exact distribution of the graph', () => {
  const L = 4,
    R = 3,
    N = 20000;
  const fit = async (
    o: Partial<MdmOptions> & Pick<MdmOptions, 'sampler'>,
    exact: Parameters<typeof anyOrderMixture>[1],
  ) => {
    const model = await loadOnnxModel(FIXTURES + 'tiny-enum-onnx', cpu);
    const res = await sampleMdm(model, { batch: N, length: L, seed: 2026, ...o });
    const counts = new Array(R ** L).fill(0);
    for (let b = 0; b < N; b++) counts[sequenceIndex(res.samples, b, L, R)]++;
    const p = await anyOrderMixture(model, exact); // from onnxruntime's own logits
    model.dispose();
    return { res, chi: chiSquare(counts, p), p };
  };

  it('the toy is far from uniform (the test has power)', async () => {
    const model = await loadOnnxModel(FIXTURES + 'tiny-enum-onnx', cpu);
    const p = await anyOrderMixture(model, { length: L });
    expect(Math.max(...p) / Math.min(...p)).toBeGreaterThan(20);
  });

  it('FHS: χ² fit, NFE = L', async () => {
    const { res, chi } = await fit({ sampler: 'fhs' }, { length: L });
    expect(chi.impossible).toBe(0);
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(L);
  });

  it('ancestral, one token per step: χ² fit', async () => {
    const { chi } = await fit({ sampler: 'ancestral', tokensPerStep: 1 }, { length: L });
    expect(chi.pValue).toBeGreaterThan(0.01);
  });

  it('guidance s = 2.5 with class 0 and temperature 0.8: χ² fit to the guided, tempered mixture', async () => {
    const { res, chi } = await fit(
      { sampler: 'fhs', classId: 0, guidance: 2.5, temperature: 0.8 },
      { length: L, classId: 0, guidance: 2.5, temperature: 0.8 },
    );
    expect(chi.pValue).toBeGreaterThan(0.01);
    expect(res.nfe).toBe(2 * L);
  });
});

describe('ONNX adapter: bad input is a typed error naming the rule', () => {
  const base = JSON.parse(readFileSync(FIXTURES + 'tiny-bidir-onnx/manifest.json', 'utf8')) as OnnxManifest;
  const copy = (edit: (m: OnnxManifest, dir: string) => void): string => {
    const d = mkdtempSync(join(tmpdir(), 'ss-onnx-'));
    cpSync(FIXTURES + 'tiny-bidir-onnx', d, { recursive: true });
    const m = structuredClone(base);
    edit(m, d);
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    return d;
  };
  const rule = async (dir: string) =>
    loadOnnxModel(dir, cpu).then(
      () => 'ok',
      (e: unknown) => (e instanceof ModelFormatError ? e.rule : (e as Error).name),
    );

  it('roles that name no graph input, a graph input without a role, an unknown output', async () => {
    expect(
      await rule(
        copy((m) => {
          m.architecture.inputs.tokens = 'input_ids';
        }),
      ),
    ).toBe('onnx-io');
    expect(
      await rule(
        copy((m) => {
          delete m.architecture.inputs.class;
          m.architecture.n_classes = 0;
          m.classes = ['none'];
          m.null_class = 0;
        }),
      ),
    ).toBe('onnx-io');
    expect(
      await rule(
        copy((m) => {
          m.architecture.outputs.logits = 'scores';
        }),
      ),
    ).toBe('onnx-io');
    expect(
      await rule(
        copy((m) => {
          (m.architecture.inputs as Record<string, string>).segment = 'cls';
        }),
      ),
    ).toBe('manifest-onnx-io');
  });

  it('a vocabulary that does not match the graph, a length over max_len', async () => {
    expect(
      await rule(
        copy((m) => {
          m.architecture.vocab_size = 12;
          const t = m.tokenizer as { vocab: string[] };
          t.vocab = [...t.vocab, 'z'];
        }),
      ),
    ).toBe('onnx-shape');
  });

  it('corrupt bytes, a sha256 mismatch', async () => {
    const corrupt = copy((m, d) => {
      const p = join(d, 'model.onnx');
      const b = readFileSync(p);
      b.fill(7, 100, 400);
      writeFileSync(p, b);
      m.files[0].sha256 = createHashHex(b);
    });
    expect(await rule(corrupt)).toBe('onnx-graph');
    const tampered = copy((_m, d) => {
      const p = join(d, 'model.onnx');
      const b = readFileSync(p);
      b[b.length - 3] ^= 1;
      writeFileSync(p, b);
    });
    await expect(loadOnnxModel(tampered, cpu)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('declared dtypes and ranks are checked before the first run', () => {
    const meta = (over: Record<string, unknown>) =>
      ({
        inputMetadata: [
          { name: 'tokens', isTensor: true, type: 'int64', shape: ['batch', 'length'], ...over },
          { name: 'cls', isTensor: true, type: 'int64', shape: ['batch'] },
        ],
        outputMetadata: [{ name: 'logits', isTensor: true, type: 'float32', shape: ['batch', 'length', 11] }],
      }) as unknown as Parameters<typeof planOnnx>[1];
    const ruleOf = (over: Record<string, unknown>) => {
      try {
        planOnnx(base, meta(over), 'model.onnx');
        return 'ok';
      } catch (e) {
        return (e as ModelFormatError).rule;
      }
    };
    expect(ruleOf({})).toBe('ok');
    expect(ruleOf({ type: 'float32' })).toBe('onnx-dtype');
    expect(ruleOf({ shape: ['batch'] })).toBe('onnx-shape');
    expect(ruleOf({ shape: [2, 64] })).toBe('onnx-shape'); // a fixed length over max_len 12
    expect(planOnnx(base, meta({ shape: [2, 8] }), 'model.onnx')).toMatchObject({ fixedBatch: 2, fixedLength: 8 });
  });
});

function createHashHex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
