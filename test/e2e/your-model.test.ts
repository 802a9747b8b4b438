// The "your model" page (demos/your-model, <your-model>) in Chromium on the built site (strict CSP):
// - a dropped folder — the BERT-style toy (test/fixtures/bert-toy: torch.onnx graph with absolute positions,
//   post-LN, GELU, an attention-mask input; WordPiece tokenizer.json) — is picked with the folder input, its
//   manifest's roles and sizes are shown, and <sample-scope> samples it end to end in the worker (onnxruntime-web's
//   wasm EP): FHS fills all 32 positions in 32 passes, the prompt "the whale [MASK] ..." fixes its tokens, the
//   rows decode WordPiece pieces to words;
// - bad input keeps the loaded model: a tampered tokenizer.json (IntegrityError), a manifest whose mask token the
//   tokenizer lacks (ModelFormatError [tokenizer-special]), a URL of another origin (OriginNotAllowedError) — after
//   each, the toy still samples;
// - URLs of this site load and sample: /models/text-mdm-onnx/ (char tokenizer), /models/text-bpe-mdm-onnx/ (BPE);
// - drag and drop of the toy's files loads it again;
// - no console errors, no CSP violations. Screenshot: bench/results/screenshots/demo-your-model.png.
// - Hugging Face folders converted by `samplescope convert` (test/fixtures/hf: a bidirectional LLaMA and GPT-2
//   made by transformers) picked the same way run on our kernels in the worker: the card names the architecture,
//   FHS fills the LLaMA's 32 positions in 32 passes, GPT-2 samples left to right (32 passes).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { openPage, ROOT, SCREENSHOTS, useBuiltSite } from '../util/site.js';

const site = useBuiltSite();
const TOY = join(ROOT, 'test/fixtures/bert-toy');
const NAMES = ['manifest.json', 'model.onnx', 'tokenizer.json', 'golden.safetensors'];

/** A copy of the toy with `edit` applied to its manifest and files (sha256 recomputed when `fixSha`). */
function variant(edit: (m: Record<string, any>, files: Record<string, Buffer>) => void, fixSha: boolean): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bert-toy-'));
  const files = Object.fromEntries(NAMES.map((n) => [n, readFileSync(join(TOY, n))]));
  const m = JSON.parse(files['manifest.json'].toString());
  edit(m, files);
  if (fixSha)
    for (const f of m.files) {
      f.sha256 = createHash('sha256').update(files[f.path]).digest('hex');
      f.bytes = files[f.path].length;
    }
  files['manifest.json'] = Buffer.from(JSON.stringify(m));
  for (const n of NAMES) writeFileSync(join(dir, n), files[n]);
  return NAMES.map((n) => join(dir, n));
}

