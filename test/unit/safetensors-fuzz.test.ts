// Fuzzed model loading (issue 9, hardening). fast-check mutations of valid safetensors files (header
// length, header JSON text, dtypes, shapes, offsets, truncation, huge declared sizes, appended
// trailers) and manifests, each checked against an independent oracle of the format
// (test/util/model-fuzz.ts): every rejection is a typed ModelFormatError whose rule the input really
// breaks, naming a tensor that breaks it; a mutation that is still a valid file parses to exactly the
// tensors its header declares, with the bytes' values; the reader allocates no fresh ArrayBuffer /
// typed-array storage while parsing and, per tensor, only its output. ~13,000 mutations here (fixed
// seeds); `npm run fuzz:models` runs 125,000. Then: the three public safetensors abuse cases, the bugs
// the fuzzer found, and sha256 mismatches (typed error, nothing loaded, nothing cached).
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IntegrityError, ModelFormatError } from '../../src/errors.js';
import { loadManifest, loadModelFiles } from '../../src/models/load.js';
import { parseSafetensors, tensorData } from '../../src/models/safetensors.js';
import {
  AllocationLimitError,
  AllocationProbe,
  applyFileMutation,
  applyManifestMutation,
  assemble,
  checkManifest,
  checkSafetensors,
  fileMutation,
  formatStats,
  manifestFromBytes,
  manifestMutation,
  newStats,
  RULES,
  seedManifests,
} from '../util/model-fuzz.js';
import { FIXTURES } from '../util/models.js';

const probe = new AllocationProbe();
const OriginalFloat64Array = Float64Array;

/** Parse with no fresh storage allowed at all; returns the rule of the ModelFormatError, or 'ok'. */
function rule(bytes: Uint8Array, maxHeaderBytes?: number): string {
  try {
    probe.run(0, () => parseSafetensors(bytes, { maxHeaderBytes }));
  } catch (e) {
    if (e instanceof ModelFormatError) return e.rule;
    throw e;
  }
  return 'ok';
}

function error(bytes: Uint8Array): ModelFormatError {
  try {
    parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw e;
  }
  throw new Error('parsed');
}

const file = (header: unknown, data: number | Uint8Array) =>
  assemble(JSON.stringify(header), typeof data === 'number' ? new Uint8Array(data) : data);
const f32 = (shape: number[], b: number, e: number) => ({ dtype: 'F32', shape, data_offsets: [b, e] });
const withLength = (bytes: Uint8Array, n: bigint) => {
  const b = bytes.slice();
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};

