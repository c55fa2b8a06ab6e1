import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode as cborxDecode } from 'cbor-x';
import { CborMap, CborTagged, decodeCbor, encodeCbor, type CborValue } from '../../src/protocol/cbor-subset.js';
import { ProtocolError } from '../../src/errors.js';

const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');

function codeOf(bytes: Uint8Array): string {
  try {
    decodeCbor(bytes);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
}

/** Arbitrary values inside the subset. */
const subsetValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -24, -25, -257, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER)),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.boolean(),
    fc.uint8Array({ maxLength: 300 }),
    fc
      .tuple(fc.constantFrom([64, 1], [69, 2], [70, 4], [72, 1], [77, 2], [78, 4], [79, 8], [85, 4], [86, 8]), fc.nat(4))
      .chain(([[t, w], n]) => fc.uint8Array({ minLength: n * w!, maxLength: n * w! }).map((b) => new CborTagged(t!, b))),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.integer({ min: 0, max: 23 }).map(String), tie('v'), { maxKeys: 5 }).map((d) => {
      const m = new CborMap();
      for (const [k, v] of Object.entries(d)) m.set(Number(k), v);
      return m;
    }),
  ),
})).v;

/** cbor-x's view of the same bytes, normalised to compare with ours. */
function normalise(v: unknown): unknown {
  if (v instanceof CborMap) return Object.fromEntries(v.keys().map((k) => [k, normalise(v.get(k))]));
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [k, normalise(x)]));
  if (v instanceof CborTagged) return hx(v.value);
  if (ArrayBuffer.isView(v)) return hx(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

describe('CBOR subset', () => {
  it('encodes deterministically through cbor-x and reads back the same value', () => {
    fc.assert(
      fc.property(subsetValue, (v) => {
        const bytes = encodeCbor(v);
        const back = decodeCbor(bytes);
        expect(normalise(back)).toEqual(normalise(v));
        // decode -> canonical re-encode -> byte compare
        expect(hx(encodeCbor(back))).toBe(hx(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('whatever the strict reader accepts, cbor-x decodes to the same value and re-encodes to the same bytes', () => {
    const sample = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      subsetValue.chain((v) => {
        const b = encodeCbor(v);
        return fc.tuple(fc.nat(Math.max(0, b.length - 1)), fc.integer({ min: 0, max: 255 })).map(([i, x]) => {
          const m = b.slice();
          if (m.length) m[i] = x;
          return m;
        });
      }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(sample, (bytes) => {
        let mine: CborValue;
        try {
          mine = decodeCbor(bytes);
        } catch (e) {
          expect(['msg.cbor', 'msg.non_deterministic']).toContain((e as ProtocolError).code);
          return;
        }
        accepted++;
        expect(normalise(cborxDecode(bytes))).toEqual(normalise(mine));
        expect(hx(encodeCbor(mine))).toBe(hx(bytes));
      }),
      { numRuns: 1500 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it.each([
    ['1805', 'non-shortest uint'],
    ['190005', 'non-shortest uint16'],
    ['1a0000ffff', 'non-shortest uint32'],
    ['1b00000000ffffffff', 'non-shortest uint64'],
    ['3817', 'non-shortest negative'],
    ['5801aa', 'non-shortest byte-string length'],
    ['5f41aaff', 'indefinite byte string'],
    ['9fff', 'indefinite array'],
    ['bf0001ff', 'indefinite map'],
    ['a201010000', 'unsorted keys'],
    ['a200010002', 'duplicate keys'],
    ['a1616101', 'text key'],
    ['a1181801', 'key 24'],
    ['a12001', 'negative key'],
    ['f93c00', 'half float'],
    ['fa3f800000', 'single float'],
    ['fb3ff0000000000000', 'double float'],
    ['f6', 'null'],
    ['f7', 'undefined'],
    ['f0', 'simple 16'],
    ['f820', 'simple 32'],
    ['c101', 'tag 1'],
    ['d81801', 'tag 24 (embedded CBOR)'],
    ['a2f93c00010000', 'float key (both pairs complete)'],
    ['9f01ff', 'indefinite array of one item'],
    ['5f4161ff', 'indefinite byte string of one chunk'],
    ['a20001' + '01' + '81'.repeat(9) + '00', 'nesting too deep under an unknown key'],
    ['a2000105c101', 'tag 1 under an unknown key'],
    ['d84001', 'tag 64 on a non-byte-string'],
    ['1b0020000000000000', 'integer above 2^53-1'],
    ['818181818181818181818100', 'nesting 10 deep'],
    ['d84643010203', 'uint32 typed array of 3 bytes'],
  ])('rejects %s (%s) with msg.non_deterministic', (hex) => {
    expect(codeOf(h(hex))).toBe('msg.non_deterministic');
  });

  it.each([
    ['', 'empty'],
    ['1a0001', 'truncated argument'],
    ['43aabb', 'byte string past the end'],
    ['62c3', 'text past the end'],
    ['62ff41', 'invalid UTF-8'],
    ['62c0af', 'overlong UTF-8'],
    ['63eda080', 'UTF-8 surrogate'],
    ['0000', 'trailing bytes'],
    ['1c', 'reserved additional information'],
    ['ff', 'lone break'],
    ['f810', 'two-byte simple value below 32'],
    ['9b00000001000000', 'array count larger than the input'],
    ['a2000100', 'map missing its last value'],
    ['a1', 'map missing its key'],
    // SPEC §4 precedence: a malformation anywhere wins over a subset violation anywhere
    ['a201617800', 'unsorted keys, then the second value is missing'],
    ['180500', 'non-shortest integer, then a trailing byte'],
    ['bf0001', 'indefinite map without its break'],
    ['bf00ff', 'indefinite map ending after a key'],
    ['5f6178ff', 'indefinite byte string with a text chunk'],
    ['5f5f41aaffff', 'indefinite byte string with an indefinite chunk'],
    ['a200f93c000162ff41', 'float, then invalid UTF-8'],
    ['81'.repeat(12), 'nesting too deep, then truncated'],
    ['c1', 'tag 1 with nothing after it'],
    ['fb3ff0', 'truncated double'],
    ['f93c', 'truncated half float'],
    // RFC 8949 §3.4.2: additional information 31 on majors 0, 1 and 6 is not well-formed
    ['1f', 'AI 31 on major type 0'],
    ['3f', 'AI 31 on major type 1'],
    ['df01', 'AI 31 on major type 6'],
  ])('rejects %s (%s) with msg.cbor', (hex) => {
    expect(codeOf(h(hex))).toBe('msg.cbor');
  });

  it('accepts long UTF-8 text and keeps byte strings as views (no copy)', () => {
    const s = 'ünïcødé ✓ 𝄞 '.repeat(10);
    const b = encodeCbor(s);
    expect(decodeCbor(b)).toBe(s);
    const bytes = encodeCbor(new Uint8Array([1, 2, 3]));
    const v = decodeCbor(bytes) as Uint8Array;
    expect(v.buffer).toBe(bytes.buffer);
  });

  it('never lets anything but ProtocolError escape on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        codeOf(b);
      }),
      { numRuns: 3000 },
    );
  });
});