async function pick(page: Page, paths: string[]): Promise<void> {
  // puppeteer cannot fill a webkitdirectory input; the files input takes the same files (flat paths)
  const input = (await page.waitForSelector('your-model >>> #files')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(...paths);
}

/** Wait for the element to settle after a load: the scope ready, or an error shown. */
async function settled(page: Page): Promise<{ error: string; card: string; state: string }> {
  const dump = () =>
    page.evaluate(() => {
      const r = document.querySelector('your-model')!.shadowRoot!;
      const s = r.querySelector('sample-scope');
      return `element: ${r.textContent?.replace(/\s+/g, ' ')} | scope: ${s?.state} ${s?.shadowRoot?.textContent?.replace(/\s+/g, ' ')}`;
    });
  await page
    .waitForFunction(
      () => {
        const r = document.querySelector('your-model')!.shadowRoot!;
        const s = r.querySelector('sample-scope');
        return !r.querySelector('.loading') && (r.querySelector('.error') || (s && s.state !== 'loading'));
      },
      { timeout: 120_000, polling: 100 },
    )
    .catch(async (e) => {
      throw new Error(`${(e as Error).message}; ${await dump()}`);
    });
  return page.evaluate(() => {
    const r = document.querySelector('your-model')!.shadowRoot!;
    return {
      error: r.querySelector('.error')?.textContent ?? '',
      card: r.querySelector('.card')?.textContent?.replace(/\s+/g, ' ') ?? '',
      state: r.querySelector('sample-scope')?.state ?? '',
    };
  });
}

/** Start the scope and return its texts and NFE. */
async function sample(page: Page): Promise<{ texts: string[]; nfe: number; rows: string[] }> {
  return page.evaluate(async () => {
    const s = document.querySelector('your-model')!.shadowRoot!.querySelector('sample-scope')!;
    const d = await s.start();
    await s.updateComplete;
    const rows = [...s.shadowRoot!.querySelectorAll('.row')].map((r) => r.textContent ?? '');
    return { texts: d?.texts ?? [], nfe: d?.nfe ?? -1, rows };
  });
}

describe('your model page (built site)', () => {
  it('a dropped BERT-style ONNX folder samples end to end; bad input keeps it', async () => {
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/your-model/?backend=cpu`);
    await pick(
      page,
      NAMES.map((n) => join(TOY, n)),
    );
    const v = await settled(page);
    expect(v.error).toBe('');
    expect(v.state).toBe('ready');
    for (const s of ['bert-toy', 'onnx · masked-diffusion', 'vocab_size 501', 'max_len 32', 'tokens ← input_ids'])
      expect(v.card).toContain(s);
    expect(v.card).toContain('attention_mask ← attention_mask');
    expect(v.card).toMatch(/tokenizer\.json\s*tokenizer/);
    const a = await sample(page);
    expect(a.nfe).toBe(32);
    expect(a.texts).toHaveLength(2);
    for (const t of a.texts) {
      expect(t).not.toContain('_');
      expect(t.slice(2)).not.toContain('##'); // WordPiece continuations are joined to their word (but the first)
    }
    expect(a.rows.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual(a.texts.map((t) => t.trim()));
    // a prompt fixes its tokens; [MASK] in it is generated
    const p = (await page.waitForSelector('your-model >>> #prompt')) as ElementHandle<HTMLInputElement>;
    await p.type('the whale [MASK] the sea');
    await p.evaluate((e) => e.dispatchEvent(new Event('change')));
    const b = await sample(page);
    expect(b.nfe).toBe(32 - 4);
    for (const t of b.texts) expect(t).toMatch(/^the whale \S+ the sea/);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-your-model.png'), fullPage: true });

    const bad: [string[], RegExp][] = [
      [
        variant(
          (_, f) => (f['tokenizer.json'] = Buffer.from(f['tokenizer.json'].toString().replace('"[UNK]"', '"[UNX]"'))),
          false,
        ),
        /IntegrityError/,
      ],
      [
        variant((m) => (m.tokenizer.mask_token = '<mask>'), true),
        /ModelFormatError.*tokenizer\.json.*tokenizer-special/,
      ],
      [variant((m) => (m.architecture.inputs.tokens = 'ids'), true), /ModelFormatError.*onnx-io/],
    ];
    for (const [paths, want] of bad) {
      await pick(page, paths);
      const w = await settled(page);
      expect(w.error).toMatch(want);
      expect(w.card).toContain('bert-toy'); // the previous model is still shown …
      const c = await sample(page); // … and still samples
      expect(c.nfe).toBe(28);
    }
    await p.evaluate((e) => {
      e.value = '';
      e.dispatchEvent(new Event('change'));
    });
    // a URL of another origin is refused before any fetch; one of this site loads
    const url = (await page.waitForSelector('your-model >>> #url')) as ElementHandle<HTMLInputElement>;
    await url.type('https://models.example.org/m/');
    await url.press('Enter');
    expect((await settled(page)).error).toMatch(/OriginNotAllowedError/);
    /** load a model folder of this site by URL and draw one sample of 16 tokens */
    const fromUrl = async (name: string, classLabel = '') => {
      await url.evaluate((e) => (e.value = ''));
      await url.type(`${site.url}models/${name}/`);
      await url.press('Enter');
      await page.waitForFunction(
        (n) =>
          document.querySelector('your-model')!.shadowRoot!.querySelector('.card h3')?.textContent?.startsWith(`${n} `),
        { timeout: 120_000 },
        name,
      );
      expect((await settled(page)).error).toBe('');
      return page.evaluate(async (c) => {
        const s = document.querySelector('your-model')!.shadowRoot!.querySelector('sample-scope')!;
        Object.assign(s, { length: 16, n: 1, classLabel: c });
        const r = await s.start();
        return { nfe: r?.nfe, text: r?.texts?.[0] ?? '' };
      }, classLabel);
    };
    const d = await fromUrl('text-mdm-onnx');
    expect(d.nfe).toBe(16);
    expect(d.text).toHaveLength(16);
    // the BPE model trained here, as ONNX with its tokenizer.json: byte-level pieces decode to text
    const e = await fromUrl('text-bpe-mdm-onnx', 'moby');
    expect(e.nfe).toBe(16);
    expect(e.text.length).toBeGreaterThan(16); // 16 BPE tokens, ≈ 3 characters each
    expect(e.text).not.toMatch(/[_Ġ]/);
    // drag and drop: the toy's files dropped on the element (a DataTransfer of Files, as a drop of loose files)
    const files = NAMES.map((n) => [n, readFileSync(join(TOY, n)).toString('base64')]);
    await page.evaluate((fs) => {
      const dt = new DataTransfer();
      for (const [n, b64] of fs) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
      const drop = document.querySelector('your-model')!.shadowRoot!.querySelector('.drop')!;
      drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await page.waitForFunction(
      () =>
        document
          .querySelector('your-model')!
          .shadowRoot!.querySelector('.card h3')
          ?.textContent?.startsWith('bert-toy '),
      { timeout: 120_000 },
    );
    expect((await settled(page)).error).toBe('');
    expect((await sample(page)).nfe).toBe(32);
    expect(errors).toEqual([]);
    expect(await csp()).toEqual([]);
    await page.close();
  }, 600_000);

  it('converted Hugging Face folders (bidirectional LLaMA, GPT-2) sample in <sample-scope> on our kernels', async () => {
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/your-model/?backend=cpu`);
    for (const [name, kind] of [
      ['llama-bidir', 'hf · llama · bidirectional'],
      ['gpt2', 'hf · gpt2 · causal'],
    ]) {
      const dir = join(ROOT, 'test/fixtures/hf', name);
      await pick(
        page,
        ['manifest.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(dir, f)),
      );
      await page.waitForFunction(
        (n) =>
          document.querySelector('your-model')!.shadowRoot!.querySelector('.card h3')?.textContent?.startsWith(`${n} `),
        { timeout: 60_000 },
        name,
      );
      const v = await settled(page);
      expect(v.error).toBe('');
      expect(v.card).toContain(kind);
      expect(v.card).toContain('vocab_size 96');
      const r = await sample(page);
      const scope = await page.evaluate(
        () =>
          document
            .querySelector('your-model')!
            .shadowRoot!.querySelector('sample-scope')!
            .shadowRoot!.textContent?.replace(/\s+/g, ' ') ?? '',
      );
      expect(r.nfe, `${name}: ${scope}`).toBe(32);
      expect(r.texts).toHaveLength(2);
      for (const t of r.texts) expect(t.trim().length).toBeGreaterThan(0);
    }
    expect(errors).toEqual([]);
    expect(await csp()).toEqual([]);
    await page.close();
  }, 120_000);
});
