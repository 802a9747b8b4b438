// Tokenizers (src/models/tokenizer.ts): the character tokenizer and HF tokenizer.json through
// @huggingface/tokenizers, on the BERT-style toy's WordPiece (test/fixtures/bert-toy, training/make_bert_toy.py)
// text-bpe-mdm's byte-level BPE (training/bpe.py) and a small Unigram (Metaspace) written in the test:
// - the JS library encodes the validation passage to exactly the ids training/bpe.py trained on (golden text_ids);
// - decoding shows masked positions as the glyph, joins partial words (WordPiece ##, BPE word pieces);
// - prompts: the mask token's text marks free positions, the rest after the text is free, too long is an error;
// - bad input: JSON that does not parse, a model type it cannot run, a missing special token, ids beyond the
//   model's vocab_size, a mask_id that is not the mask token's → ModelFormatError naming tokenizer.json and the rule;
// - a dropped folder (Blobs by path) goes through the same checks as a URL: sha256 mismatch, missing file;
// - the toy's ONNX graph through the adapter matches PyTorch's logits (golden), 2e-3 + 2e-3·|ref|.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { IntegrityError, ModelFormatError, ModelLoadError, OpInputError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { loadManifest } from '../../src/models/load.js';
import { validateManifest, type HfTokenizerManifest } from '../../src/models/manifest.js';
import { loadOnnxModel } from '../../src/models/onnx.js';
import {
  CharTokenizer,
  encodePrompt,
  parseHfTokenizer,
  tokenizerFromSpec,
  tokenizerOf,
} from '../../src/models/tokenizer.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { expectClose, sameFraction } from '../util/gpu.js';
import { FIXTURES, golden, MODELS } from '../util/models.js';

const BERT = FIXTURES + 'bert-toy/';
const BPE = MODELS + 'text-bpe-mdm/';
const bertSpec: HfTokenizerManifest = {
  type: 'hf',
  file: 'tokenizer.json',
  mask_token: '[MASK]',
  pad_token: '[PAD]',
  clean_up_tokenization_spaces: true,
};
const bytes = (p: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(p));
const rule = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).file).toBe('tokenizer.json');
    return (e as ModelFormatError).rule;
  }
  return 'accepted';
};

describe('character tokenizer', () => {
  const t = new CharTokenizer(['a', 'b', ' ', '[MASK]'], 3);
  it('encodes, decodes and makes prompts', () => {
    expect(t.encode('ab a')).toEqual([0, 1, 2, 0]);
    expect(t.decode([0, 3, 1])).toBe('a_b');
    expect(Array.from(encodePrompt(t, 'a[MASK]b', 5))).toEqual([0, -1, 1, -1, -1]);
    expect(() => t.encode('ac')).toThrow(OpInputError);
    expect(() => encodePrompt(t, 'abab', 3)).toThrow(OpInputError);
  });
});

