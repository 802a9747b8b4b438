// The safetensors reader: files written by PyTorch-side code parse; each format rule has a test that
// breaks it and expects ModelFormatError naming that rule; the three public abuse cases (oversized
// header, overlapping offsets / polyglot, shape-size mismatch) are regressions; and fast-check byte
// and header mutations of valid files (3,000 here; issue 9 scales this up) only ever produce a valid
// parse or a ModelFormatError — never another exception.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.js';
import { parseSafetensors, tensorData, writeSafetensors } from '../../src/models/safetensors.js';
import { parseStrictJson } from '../../src/models/json.js';
import { FIXTURES } from '../util/models.js';

function fileWithHeader(header: unknown, dataBytes: number, rawHeader?: string): Uint8Array {
  const h = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  return out;
}

function rule(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ModelFormatError) return e.rule;
    throw e;
  }
  return 'ok';
}

const valid = () =>
  writeSafetensors(
    [
      { name: 'a', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'b', dtype: 'I32', shape: [2], data: Int32Array.from([-7, 9]) },
    ],
    { note: 'x' },
  );

describe('safetensors reader', () => {
  it('reads what the PyTorch exporter wrote (F32 and F16 fixtures)', () => {
    for (const [dir, dtype] of [
      ['tiny-bidir', 'F32'],
      ['tiny-twostream', 'F16'],
    ]) {
      const f = parseSafetensors(new Uint8Array(readFileSync(`${FIXTURES}${dir}/model.safetensors`)));
      const t = f.tensors.get('tok_emb.weight')!;
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([11, 32]);
      expect(tensorData(f, 'tok_emb.weight').length).toBe(352);
    }
  });

  it('round-trips values and metadata', () => {
    const f = parseSafetensors(valid());
    expect(f.metadata).toEqual({ note: 'x' });
    expect([...tensorData(f, 'a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...tensorData(f, 'b')]).toEqual([-7, 9]);
  });

  it('converts F16 and BF16 exactly', () => {
    const h = Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]); // 1, -2, 2^-24, inf, 0.33325195
    const f = parseSafetensors(writeSafetensors([{ name: 'h', dtype: 'F16', shape: [5], data: h }]));
    expect([...tensorData(f, 'h')]).toEqual([1, -2, 2 ** -24, Infinity, 0.333251953125]);
    const bf = fileWithHeader({ x: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, 2);
    bf.set([0x80, 0x3f], bf.length - 2); // 0x3f80 = 1.0
    expect([...tensorData(parseSafetensors(bf), 'x')]).toEqual([1]);
  });

  it('keeps F16 as bits, converts BF16 to f16 with a range check, decodes I64 with a range check', () => {
    const h = Uint16Array.from([0x3c00, 0xc000, 0x0001]);
    const bf = Uint16Array.from([0x3f80, 0xc040, 0x4780, 0x3380]); // 1, -3, 65536 (beyond f16), 2^-24
    const i64 = BigInt64Array.from([0n, -5n, 2147483647n]);
    const bytes = writeSafetensors([
      { name: 'h', dtype: 'F16', shape: [3], data: h },
      { name: 'ok', dtype: 'BF16', shape: [2], data: bf.subarray(0, 2) },
      { name: 'big', dtype: 'BF16', shape: [1], data: bf.subarray(2, 3) },
      { name: 'tiny', dtype: 'BF16', shape: [1], data: bf.subarray(3, 4) },
      { name: 'pos', dtype: 'I64', shape: [3], data: i64 },
      { name: 'far', dtype: 'I64', shape: [1], data: BigInt64Array.from([2n ** 40n]) },
    ]);
    const f = parseSafetensors(bytes, { file: 'model.safetensors' });
    const o = { f16: true };
    expect(tensorData(f, 'h', 'model.safetensors', o)).toEqual(h); // the same bits, no f32 round trip
    expect([...tensorData(f, 'ok', 'model.safetensors', o)]).toEqual([0x3c00, 0xc200]);
    expect([...tensorData(f, 'tiny', 'model.safetensors', o)]).toEqual([0x0001]); // 2^-24: the smallest subnormal
    expect([...tensorData(f, 'big')]).toEqual([65536]); // as f32 it loads
    const e = (() => {
      try {
        tensorData(f, 'big', 'model.safetensors', o);
      } catch (x) {
        return x as ModelFormatError;
      }
    })()!;
    expect([e instanceof ModelFormatError, e.rule, e.tensor, e.file]).toEqual([
      true,
      'f16-range',
      'big',
      'model.safetensors',
    ]);
    expect(e.message).toMatch(/65536 at index 0/);
    const pos = tensorData(f, 'pos');
    expect([pos instanceof Int32Array, ...pos]).toEqual([true, 0, -5, 2147483647]);
    expect(() => tensorData(f, 'far', 'model.safetensors')).toThrow(
      /tensor "far": I64 value 1099511627776 .*\[i64-range\]/,
    );
  });

  it.each([
    ['header-length', () => new Uint8Array(5)],
    [
      'header-length',
      () => {
        const b = valid();
        new DataView(b.buffer).setUint32(0, 1e6, true);
        return b;
      },
    ],
    ['header-json', () => fileWithHeader(null, 0, '{"a": ')],
    ['header-json', () => fileWithHeader(null, 0, '[1,2]')],
    [
      'duplicate-name',
      () =>
        fileWithHeader(
          null,
          8,
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        ),
    ],
    ['dtype', () => fileWithHeader({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1)],
    ['shape', () => fileWithHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)],
    ['shape', () => fileWithHeader({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4)],
    ['offsets', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4)],
    ['offsets', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, 4)],
    ['offsets', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4)],
    ['hole', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)],
    ['hole', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12)],
    ['entry', () => fileWithHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, 4)],
    ['metadata', () => fileWithHeader({ __metadata__: { a: 1 } }, 0)],
  ])('rule %s', (want, make) => {
    expect(rule(() => parseSafetensors(make()))).toBe(want);
  });

  // public abuse cases, as regressions
  it('abuse: a header length of 2^40 is refused before anything is read or allocated', () => {
    const b = new Uint8Array(64);
    new DataView(b.buffer).setUint32(4, 256, true); // 256·2^32 = 2^40
    expect(rule(() => parseSafetensors(b))).toBe('header-length');
  });
  it('a 64-bit header length is printed exactly in the message (BigInt, not through a double)', () => {
    const b = new Uint8Array(64);
    new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
    let msg = '';
    try {
      parseSafetensors(b);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('header length 4611686018427387904 exceeds');
    new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    try {
      parseSafetensors(b);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('header length 18446744073709551615 exceeds');
  });
  it('abuse: overlapping offsets (two names over the same bytes: a polyglot) are refused', () => {
    const b = fileWithHeader(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
      8,
    );
    expect(rule(() => parseSafetensors(b))).toBe('overlap');
  });
  it('abuse: a shape whose size differs from its byte span is refused (also for a huge declared shape)', () => {
    expect(
      rule(() => parseSafetensors(fileWithHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8))),
    ).toBe('shape-size');
    expect(
      rule(() =>
        parseSafetensors(fileWithHeader({ a: { dtype: 'F32', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 8] } }, 8)),
      ),
    ).toBe('shape-size');
  });

  it('mutated valid files parse or fail with ModelFormatError only', () => {
    const base = valid();
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(base.length - 1), v: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(base.length),
        (edits, cut) => {
          const b = base.slice(0, Math.max(1, cut)); // truncation, then byte edits
          for (const { at, v } of edits) if (at < b.length) b[at] = v;
          try {
            const f = parseSafetensors(b);
            for (const name of f.tensors.keys()) tensorData(f, name);
          } catch (e) {
            if (!(e instanceof ModelFormatError)) throw e;
          }
        },
      ),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('structured header mutations fail with ModelFormatError only', () => {
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'I64', 'U8', 'BOOL', 'F64'), fc.string()),
      shape: fc.oneof(fc.array(fc.oneof(fc.nat(8), fc.integer({ min: -3, max: 2 ** 40 }), fc.double())), fc.anything()),
      data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.anything()),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 4 }),
        fc.nat(64),
        (header, dataBytes) => {
          try {
            const f = parseSafetensors(fileWithHeader(header, dataBytes));
            for (const name of f.tensors.keys()) tensorData(f, name);
          } catch (e) {
            if (!(e instanceof ModelFormatError)) throw e;
          }
        },
      ),
      { numRuns: 1000, seed: 4 },
    );
  });
});

describe('strict JSON', () => {
  it('rejects duplicate keys at any depth and trailing garbage; accepts what JSON.parse accepts', () => {
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('{"x":{"b":1,"b":1}}')).toThrow(/duplicate/);
    expect(() => parseStrictJson('{} x')).toThrow(/trailing/);
    const s = '{"k":[1,-2.5e3,true,null,"\\u00e9\\n"],"o":{}}';
    expect(JSON.stringify(parseStrictJson(s))).toBe(JSON.stringify(JSON.parse(s)));
  });
});