describe('fuzzed safetensors and manifests', () => {
  it('the allocation probe counts typed-array storage and refuses requests over its limit (so its checks can fail)', () => {
    probe.reset();
    probe.run(64, () => new Float32Array(4));
    expect(probe.largest).toBe(16);
    probe.reset();
    probe.run(64, () => new Uint8Array(new ArrayBuffer(32)));
    expect([probe.count, probe.total]).toEqual([1, 32]); // the buffer, not the view
    expect(() => probe.run(64, () => new Float64Array(9))).toThrow(AllocationLimitError);
    expect(globalThis.Float64Array).toBe(OriginalFloat64Array); // restored
    // and the reader's own output is seen: tensorData makes a Float32Array of the tensor's size
    const f = parseSafetensors(file({ a: f32([3], 0, 12) }, 12));
    probe.reset();
    probe.run(12, () => tensorData(f, 'a'));
    expect(probe.total).toBe(12);
  });

  it('10,000 mutated files: typed rejections naming a broken rule and tensor, accepted files exactly as declared', () => {
    const stats = newStats();
    fc.assert(
      fc.property(fileMutation, (m) => checkSafetensors(applyFileMutation(m), stats, probe)),
      { numRuns: 10_000, seed: 20_260_901 },
    );
    console.log(`safetensors fuzz:\n${formatStats(stats)}`);
    // the mutations reach every rule and the accept path, not only the first check
    for (const r of RULES) {
      expect(stats.rejected.get(`ModelFormatError:${r}`) ?? 0, r).toBeGreaterThan(10);
    }
    expect(stats.accepted).toBeGreaterThan(stats.tried / 20);
    expect([...stats.rejected.keys()].every((k) => k.startsWith('ModelFormatError:'))).toBe(true);
  });

  it('500 mutated files under a 96-byte header cap', () => {
    const stats = newStats();
    fc.assert(
      fc.property(fileMutation, (m) => checkSafetensors(applyFileMutation(m), stats, probe, 96)),
      { numRuns: 500, seed: 7 },
    );
    expect(stats.rejected.get('ModelFormatError:header-length')).toBeGreaterThan(100);
    expect(stats.accepted).toBeGreaterThan(0);
  });

  it('2,500 mutated manifests through loadManifest: accepted ones are sound, the rest are ModelFormatErrors about manifest.json', async () => {
    const stats = newStats();
    await fc.assert(
      fc.asyncProperty(manifestMutation, (m) => checkManifest(applyManifestMutation(m), stats)),
      { numRuns: 2500, seed: 20_260_902 },
    );
    console.log(`manifest fuzz:\n${formatStats(stats)}`);
    for (const r of [
      'manifest-json',
      'manifest-files',
      'manifest-architecture',
      'manifest-classes',
      'manifest-tokenizer',
      'manifest-format',
    ]) {
      expect(stats.rejected.get(`ModelFormatError:${r}`) ?? 0, r).toBeGreaterThan(10);
    }
    expect(stats.accepted).toBeGreaterThan(stats.tried / 20);
  });

  it('200 mutated manifests read from disk (the Node file path) give the same result as over fetch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-fuzz-manifest-'));
    const samples = fc.sample(manifestMutation, { numRuns: 200, seed: 11 });
    let accepted = 0;
    for (const m of samples) {
      const bytes = applyManifestMutation(m);
      writeFileSync(join(dir, 'manifest.json'), bytes);
      const outcome = (p: Promise<{ name: string }>) =>
        p.then(
          (x) => x.name,
          (e: unknown) => {
            if (!(e instanceof ModelFormatError)) throw e;
            return `rejected:${e.rule}`;
          },
        );
      const want = await outcome(manifestFromBytes(bytes));
      const got = await outcome(loadManifest(dir));
      expect(got).toBe(want);
      if (!want.startsWith('rejected:')) accepted++;
    }
    expect(accepted).toBeGreaterThan(10);
  });
});

