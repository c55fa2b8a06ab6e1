/**
 * The decode path's copies were cut down (COBS decoded in place in one copy of the piece, frames
 * carved from shared slabs). These tests pin what that must not change: the decoded bytes, the
 * errors, the caller's chunks left untouched, and earlier frames' byte strings surviving later
 * pushes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cobsDecode, cobsDecodeInPlace, cobsEncode } from '../../src/protocol/cobs.js';
import { FrameDecoder, ProtocolError, encodeFrame, type Frame, type Message } from '../../src/protocol/index.js';

/** Textbook COBS decoder, one byte at a time, into a new array. */
function referenceDecode(p: Uint8Array): Uint8Array | 'error' {
  const out: number[] = [];
  let i = 0;
  while (i < p.length) {
    const code = p[i]!;
    if (code === 0 || i + code > p.length) return 'error';
    for (let k = 1; k < code; k++) out.push(p[i + k]!);
    i += code;
    if (code !== 0xff && i < p.length) out.push(0);
  }
  return new Uint8Array(out);
}

/** Byte arrays with long zero-free runs (so 0xFF blocks occur) and scattered zeros. */
const frameLike = fc
  .array(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 700 }).map((b) => b.map((x) => x | 1)), fc.constant(new Uint8Array(1))), { maxLength: 6 })
  .map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  });

describe('in-place COBS decoding', () => {
  it('decodes every encoding to the original bytes, at any offset in a larger buffer', () => {
    fc.assert(
      fc.property(frameLike, fc.nat(9), fc.boolean(), (data, pad, extraCode) => {
        let enc = cobsEncode(data);
        // the superfluous 01 after a final FF block that SPEC §3 says receivers must accept
        if (extraCode && enc[enc.length - 1] !== undefined && data.length % 254 === 0 && data.length > 0 && !data.includes(0)) {
          enc = new Uint8Array([...enc, 0x01]);
        }
        const buf = new Uint8Array(pad + enc.length + 3).fill(0xee);
        buf.set(enc, pad);
        const end = cobsDecodeInPlace(buf, pad, pad + enc.length);
        expect(Buffer.from(buf.subarray(pad + 1, end)).equals(Buffer.from(data))).toBe(true);
        expect(buf[pad + enc.length]).toBe(0xee); // never writes past the piece
        expect(Buffer.from(cobsDecode(enc)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with a textbook decoder on arbitrary zero-free pieces, errors included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 800 }).map((b) => b.map((x) => (x === 0 ? 0xff : x))), (piece) => {
        const want = referenceDecode(piece);
        let got: Uint8Array | 'error';
        try {
          got = cobsDecode(piece);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect((e as ProtocolError).code).toBe('frame.cobs');
          got = 'error';
        }
        if (want === 'error') expect(got).toBe('error');
        else expect(got === 'error' ? 'error' : Buffer.from(got).toString('hex')).toBe(Buffer.from(want).toString('hex'));
      }),
      { numRuns: 400 },
    );
  });

  it('rejects a 0x00 code instead of looping on it', () => {
    const buf = new Uint8Array([0x02, 0x11, 0x00, 0x22]);
    expect(() => cobsDecodeInPlace(buf, 0, 4)).toThrowError(expect.objectContaining({ code: 'frame.cobs' }));
    expect(() => cobsDecode(buf)).toThrowError(expect.objectContaining({ code: 'frame.cobs' }));
  });
});

describe('FrameDecoder memory handling', () => {
  const chunkOf = (n: number, salt: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + salt) & 0xff;
    return b;
  };
  const msgOf = (i: number): Message => ({ type: 'DEPLOY_CHUNK', deploymentId: 7, offset: i * 1000, data: chunkOf(300 + ((i * 397) % 1800), i) });

  it('leaves the pushed chunks unmodified', () => {
    const wires = [0, 1, 2, 3].map((i) => encodeFrame(msgOf(i), { seq: i, maxFrame: 4096 }));
    const stream = new Uint8Array(wires.reduce((n, w) => n + w.length, 0));
    let o = 0;
    for (const w of wires) {
      stream.set(w, o);
      o += w.length;
    }
    const before = Buffer.from(stream).toString('hex');
    const dec = new FrameDecoder({ maxFrame: 4096 });
    expect(dec.push(stream).every((f) => !(f instanceof ProtocolError))).toBe(true);
    // split mid-frame: the tail of one piece goes through the internal buffer
    const split = [...dec.push(stream.subarray(0, wires[0]!.length + 5)), ...dec.push(stream.subarray(wires[0]!.length + 5))];
    expect(split.map((f) => (f as Frame).header?.seq)).toEqual([0, 1, 2, 3]);
    expect(Buffer.from(stream).toString('hex')).toBe(before);
  });

  it("earlier frames' byte strings survive many later frames (slabs are never reused)", () => {
    const dec = new FrameDecoder({ maxFrame: 4096 });
    const kept: Array<[number, Frame]> = [];
    for (let i = 0; i < 120; i++) {
      const wire = encodeFrame(msgOf(i), { seq: i, maxFrame: 4096 });
      // alternate whole-chunk and split delivery, the two copy paths
      const got = i % 2 ? dec.push(wire) : [...dec.push(wire.subarray(0, 5)), ...dec.push(wire.subarray(5))];
      expect(got.length).toBe(1);
      kept.push([i, got[0] as Frame]);
    }
    for (const [i, f] of kept) {
      const m = f.message as Extract<Message, { type: 'DEPLOY_CHUNK' }>;
      expect(Buffer.from(m.data).equals(Buffer.from((msgOf(i) as typeof m).data))).toBe(true);
      expect(f.header.seq).toBe(i);
    }
  });
});
