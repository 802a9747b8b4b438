// Model loading from a folder (Node): the manifest is validated, every file's size and sha256 are
// checked before parsing, and each failure is the right typed error with nothing loaded.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError, ModelFormatError, ModelLoadError } from '../../src/errors.js';
import { loadManifest, loadModelFiles, sha256Hex } from '../../src/models/load.js';
import { validateManifest } from '../../src/models/manifest.js';
import { FIXTURES } from '../util/models.js';

function copyFixture(name = 'tiny-bidir'): string {
  const d = mkdtempSync(join(tmpdir(), 'ss-model-'));
  cpSync(FIXTURES + name, d, { recursive: true });
  return d;
}

describe('model loading', () => {
  it('loads a folder and checks every file', async () => {
    const f = await loadModelFiles(FIXTURES + 'tiny-twostream');
    expect(f.manifest.name).toBe('tiny-twostream');
    expect(f.weights.get('q_emb')!.shape).toEqual([32]);
    expect(f.files.has('golden.safetensors')).toBe(false); // only weights unless asked
  });

  it('sha256 matches node:crypto', async () => {
    const bytes = new TextEncoder().encode('abc');
    expect(await sha256Hex(bytes)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('a changed byte is an IntegrityError; a truncated file too', async () => {
    const d = copyFixture();
    const p = join(d, 'model.safetensors');
    const b = readFileSync(p);
    b[b.length - 1] ^= 1;
    writeFileSync(p, b);
    const want = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).files.find(
      (f: { path: string }) => f.path === 'model.safetensors',
    );
    await expect(loadModelFiles(d)).rejects.toBeInstanceOf(IntegrityError);
    await expect(loadModelFiles(d)).rejects.toMatchObject({
      check: 'sha256',
      message: expect.stringMatching(
        new RegExp(`^model\\.safetensors: expected sha256 ${want.sha256} \\(the manifest's\\), got [0-9a-f]{64}$`),
      ),
    });
    writeFileSync(p, b.subarray(0, b.length - 10));
    await expect(loadModelFiles(d)).rejects.toMatchObject({
      name: 'IntegrityError',
      file: 'model.safetensors',
      check: 'bytes',
      message: `model.safetensors: expected ${want.bytes} bytes (the manifest's), got ${want.bytes - 10} bytes`,
    });
  });

  it('a missing file is a ModelLoadError', async () => {
    await expect(loadModelFiles(join(tmpdir(), 'no-such-model-here'))).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('manifest rules', async () => {
    const m = JSON.parse(readFileSync(FIXTURES + 'tiny-bidir/manifest.json', 'utf8'));
    const bad = (patch: (x: typeof m) => void) => {
      const c = structuredClone(m);
      patch(c);
      return () => validateManifest(c);
    };
    expect(validateManifest(structuredClone(m)).name).toBe('tiny-bidir');
    expect(
      bad((c) => {
        c.format = 'other';
      }),
    ).toThrow(ModelFormatError);
    expect(
      bad((c) => {
        c.files[0].path = '../../etc/passwd';
      }),
    ).toThrow(/plain file name/);
    expect(
      bad((c) => {
        c.files[0].sha256 = 'abc';
      }),
    ).toThrow(/sha256/);
    expect(
      bad((c) => {
        c.architecture.n_heads = 3;
      }),
    ).toThrow(/multiple of n_heads/);
    expect(
      bad((c) => {
        c.tokenizer.vocab.pop();
      }),
    ).toThrow(/vocab_size/);
    expect(
      bad((c) => {
        c.architecture.attention = 'causal';
      }),
    ).toThrow(ModelFormatError);
    const d = copyFixture();
    writeFileSync(join(d, 'manifest.json'), '{"format": "samplescope-model/1", "format": "x"}');
    await expect(loadManifest(d)).rejects.toThrow(/duplicate key/);
  });
});