describe('public safetensors abuse cases (regressions)', () => {
  // huggingface/safetensors caps the header (MAX_HEADER_SIZE) and checks 8 + N ≤ file length before
  // reading it; readers that sized a buffer from N could be made to allocate up to 2^64 bytes.
  it('abuse case 1 — oversized header length: refused before anything is read or allocated', () => {
    const valid = file({ a: f32([2], 0, 8) }, 8);
    expect(rule(valid)).toBe('ok');
    for (const n of [2n ** 64n - 1n, 2n ** 60n, 2n ** 40n, 2n ** 32n, BigInt(valid.length)]) {
      expect(rule(withLength(valid, n)), `N = ${n}`).toBe('header-length'); // > cap or > file
    }
    expect(rule(withLength(valid, BigInt(valid.length - 8 + 1)))).toBe('header-length'); // one byte past the end
    // the cap, separately from the file size: the same valid file under a smaller cap
    const n = valid.length - 8 - 8;
    expect(rule(valid, n)).toBe('ok');
    expect(rule(valid, n - 1)).toBe('header-length');
    expect(error(withLength(valid, 2n ** 60n)).message).toMatch(/header length \d+ exceeds the cap/);
    // a header bloated with padding (the public "header bloating" DoS) costs linear time
    const pad = new TextEncoder().encode(`{${' '.repeat(400_000)}x`);
    const t0 = performance.now();
    expect(rule(assemble(pad, new Uint8Array(0)))).toBe('header-json');
    expect(performance.now() - t0).toBeLessThan(2000); // the old / +$/ trim took minutes here
  });

  // The format requires the byte buffer to be "entirely indexed" with no holes, to prevent polyglot
  // files (huggingface/safetensors README, "Format"; Metadata::validate sorts by offsets and chains
  // them): two names over the same bytes, or unindexed bytes carrying another format's payload.
  it('abuse case 2 — overlapping offsets / polyglot file: aliases, overlaps and unindexed payloads are refused', () => {
    const aliasing = error(file({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, 8));
    expect([aliasing.rule, aliasing.tensor]).toEqual(['overlap', 'b']);
    expect(rule(file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12))).toBe('overlap');
    expect(rule(file({ a: f32([4], 0, 16), z: f32([0], 8, 8) }, 16))).toBe('overlap'); // an empty tensor inside another
    expect(rule(file({ a: f32([2], -8, 0) }, 0))).toBe('offsets'); // reaching back into the header
    // the file is also a zip: an end-of-central-directory record after the last tensor
    const eocd = Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
    const zipTail = assemble(JSON.stringify({ a: f32([1], 0, 4) }), Uint8Array.from([0, 0, 128, 63, ...eocd]));
    expect([error(zipTail).rule, error(zipTail).tensor]).toEqual(['hole', undefined]);
    // unindexed bytes between two tensors
    const gap = error(file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12));
    expect([gap.rule, gap.tensor]).toEqual(['hole', 'b']);
    // one name, two meanings: JSON.parse would keep the second silently
    expect(
      rule(
        assemble(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}',
          new Uint8Array(4),
        ),
      ),
    ).toBe('duplicate-name');
    // contrast: the same zip record as the declared content of a U8 tensor is just that tensor's data
    const inside = parseSafetensors(file({ blob: { dtype: 'U8', shape: [22], data_offsets: [0, 22] } }, eocd));
    expect([...tensorData(inside, 'blob')]).toEqual([...eocd]);
  });

  it('abuse case 3 — shape-size mismatch: shape × dtype size ≠ byte span is refused, without overflow or allocation', () => {
    expect(rule(file({ a: f32([3], 0, 8) }, 8))).toBe('shape-size');
    expect(rule(file({ a: f32([1], 0, 8) }, 8))).toBe('shape-size');
    expect(rule(file({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 4] } }, 4))).toBe('shape-size');
    expect(rule(file({ a: f32([2 ** 26, 2 ** 26], 0, 8) }, 8))).toBe('shape-size'); // 2^54 bytes declared
    // 2^32 · 2^32 · 4 = 2^66 ≡ 0 (mod 2^64): wrapping arithmetic would accept an empty span
    expect(rule(file({ a: f32([2 ** 32, 2 ** 32], 0, 0) }, 0))).toBe('shape-size');
    expect(rule(file({ a: f32([2 ** 53 - 1, 2 ** 53 - 1, 2 ** 53 - 1], 0, 4) }, 4))).toBe('shape-size');
    const e = error(file({ w: f32([3], 0, 8), v: f32([2], 8, 16) }, 16));
    expect([e.tensor, e.message]).toEqual([
      'w',
      expect.stringMatching(/tensor "w": shape \[3\] × 4 bytes = 12, but data_offsets span 8/),
    ]);
  });
});