describe('HF tokenizer.json (WordPiece, BERT toy)', () => {
  it('encodes words and pieces, decodes masked positions and partial words', async () => {
    const tok = await parseHfTokenizer(bertSpec, bytes(BERT + 'tokenizer.json'), 501);
    const ids = tok.encode('The whale [MASK] sailing!');
    expect(ids).toContain(tok.maskId);
    const words = ids.map((i) => tok.tokenStrings()[i]);
    expect(words).toEqual(['the', 'whale', '[MASK]', 'sail', '##ing', '!']);
    expect(tok.decode(ids)).toBe('the whale _ sailing!');
    // a continuation piece right after a masked position attaches to it; pieces read as the text
    const m = tok.maskId!;
    const cont = [ids[0], m, tok.idOf('##ing')!, ids[1]];
    expect(tok.pieces(cont, '·')).toEqual(['the', ' ·', 'ing', ' whale']);
    expect(tok.decode(cont)).toBe('the _ing whale');
    expect(Array.from(encodePrompt(tok, 'the [MASK] whale', 6))).toEqual([ids[0], -1, ids[1], -1, -1, -1]);
  });

  it('rejects a bad tokenizer.json with the rule', async () => {
    const good = JSON.parse(readFileSync(BERT + 'tokenizer.json', 'utf8'));
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(await rule(parseHfTokenizer(bertSpec, new TextEncoder().encode('{"model": '), 501))).toBe('tokenizer-json');
    expect(await rule(parseHfTokenizer(bertSpec, enc({ ...good, model: { type: 'Lattice' } }), 501))).toBe(
      'tokenizer-model',
    );
    expect(await rule(parseHfTokenizer(bertSpec, enc({ ...good, decoder: undefined }), 501))).toBe('tokenizer-json');
    expect(await rule(parseHfTokenizer({ ...bertSpec, mask_token: '<mask>' }, enc(good), 501))).toBe(
      'tokenizer-special',
    );
    expect(await rule(parseHfTokenizer({ ...bertSpec, pad_token: '<pad>' }, enc(good), 501))).toBe('tokenizer-special');
    expect(await rule(parseHfTokenizer({ ...bertSpec, mask_id: 0 }, enc(good), 501))).toBe('tokenizer-special');
    expect(await rule(parseHfTokenizer(bertSpec, enc(good), 400))).toBe('tokenizer-vocab');
    expect(await rule(parseHfTokenizer(bertSpec, enc(good), 501))).toBe('accepted');
  });

  it('the manifest must list the tokenizer file with role "tokenizer"', () => {
    const m = JSON.parse(readFileSync(BERT + 'manifest.json', 'utf8'));
    expect(() => validateManifest({ ...m, tokenizer: { ...m.tokenizer, file: 'vocab.json' } })).toThrow(
      /role "tokenizer".*manifest-tokenizer/,
    );
    expect(() => validateManifest({ ...m, tokenizer: { ...m.tokenizer, mask_token: undefined } })).toThrow(
      /mask_token/,
    );
    expect(validateManifest(m).name).toBe('bert-toy');
  });
});

describe('HF tokenizer.json (Unigram with Metaspace, written here)', () => {
  it('encodes by the unigram lattice, decodes masked positions and joined pieces', async () => {
    const vocab = [
      ['<unk>', 0],
      ['[MASK]', 0],
      ['▁', -2],
      ['▁the', -1],
      ['▁whale', -1.5],
      ['▁sail', -2],
      ['ing', -1.8],
    ];
    for (const c of 'aeghilnstw') vocab.push([c, -3]);
    const meta = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    const json = {
      version: '1.0',
      added_tokens: [
        {
          id: 1,
          content: '[MASK]',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        },
      ],
      normalizer: null,
      pre_tokenizer: meta,
      post_processor: null,
      decoder: meta,
      model: { type: 'Unigram', unk_id: 0, vocab, byte_fallback: false },
    };
    const tok = await parseHfTokenizer(
      { type: 'hf', file: 'tokenizer.json', mask_token: '[MASK]' },
      new TextEncoder().encode(JSON.stringify(json)),
      vocab.length,
    );
    const ids = tok.encode('the whale [MASK] sailing');
    expect(ids).toEqual([3, 4, 2, 1, 5, 6]); // ▁the ▁whale ▁ [MASK] ▁sail ing
    expect(tok.pieces(ids)).toEqual(['the', ' whale', ' ', '·', ' sail', 'ing']);
    expect(tok.decode(ids)).toBe('the whale _ sailing');
  });
});

