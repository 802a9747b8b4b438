// Integrity and origin (issue 9, part 2). Model URLs are limited to an allowlist: the page's (or
// worker's) own origin by default, extended by the embedding page with `allowedOrigins`; any other
// origin is an OriginNotAllowedError before anything is fetched or looked up in the Cache API. Node
// file paths are always allowed. No code is ever loaded from a model: a listed file full of
// JavaScript (with the right sha256) is read as safetensors bytes and refused, never run, and no
// module of the loader / engine / UI evaluates or imports anything it is given.
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IntegrityError, ModelFormatError, OriginNotAllowedError } from '../../src/errors.js';
import { allowedOriginsFor, checkOrigin, loadManifest, loadModelFiles } from '../../src/models/load.js';
import { FIXTURES } from '../util/models.js';

const PAGE = 'https://app.example';
const files: Record<string, Uint8Array> = {};
for (const n of ['manifest.json', 'model.safetensors'])
  files[n] = new Uint8Array(readFileSync(`${FIXTURES}tiny-bidir/${n}`));

/** A page at https://app.example/demo/ whose fetch serves the tiny-bidir fixture at every origin; logs fetches and cache opens. */
function stubPage(): { fetched: string[]; cacheOpens: number[] } {
  const log = { fetched: [] as string[], cacheOpens: [] as number[] };
  vi.stubGlobal('location', new URL(`${PAGE}/demo/`));
  vi.stubGlobal('fetch', async (url: string) => {
    log.fetched.push(String(url));
    const f = files[String(url).split('/').pop()!];
    return f ? new Response(f.slice()) : new Response('missing', { status: 404 });
  });
  vi.stubGlobal('caches', {
    open: async () => {
      log.cacheOpens.push(1);
      return { match: async () => undefined, put: async () => {}, delete: async () => true };
    },
  });
  return log;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('model origin allowlist', () => {
  it('default: the page origin loads, any other origin is refused before any fetch or cache lookup', async () => {
    const log = stubPage();
    expect((await loadModelFiles(`${PAGE}/models/tiny/`)).weights.size).toBeGreaterThan(0);
    expect(log.fetched.every((u) => u.startsWith(`${PAGE}/models/tiny/`))).toBe(true);
    const fetchedBefore = log.fetched.length,
      opensBefore = log.cacheOpens.length;
    for (const url of [
      'https://evil.example/models/tiny/',
      'http://app.example/models/tiny/',
      'https://app.example:8443/m/',
      'https://app.example.evil.example/m/',
    ]) {
      const err = await loadModelFiles(url).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(OriginNotAllowedError);
      expect((err as OriginNotAllowedError).allowed).toEqual([PAGE]);
      expect((err as OriginNotAllowedError).url).toMatch(/manifest\.json$/);
    }
    await expect(loadManifest('https://evil.example/m/')).rejects.toMatchObject({
      name: 'OriginNotAllowedError',
      code: 'origin-not-allowed',
      origin: 'https://evil.example',
    });
    expect(log.fetched.length, 'nothing fetched for a refused origin').toBe(fetchedBefore);
    expect(log.cacheOpens.length, 'nor looked up in the cache').toBe(opensBefore);
  });

  it('allowedOrigins extends the page origin (normalised), "*" allows any, data: URLs never', async () => {
    const log = stubPage();
    const opts = { allowedOrigins: ['https://CDN.example:443/'] };
    expect(allowedOriginsFor(opts)).toEqual([PAGE, 'https://cdn.example']);
    expect((await loadModelFiles('https://cdn.example/models/tiny/', opts)).manifest.name).toBe('tiny-bidir');
    expect((await loadModelFiles(`${PAGE}/models/tiny/`, opts)).manifest.name).toBe('tiny-bidir');
    const err = await loadModelFiles('https://other.example/m/', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OriginNotAllowedError);
    expect((err as Error).message).toContain('allowed: https://app.example, https://cdn.example');
    expect(log.fetched.some((u) => u.startsWith('https://other.example'))).toBe(false);
    expect((await loadModelFiles('https://other.example/m/', { allowedOrigins: ['*'] })).manifest.name).toBe(
      'tiny-bidir',
    );
    // blob: URLs carry their creator's origin; data: URLs have none
    expect(() => checkOrigin(`blob:${PAGE}/0b1c`, {})).not.toThrow();
    expect(() => checkOrigin('blob:https://evil.example/0b1c', {})).toThrow(OriginNotAllowedError);
    expect(() => checkOrigin('data:application/json,{}', { allowedOrigins: ['https://cdn.example'] })).toThrow(
      OriginNotAllowedError,
    );
  });

  it('Node: file paths are always allowed; URLs are unrestricted without a page unless allowedOrigins is given', async () => {
    expect(allowedOriginsFor({})).toBeNull();
    expect((await loadModelFiles(`${FIXTURES}tiny-bidir`, { allowedOrigins: [] })).manifest.name).toBe('tiny-bidir');
    const log = stubPage();
    vi.stubGlobal('location', undefined);
    expect((await loadModelFiles('https://any.example/m/')).manifest.name).toBe('tiny-bidir');
    await expect(
      loadModelFiles('https://any.example/m/', { allowedOrigins: ['https://cdn.example'] }),
    ).rejects.toBeInstanceOf(OriginNotAllowedError);
    expect(log.fetched.filter((u) => u.endsWith('manifest.json')).length).toBe(1);
    // and with a page, a path-like source is still a file path in Node
    vi.stubGlobal('location', new URL(`${PAGE}/`));
    expect((await loadModelFiles(`${FIXTURES}tiny-bidir`)).manifest.name).toBe('tiny-bidir');
  });
});

describe('no code is ever loaded from a model', () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('a listed file holding JavaScript (right size and sha256) is refused as safetensors and never runs', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ss-code-'));
    cpSync(`${FIXTURES}tiny-bidir`, d, { recursive: true });
    const js = new TextEncoder().encode('globalThis.__modelCodeRan = 1; export default 1;\n');
    const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    for (const [name, role] of [
      ['model.js', 'weights'],
      ['extra.mjs', 'code'],
    ] as const) {
      writeFileSync(join(d, name), js);
      const m = structuredClone(manifest);
      m.files = [
        ...m.files.filter((f: { role: string }) => f.role !== 'weights' || role !== 'weights'),
        { path: name, role, bytes: js.byteLength, sha256: sha(js) },
      ];
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      const err = await loadModelFiles(d, { roles: [role] }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).file, name).toBe(name);
    }
    expect((globalThis as { __modelCodeRan?: number }).__modelCodeRan).toBeUndefined();
  });

  it('a sha256 mismatch is an IntegrityError with nothing returned (the file is not parsed)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ss-code-'));
    cpSync(`${FIXTURES}tiny-bidir`, d, { recursive: true });
    const b = readFileSync(join(d, 'model.safetensors'));
    b[b.length - 1] ^= 0x40;
    writeFileSync(join(d, 'model.safetensors'), b);
    const err = await loadModelFiles(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ file: 'model.safetensors', actual: sha(b) });
  });

  it('no source module evaluates strings or imports a specifier that is not a literal', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) =>
        statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : [],
      );
    const sources = walk(root);
    expect(sources.length).toBeGreaterThan(20);
    const found: string[] = [];
    let dynamicImports = 0;
    for (const f of sources) {
      const text = readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const re of [
        /\beval\s*\(/,
        /\bnew\s+Function\s*\(/,
        /\bimportScripts\s*\(/,
        /\bsetTimeout\s*\(\s*['"`]/,
        /\bsetInterval\s*\(\s*['"`]/,
        /\.innerHTML\s*=/,
        /insertAdjacentHTML|document\.write|unsafeHTML/,
      ]) {
        if (re.test(text)) found.push(`${f}: ${re}`);
      }
      // import(x): x must be a string literal or a const bound to one in the same file
      for (const m of text.matchAll(/\bimport\s*\(\s*([^)]*?)\s*\)/g)) {
        dynamicImports++;
        const arg = m[1];
        if (/^(['"])[^'"]*\1$/.test(arg)) continue;
        const bound = new RegExp(
          `\\bconst\\s+${arg.replace(/[^\w$]/g, '')}\\s*=\\s*(['"])(node:[\\w/]+|webgpu)\\1`,
        ).test(text);
        if (!/^[\w$]+$/.test(arg) || !bound) found.push(`${f}: import(${arg})`);
      }
    }
    expect(dynamicImports, "the scan sees the loader's own imports of node:fs / node:crypto").toBeGreaterThan(1);
    expect(found).toEqual([]);
  });
});