describe('bugs the fuzzer found (regressions)', () => {
  it('a dtype named like an Object.prototype member is an unknown dtype (was: shape-size with "× function toString()")', () => {
    for (const dtype of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const e = error(file({ a: { dtype, shape: [], data_offsets: [0, 0] } }, 0));
      expect([e.rule, e.tensor], dtype).toEqual(['dtype', 'a']);
    }
  });

  it('a byte-order mark before the header is refused (was: stripped by TextDecoder and accepted)', () => {
    const text = new TextEncoder().encode(JSON.stringify({ a: f32([1], 0, 4) }));
    expect(rule(assemble(text, new Uint8Array(4)))).toBe('ok');
    expect(rule(assemble(Uint8Array.from([0xef, 0xbb, 0xbf, ...text]), new Uint8Array(4)))).toBe('header-json');
  });

  it('a metadata key "__proto__" is kept as an entry (was: dropped by assignment to the prototype)', () => {
    const f = parseSafetensors(assemble('{"__metadata__":{"__proto__":"x","k":"v"}}', new Uint8Array(0)));
    expect(Object.entries(f.metadata)).toEqual([
      ['__proto__', 'x'],
      ['k', 'v'],
    ]);
    expect(Object.getPrototypeOf(f.metadata)).toBe(Object.prototype);
  });

  it('an empty tensor with a dimension larger than the buffer is valid (was: shape-size "needs more bytes than the buffer holds")', () => {
    const f = parseSafetensors(file({ z: f32([1_000_000, 0], 0, 0), a: f32([1], 0, 4) }, 4));
    expect(f.tensors.get('z')!.shape).toEqual([1_000_000, 0]);
    expect(tensorData(f, 'z').length).toBe(0);
    expect(rule(file({ z: f32([2 ** 40, 2 ** 40, 0], 0, 0) }, 0))).toBe('ok');
  });

  it('a number literal longer than 400 characters is read whole (was: header-json "expected , or ]")', () => {
    const huge = '1' + '0'.repeat(450); // valid JSON, = Infinity as a double
    const e = error(assemble(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,${huge}]}}`, new Uint8Array(4)));
    expect([e.rule, e.tensor]).toEqual(['offsets', 'a']);
  });

  it('a tensor named "" is named in the message (was: omitted as falsy)', () => {
    const e = error(file({ '': f32([2], 0, 4) }, 4));
    expect([e.rule, e.tensor, e.message]).toEqual(['shape-size', '', expect.stringContaining('tensor "": ')]);
  });

  it('manifests: null file entries, "." / ".." paths, object betas and non-string textcnn vocab are ModelFormatErrors (were: TypeErrors or accepted)', async () => {
    const seeds = Object.fromEntries(seedManifests().map((s) => [s.name, s.text]));
    const manifest = (name: string, edit: (m: Record<string, any>) => void) => {
      const m = JSON.parse(seeds[name]) as Record<string, any>;
      edit(m);
      return new TextEncoder().encode(JSON.stringify(m));
    };
    const bad = (bytes: Uint8Array) =>
      manifestFromBytes(bytes).then(
        () => 'ok',
        (e: unknown) => {
          if (e instanceof ModelFormatError) return e.rule;
          throw e;
        },
      );
    expect(await bad(manifest('tiny-bidir', () => {}))).toBe('ok');
    expect(await bad(manifest('tiny-bidir', (m) => m.files.push(null)))).toBe('manifest-files'); // was TypeError: reading 'path' of null
    expect(
      await bad(
        manifest('tiny-bidir', (m) => {
          m.files[1].path = '..';
        }),
      ),
    ).toBe('manifest-files'); // was accepted: the parent folder
    expect(
      await bad(
        manifest('tiny-bidir', (m) => {
          m.files[1].path = '.';
        }),
      ),
    ).toBe('manifest-files');
    // parseStrictJson makes null-prototype objects, which a template literal cannot print
    expect(
      await bad(
        manifest('digits-diffusion', (m) => {
          m.diffusion.beta_start = {};
        }),
      ),
    ).toBe('manifest-diffusion'); // was TypeError
    expect(
      await bad(
        manifest('text-classifier', (m) => {
          m.tokenizer.vocab[0] = 7;
        }),
      ),
    ).toBe('manifest-tokenizer'); // was accepted
    // the Ising section <ising-grid> reads through the worker's ModelInfo
    seeds['ising-mam'] = readFileSync('models/ising-mam/manifest.json', 'utf8');
    expect(await bad(manifest('ising-mam', () => {}))).toBe('ok');
    expect(
      await bad(
        manifest('ising-mam', (m) => {
          m.ising.L = 11;
        }),
      ),
    ).toBe('manifest-ising'); // L² ≠ max_len
    expect(
      await bad(
        manifest('ising-mam', (m) => {
          m.ising.log_z = '89';
        }),
      ),
    ).toBe('manifest-ising');
    expect(
      await bad(
        manifest('ising-mam', (m) => {
          m.ising = [10];
        }),
      ),
    ).toBe('manifest-ising');
  });
});

describe('sha256 mismatch: typed error, nothing loaded', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function copyFixture(): string {
    const d = mkdtempSync(join(tmpdir(), 'ss-fuzz-model-'));
    cpSync(`${FIXTURES}tiny-bidir`, d, { recursive: true });
    return d;
  }

  it('is checked before parsing: a same-size file that is also malformed gives IntegrityError, not ModelFormatError', async () => {
    const d = copyFixture();
    const p = join(d, 'model.safetensors');
    const b = readFileSync(p);
    const expected = createHash('sha256').update(b).digest('hex');
    b.writeBigUInt64LE(2n ** 60n, 0); // a 2^60-byte header: the parser would refuse it
    writeFileSync(p, b);
    const err = await loadModelFiles(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({
      file: 'model.safetensors',
      expected,
      actual: createHash('sha256').update(b).digest('hex'),
    });
  });

  it('over fetch: a bad download is never cached, a cached copy that no longer verifies is evicted, and the call rejects', async () => {
    const dir = `${FIXTURES}tiny-bidir/`;
    const files: Record<string, Uint8Array> = {};
    for (const n of ['manifest.json', 'model.safetensors', 'golden.safetensors'])
      files[n] = new Uint8Array(readFileSync(dir + n));
    const served = { ...files };
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      const name = String(url).split('/').pop()!;
      fetched.push(name);
      return served[name] ? new Response(served[name].slice()) : new Response('missing', { status: 404 });
    });
    const cached = new Map<string, Uint8Array>();
    const log: string[] = [];
    const cache = {
      match: async (url: string) => (cached.has(url) ? new Response(cached.get(url)!.slice()) : undefined),
      put: async (url: string, res: Response) => {
        log.push(`put ${url.split('/').pop()}`);
        cached.set(url, new Uint8Array(await res.arrayBuffer()));
      },
      delete: async (url: string) => {
        log.push(`delete ${url.split('/').pop()}`);
        return cached.delete(url);
      },
    };
    vi.stubGlobal('caches', { open: async () => cache });
    const source = 'https://models.test/tiny-bidir/';

    // control: the real files load and are cached once verified
    const ok = await loadModelFiles(source, { roles: ['golden'] });
    expect(ok.weights.size).toBeGreaterThan(0);
    expect(log).toEqual(['put model.safetensors', 'put golden.safetensors']);

    // a changed byte in a fresh download: IntegrityError, not cached
    cached.clear();
    log.length = 0;
    const bad = files['golden.safetensors'].slice();
    bad[bad.length - 1] ^= 1;
    served['golden.safetensors'] = bad;
    const err = await loadModelFiles(source, { roles: ['golden'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ file: 'golden.safetensors' });
    expect(log).toContain('put model.safetensors'); // the verified weights
    expect(log).not.toContain('put golden.safetensors');
    expect(cached.has(`${source}golden.safetensors`)).toBe(false);

    // a cached copy that no longer verifies: evicted, the call rejects
    cached.set(`${source}golden.safetensors`, bad);
    log.length = 0;
    fetched.length = 0;
    await expect(loadModelFiles(source, { roles: ['golden'] })).rejects.toBeInstanceOf(IntegrityError);
    expect(fetched).not.toContain('golden.safetensors'); // it came from the cache
    expect(log).toEqual(['delete golden.safetensors']);
    expect(cached.has(`${source}golden.safetensors`)).toBe(false);
  });
});
