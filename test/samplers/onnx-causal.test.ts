// Causal ONNX graphs under the samplers (issue 16), wasm EP in Node, CPU backend. The graph is the
// enumerable toy training/export_onnx.py --causal-toy writes (test/fixtures/tiny-causal-onnx: a one-block
// causal LM with random weights, 3 letters + <bos>, length 4, position_ids input):
// - exactness: sequential sampling through the adapter against the law computed from onnxruntime's own
//   logits on [<bos>, x_0, x_1, x_2] (the session run directly, not through the adapter) — χ² over 81
//   sequences, 20,000 samples, seed 2026, p > 0.01; tempered (T = 0.8) and with a one-token prompt too;
//   the same samples against a wrong variant of the law (x_0 predicted after token "a" instead of <bos>)
//   give p < 1e-6, so the test can fail;
// - left-to-right NLL through the adapter = −log p(x) / L of that law, every sequence;
// - what a causal graph cannot do is a typed error: other orders, ASSD, infill, MDM samplers, any-order passes,
//   a manifest without bos_id.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import {
  IntegrityError,
  LimitExceededError,
  ModelFormatError,
  OpInputError,
  SamplerConfigError,
} from '../../src/errors.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { nllLeftToRight } from '../../src/metrics/nll.js';
import type { OnnxManifest } from '../../src/models/manifest.js';
import { loadOnnxModel, type OnnxTextModel } from '../../src/models/onnx.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { Engine } from '../../src/worker/engine.js';
import { conditioned, sequenceIndex } from '../util/exact.js';
import { FIXTURES } from '../util/models.js';

const cpu = new CpuBackend();
const DIR = FIXTURES + 'tiny-causal-onnx';
const L = 4,
  R = 3, // data tokens a, b, c; <bos> = 3 is never drawn
  BOS = 3,
  N = 20000,
  ALPHA = 0.01;

/**
 * p(x) = Π_i softmax(z_i / T)[x_i] over the data tokens, z_i the graph's logits at position i of
 * [first, x_0 … x_{L−2}] — onnxruntime's own session on the committed graph, every x of R^L at once.
 */
async function exactLaw(first: number, temperature = 1): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(readFileSync(join(DIR, 'model.onnx')));
  const n = R ** L;
  const ids = new BigInt64Array(n * L),
    pos = new BigInt64Array(n * L);
  for (let idx = 0; idx < n; idx++)
    for (let i = 0; i < L; i++) {
      ids[idx * L + i] = BigInt(i === 0 ? first : Math.floor(idx / R ** (L - i)) % R);
      pos[idx * L + i] = BigInt(i);
    }
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, [n, L]),
    position_ids: new ort.Tensor('int64', pos, [n, L]),
  });
  const z = out.logits.data as Float32Array,
    V = R + 1;
  await session.release();
  const p = new Float64Array(n);
  for (let idx = 0; idx < n; idx++) {
    let lp = 0;
    for (let i = 0; i < L; i++) {
      const x = Math.floor(idx / R ** (L - 1 - i)) % R;
      const row = [...z.subarray((idx * L + i) * V, (idx * L + i) * V + R)].map((v) => v / temperature);
      const m = Math.max(...row);
      lp += row[x] - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    }
    p[idx] = Math.exp(lp);
  }
  return p;
}

function counts(samples: Uint32Array): number[] {
  const c = new Array<number>(R ** L).fill(0);
  for (let b = 0; b < samples.length / L; b++) c[sequenceIndex(samples, b, L, R)]++;
  return c;
}

