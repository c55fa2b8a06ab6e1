import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { cobsDecode, cobsEncode, cobsEncodeBlocks, cobsEncodeInPlace, cobsEncodeShort, cobsMaxEncodedLength } from '../../src/protocol/cobs.js';
import { ProtocolError } from '../../src/errors.js';

const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('COBS', () => {
  it('encodes the textbook examples', () => {
    expect(hx(cobsEncode(h('')))).toBe('01');
    expect(hx(cobsEncode(h('00')))).toBe('0101');
    expect(hx(cobsEncode(h('0000')))).toBe('010101');
    expect(hx(cobsEncode(h('11220033')))).toBe('0311220233');
    expect(hx(cobsEncode(h('11223344')))).toBe('0511223344');
    expect(hx(cobsEncode(h('11000000')))).toBe('0211010101');
  });

  it('writes no extra code byte after a final 254-byte block, and decodes either form', () => {
    const data = new Uint8Array(254).map((_, i) => i + 1);
    const enc = cobsEncode(data);
    expect(enc.length).toBe(255);
    expect(enc[0]).toBe(0xff);
    expect(hx(cobsDecode(enc))).toBe(hx(data));
    expect(hx(cobsDecode(new Uint8Array([...enc, 0x01])))).toBe(hx(data));
  });

  it('matches every committed cobs vector both ways', () => {
    const v = JSON.parse(readFileSync(new URL('../../protocol/vectors/cobs.json', import.meta.url), 'utf8'));
    for (const c of v.vectors) {
      expect(hx(cobsEncode(h(c.decoded_hex))), c.name).toBe(c.encoded_hex);
      expect(hx(cobsDecode(h(c.encoded_hex))), c.name).toBe(c.decoded_hex);
    }
  });

  it('round-trips any bytes, never emits 0x00, and stays within the worst-case overhead', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (data) => {
        const enc = cobsEncode(data);
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(data.length));
        expect(hx(cobsDecode(enc))).toBe(hx(data));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a code byte pointing past the end and a 0x00 inside the piece with frame.cobs', () => {
    for (const bad of [h('05010203'), h('ff01'), h('0200'), h('00')]) {
      try {
        cobsDecode(bad);
        expect.unreachable(hx(bad));
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('frame.cobs');
      }
    }
  });

  it('decoding arbitrary bytes only ever fails with frame.cobs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        try {
          cobsDecode(junk);
        } catch (e) {
          expect((e as ProtocolError).code).toBe('frame.cobs');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('COBS encoder paths', () => {
  it('the byte-at-a-time and block-copy encoders produce identical bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })), { maxLength: 127 }), (arr) => {
        const data = new Uint8Array(arr);
        const a = new Uint8Array(cobsMaxEncodedLength(data.length));
        const b = new Uint8Array(cobsMaxEncodedLength(data.length));
        const na = cobsEncodeShort(data, 0, data.length, a, 0);
        const nb = cobsEncodeBlocks(data, 0, data.length, b, 0);
        expect(hx(a.subarray(0, na))).toBe(hx(b.subarray(0, nb)));
      }),
      { numRuns: 500 },
    );
  });

  it('the in-place encoder, at the smallest gap it allows, gives the same bytes whatever stale bytes surround the input', () => {
    const runs = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => b.map((x) => x | 1)), fc.constant(new Uint8Array(1)));
    fc.assert(
      fc.property(fc.array(runs, { maxLength: 5 }), fc.integer({ min: 1, max: 255 }), fc.nat(5), fc.nat(3), (parts, stale, lead, extraGap) => {
        const data = new Uint8Array(Buffer.concat(parts));
        const gap = Math.ceil(data.length / 254) + 1 + extraGap;
        // stale non-zero bytes everywhere, as in a reused scratch buffer: the search for zeros must stop at the input's end
        const buf = new Uint8Array(lead + gap + data.length + 40).fill(stale);
        buf.set(data, lead + gap);
        const n = cobsEncodeInPlace(buf, lead + gap, lead + gap + data.length, lead);
        expect(hx(buf.subarray(lead, n))).toBe(hx(cobsEncode(data)));
        expect(buf.subarray(0, lead).every((b) => b === stale)).toBe(true); // nothing written before `at`
      }),
      { numRuns: 400 },
    );
  });

  it('the in-place encoder refuses a gap too small to encode without overwriting its input', () => {
    const buf = new Uint8Array(600).fill(7);
    expect(() => cobsEncodeInPlace(buf, 2, 2 + 508, 0)).toThrowError(expect.objectContaining({ code: 'internal' }));
    expect(() => cobsEncodeInPlace(buf, 3, 3 + 508, 0)).not.toThrow();
  });
});