describe('a dropped folder (Blobs by path) is checked like a URL', () => {
  const folder = (edit?: (name: string, b: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>, drop?: string) =>
    new Map(
      ['manifest.json', 'model.onnx', 'tokenizer.json', 'golden.safetensors']
        .filter((n) => n !== drop)
        .map((n) => [n, new Blob([edit ? edit(n, bytes(BERT + n)) : bytes(BERT + n)])]),
    );
  const cpu = new CpuBackend();

  it('loads, and its graph matches PyTorch (golden logits); FHS samples decode to text', async () => {
    const m = await loadOnnxModel('dropped/bert-toy', cpu, { files: folder() });
    expect(m.maskId).toBe(4);
    const g = await golden(BERT);
    const logits = await cpu.read(
      await m.forward({ tokens: Uint32Array.from(g.x), batch: 2, length: 16, classes: new Uint32Array(2) }),
    );
    expectClose(logits, g.logits as Float32Array, 2e-3, 2e-3, 'bert-toy logits');
    const r = await sampleMdm(m, { batch: 2, length: 12, seed: 1, sampler: 'fhs' });
    const tok = tokenizerOf(m);
    const text = tok.decode(r.samples.subarray(0, 12));
    expect(text).not.toContain('_');
    expect(text.length).toBeGreaterThan(12);
    m.dispose();
  });

  it('a sha256 mismatch, a missing file, a bad tokenizer → typed errors', async () => {
    const flip = (name: string) => (n: string, b: Uint8Array<ArrayBuffer>) => {
      if (n !== name) return b;
      const c = b.slice();
      c[c.length - 2] ^= 1;
      return c;
    };
    await expect(loadOnnxModel('d', cpu, { files: folder(flip('tokenizer.json')) })).rejects.toBeInstanceOf(
      IntegrityError,
    );
    await expect(loadOnnxModel('d', cpu, { files: folder(undefined, 'tokenizer.json') })).rejects.toBeInstanceOf(
      ModelLoadError,
    );
    await expect(loadManifest('d', { files: folder(undefined, 'manifest.json') })).rejects.toBeInstanceOf(
      ModelLoadError,
    );
  });
});

describe('text-bpe-mdm: byte-level BPE trained by training/bpe.py', () => {
  it('the JS library encodes the validation passage to the ids the model was trained on', async () => {
    const m = await loadModel(BPE, new CpuBackend());
    const tok = tokenizerOf(m);
    expect(m.maskId).toBe(2047);
    const g = await golden(BPE);
    const text = String.fromCharCode(...g.text_codes);
    expect(text.length).toBe(400);
    expect(tok.encode(text)).toEqual(Array.from(g.text_ids));
    expect(tok.decode(tok.encode(text))).toBe(text);
    // the spec crosses the worker boundary; the page's rebuilt tokenizer decodes the same
    const again = await tokenizerFromSpec(tok.spec);
    expect(again.decode(g.text_ids)).toBe(text);
    m.dispose();
  });

  it('its ONNX form (training/export_onnx.py --folder) agrees with the native model and brings its tokenizer', async () => {
    const cpu = new CpuBackend();
    const onnx = await loadOnnxModel(BPE.replace(/\/$/, '-onnx/'), cpu);
    const native = await loadModel(BPE, cpu);
    expect(onnx.maskId).toBe(native.maskId);
    expect(tokenizerOf(onnx).tokenStrings()).toEqual(tokenizerOf(native).tokenStrings());
    const [B, L] = [2, 40];
    const tokens = Uint32Array.from({ length: B * L }, (_, i) => (i % 3 === 0 ? 2047 : (i * 37) % 2047));
    const input = { tokens, batch: B, length: L, classes: Uint32Array.of(0, 2) };
    expectClose(await cpu.read(await onnx.forward(input)), await cpu.read(native.forward(input)), 2e-3, 2e-3, 'logits');
    const o = { batch: 2, length: 24, seed: 3, sampler: 'fhs' as const, classId: 0 };
    const [a, b] = [await sampleMdm(onnx, o), await sampleMdm(native, o)];
    expect(sameFraction(a.samples, b.samples)).toBeGreaterThanOrEqual(0.999);
    onnx.dispose();
    native.dispose();
  });
});
