import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FLAG_RSP,
  FLAG_RTX,
  HEADER_SIZE,
  MessageType,
  ProtocolError,
  cobsDecode,
  crc32c,
  decodeFrame,
  encodeFrame,
  messageToJson,
  cobsEncode,
  buildFrame,
  encodeMessage,
  type Message,
} from '../../src/protocol/index.js';
import { ConfigError } from '../../src/errors.js';
import { messageArb } from './arbitraries.js';

const piece = (wire: Uint8Array) => wire.subarray(0, wire.length - 1);
const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');
function errOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}
const hb: Message = { type: 'HEARTBEAT', uptimeMs: 1000 };

describe('frames', () => {
  it('lays out ver, type, flags, seq, corr, len big-endian and the CRC little-endian', () => {
    const wire = encodeFrame(hb, { seq: 0x1234, corr: 0xabcd, rsp: true, rtx: true });
    expect(wire[wire.length - 1]).toBe(0);
    expect(wire.subarray(0, wire.length - 1).includes(0)).toBe(false);
    const f = cobsDecode(piece(wire));
    expect([...f.subarray(0, HEADER_SIZE)]).toEqual([1, 0x08, FLAG_RSP | FLAG_RTX, 0x12, 0x34, 0xab, 0xcd, 0, f.length - 13]);
    const crc = crc32c(f.subarray(0, f.length - 4));
    expect([...f.subarray(f.length - 4)]).toEqual([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
  });

  it('round-trips any message with any header', () => {
    fc.assert(
      fc.property(messageArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), fc.boolean(), (msg, seq, corr, rsp, rtx) => {
        const wire = encodeFrame(msg, { seq, corr: rsp ? corr : 0, rsp, rtx, maxFrame: 65535 });
        const f = decodeFrame(piece(wire), { maxFrame: 65535 });
        expect(f.header).toEqual({ version: 1, type: MessageType[msg.type], flags: (rsp ? 1 : 0) | (rtx ? 2 : 0), seq, corr: rsp ? corr : 0 });
        expect(messageToJson(f.message)).toEqual(messageToJson(msg));
      }),
      { numRuns: 400 },
    );
  });

  it('a frame of any length, at any maxFrame, goes out as COBS(header + body + CRC) + 0x00, and stays so after later encodes', () => {
    // zero-free data gives 254-byte COBS blocks; the lengths straddle the short (< 254) and in-place encoders
    const dataArb = fc.oneof(fc.uint8Array({ maxLength: 1200 }), fc.uint8Array({ maxLength: 1200 }).map((b) => b.map((x) => x | 1)));
    fc.assert(
      fc.property(dataArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 65535 - 1300 }), (data, seq, extra) => {
        const msg: Message = { type: 'DEPLOY_CHUNK', deploymentId: 9, offset: seq * 3, data };
        const body = encodeMessage(msg);
        const maxFrame = Math.max(64, HEADER_SIZE + body.length + 4 + (extra % 3 === 0 ? 0 : extra));
        const want = hx(cobsEncode(buildFrame(MessageType.DEPLOY_CHUNK, 0, seq, 0, body))) + '00';
        const wire = encodeFrame(msg, { seq, maxFrame });
        expect(hx(wire)).toBe(want);
        encodeFrame({ ...msg, data: data.map((x) => x ^ 0x5a) }, { seq: seq ^ 1, maxFrame }); // reuses the encoder's scratch
        expect(hx(wire)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to encode a frame larger than maxFrame with frame.oversize and the sizes', () => {
    const chunk: Message = { type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 0, data: new Uint8Array(600) };
    const e = errOf(() => encodeFrame(chunk, { seq: 1 }));
    expect(e.code).toBe('frame.oversize');
    expect(e.details).toMatchObject({ maxFrame: 512 });
    expect(encodeFrame(chunk, { seq: 1, maxFrame: 1024 }).length).toBeGreaterThan(600);
  });

  it('rejects out-of-range header fields and corr without RSP', () => {
    expect(errOf(() => encodeFrame(hb, { seq: 65536 })).field).toBe('seq');
    expect(errOf(() => encodeFrame(hb, { seq: -1 })).field).toBe('seq');
    expect(errOf(() => encodeFrame(hb, { seq: 1, corr: 5 })).field).toBe('corr');
    expect(() => encodeFrame(hb, { seq: 1, maxFrame: 63 })).toThrow(ConfigError);
  });

  it('decodeFrame reports frame.crc for any single flipped bit, frame.oversize for a too-long piece', () => {
    const wire = encodeFrame(hb, { seq: 7 });
    const f = cobsDecode(piece(wire));
    for (let bit = 0; bit < f.length * 8; bit++) {
      const g = f.slice();
      g[bit >> 3]! ^= 1 << (bit & 7);
      // the CRC is checked before any header field, so every flip reports frame.crc
      let code: string;
      try {
        decodeFrame(piece(reencode(g)));
        code = 'ok';
      } catch (e) {
        code = (e as ProtocolError).code;
      }
      expect(code, `bit ${bit}`).toBe('frame.crc');
    }
    expect(errOf(() => decodeFrame(new Uint8Array(600).fill(1))).code).toBe('frame.oversize');
  });

  it('errors after a good CRC carry the header so the receiver can answer with a correlated ERROR', () => {
    const wire = encodeFrame({ type: 'PING' }, { seq: 99 });
    const f = cobsDecode(piece(wire));
    f[2] = 0x80; // reserved flag
    const crc = crc32c(f.subarray(0, f.length - 4));
    new DataView(f.buffer, f.byteOffset).setUint32(f.length - 4, crc, true);
    const e = errOf(() => decodeFrame(piece(reencode(f))));
    expect(e.code).toBe('frame.header');
    expect(e.details).toMatchObject({ seq: 99, type: 0x06 });
  });
});

function reencode(frame: Uint8Array): Uint8Array {
  const c = cobsEncode(frame);
  const w = new Uint8Array(c.length + 1);
  w.set(c);
  return w;
}