describe('ONNX causal graph: sequential sampling draws the exact law of the graph', () => {
  let model: OnnxTextModel;
  let law: Float64Array;
  beforeAll(async () => {
    model = await loadOnnxModel(DIR, cpu);
    law = await exactLaw(BOS);
  });

  it('is a causal model; the toy is far from uniform (the test has power)', () => {
    expect(model.attention).toBe('causal');
    expect(Math.max(...law) / Math.min(...law)).toBeGreaterThan(20);
    expect(law.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
  });

  it('sequential: χ² fit, NFE = L; a wrong variant of the law (x_0 after "a", not <bos>) is rejected', async () => {
    const res = await sampleAsarm(model, { sampler: 'sequential', batch: N, length: L, seed: 2026 });
    expect(res.nfe).toBe(L);
    const c = counts(res.samples);
    const chi = chiSquare(c, law);
    expect(chi.impossible).toBe(0);
    expect(chi.pValue).toBeGreaterThan(ALPHA);
    const wrong = chiSquare(c, await exactLaw(0));
    console.log(
      `sequential χ² p = ${chi.pValue.toFixed(3)} (df ${chi.df}); wrong <bos> variant p = ${wrong.pValue.toExponential(1)}`,
    );
    expect(wrong.pValue).toBeLessThan(1e-6);
  });

  it('temperature 0.8 and a prompt (x_0 = "b"): χ² fit to the tempered, conditioned law', async () => {
    const prompt = Int32Array.from([1, -1, -1, -1]);
    const res = await sampleAsarm(model, {
      sampler: 'sequential',
      batch: N,
      length: L,
      seed: 7,
      temperature: 0.8,
      prompt,
    });
    const p = conditioned(await exactLaw(BOS, 0.8), (idx) => Math.floor(idx / R ** (L - 1)) === 1);
    const chi = chiSquare(counts(res.samples), p);
    console.log(`T = 0.8 with a prompt: χ² p = ${chi.pValue.toFixed(3)} (df ${chi.df})`);
    expect(chi.impossible).toBe(0);
    expect(chi.pValue).toBeGreaterThan(ALPHA);
    expect(res.nfe).toBe(L - 1);
  });

  it('left-to-right NLL through the adapter is −log p(x) / L of the exact law', async () => {
    const n = R ** L;
    const tokens = new Uint32Array(n * L);
    for (let idx = 0; idx < n; idx++)
      for (let i = 0; i < L; i++) tokens[idx * L + i] = Math.floor(idx / R ** (L - 1 - i)) % R;
    const nll = await nllLeftToRight(model, tokens, n, L);
    for (let idx = 0; idx < n; idx++) expect(nll[idx]).toBeCloseTo(-Math.log(law[idx]) / L, 5);
  });

  it('what a causal graph cannot compute is a typed error', async () => {
    const o = { batch: 2, length: L, seed: 1 };
    await expect(
      sampleAsarm(model, { ...o, sampler: 'sequential', order: Uint32Array.from([1, 0, 2, 3]) }),
    ).rejects.toBeInstanceOf(SamplerConfigError);
    await expect(sampleAsarm(model, { ...o, sampler: 'assd' })).rejects.toBeInstanceOf(SamplerConfigError);
    await expect(
      sampleAsarm(model, { ...o, sampler: 'sequential', prompt: Int32Array.from([-1, 2, -1, -1]) }),
    ).rejects.toBeInstanceOf(SamplerConfigError);
    await expect(sampleMdm(model, { ...o, sampler: 'fhs' })).rejects.toBeInstanceOf(OpInputError);
    const tokens = new Uint32Array(2 * L);
    await expect(
      model.forward({ tokens, batch: 2, length: L, order: Uint32Array.from([0, 1, 3, 2, 0, 1, 2, 3]) }),
    ).rejects.toBeInstanceOf(OpInputError);
    await expect(
      model.forward({ tokens, batch: 2, length: L, queryPrefix: Uint32Array.from([1, 1]) }),
    ).rejects.toBeInstanceOf(OpInputError);
    // logits beyond what the backend holds: refused before anything is allocated
    await expect(model.forward({ tokens: new Uint32Array(0), batch: 2 ** 28, length: L })).rejects.toBeInstanceOf(
      LimitExceededError,
    );
  });

  it('a causal manifest without bos_id, or with a role a causal graph lacks, is refused', async () => {
    const base = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as OnnxManifest;
    const rule = async (edit: (m: OnnxManifest) => void) => {
      const d = mkdtempSync(join(tmpdir(), 'ss-causal-'));
      cpSync(DIR, d, { recursive: true });
      const m = structuredClone(base);
      edit(m);
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      return loadOnnxModel(d, cpu).then(
        () => 'ok',
        (e: unknown) => (e instanceof ModelFormatError ? e.rule : (e as Error).name),
      );
    };
    expect(await rule(() => {})).toBe('ok');
    expect(
      await rule((m) => {
        delete m.architecture.bos_id;
      }),
    ).toBe('manifest-architecture');
    expect(
      await rule((m) => {
        (m.architecture.outputs as Record<string, string>).eps = 'logits';
      }),
    ).toBe('manifest-onnx-io');
    expect(
      await rule((m) => {
        delete m.architecture.inputs.position_ids;
      }),
    ).toBe('onnx-io');
  });

  it('through the engine: sequential text; corrupt bytes and a sha256 mismatch under its handle keep it working', async () => {
    const e = new Engine();
    await e.init('cpu');
    expect(await e.loadModel(DIR, { id: 'lm' })).toMatchObject({ kind: 'text', attention: 'causal' });
    const d = mkdtempSync(join(tmpdir(), 'ss-causal-bad-'));
    cpSync(DIR, d, { recursive: true });
    const bytes = readFileSync(join(d, 'model.onnx'));
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(join(d, 'model.onnx'), bytes);
    await expect(e.loadModel(d, { id: 'lm' })).rejects.toBeInstanceOf(IntegrityError);
    const r = await e.sampleText({ model: 'lm', sampler: 'sequential', options: { batch: 3, length: L, seed: 4 } });
    expect(r.nfe).toBe(L);
    expect(r.texts.every((t) => /^[abc]{4}$/.test(t))).toBe(true);
    e.dispose();
  });
});
