/**
 * The committed vectors in protocol/vectors are the source of truth: the codec must reproduce
 * every valid vector byte-for-byte and reject every invalid one with its expected code.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  FrameDecoder,
  MessageType,
  ProtocolError,
  buildFrame,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  errorInfo,
  messageFromJson,
  messageToJson,
  toHex,
  type Frame,
} from '../../src/protocol/index.js';

const load = (f: string) => JSON.parse(readFileSync(new URL(`../../protocol/vectors/${f}`, import.meta.url), 'utf8'));
const valid = load('valid.json').vectors as Array<{
  name: string;
  type: keyof typeof MessageType;
  header: { version: number; type: number; flags: number; seq: number; corr: number };
  message: Record<string, unknown>;
  body_hex: string;
  frame_hex: string;
  wire_hex: string;
}>;
const invalid = load('invalid.json').vectors as Array<{ name: string; max_frame: number; wire_hex: string; expect: string; expect_wire: number; field?: string }>;
const accept = load('accept.json').vectors as Array<{ name: string; wire_hex: string; header: (typeof valid)[number]['header']; message: Record<string, unknown> }>;
const v2 = load('v2.json').vectors as Array<{
  name: string;
  header: (typeof valid)[number]['header'];
  message?: Record<string, unknown>;
  message_v1: Record<string, unknown>;
  body_hex: string;
  body_hex_v1?: string;
  wire_hex: string;
  expect?: string;
  expect_wire?: number;
  field?: string;
}>;
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('golden vectors', () => {
  it('cover every message type', () => {
    expect(new Set(valid.map((v) => v.type))).toEqual(new Set(Object.keys(MessageType)));
  });

  it.each(valid.map((v) => [v.name, v] as const))('reproduces valid vector %s byte-for-byte', (_, v) => {
    const msg = messageFromJson(v.message);
    expect(MessageType[msg.type]).toBe(v.header.type);
    expect(toHex(encodeMessage(msg))).toBe(v.body_hex);
    expect(toHex(buildFrame(v.header.type, v.header.flags, v.header.seq, v.header.corr, bytes(v.body_hex)))).toBe(v.frame_hex);
    const wire = encodeFrame(msg, { seq: v.header.seq, corr: v.header.corr, rsp: (v.header.flags & 1) === 1, rtx: (v.header.flags & 2) === 2, maxFrame: 65535 });
    expect(toHex(wire)).toBe(v.wire_hex);
  });

  it.each(valid.map((v) => [v.name, v] as const))('decodes valid vector %s to its header and message', (_, v) => {
    const out = new FrameDecoder({ maxFrame: 65535 }).push(bytes(v.wire_hex));
    expect(out.length).toBe(1);
    const f = out[0] as Frame;
    expect(f).not.toBeInstanceOf(ProtocolError);
    expect(f.header).toEqual(v.header);
    expect(messageToJson(f.message)).toEqual(v.message);
    expect(messageToJson(decodeMessage(v.header.type, bytes(v.body_hex)))).toEqual(v.message);
  });

  it.each(accept.map((v) => [v.name, v] as const))('accepts accept vector %s as its header and message', (_, v) => {
    const out = new FrameDecoder({ maxFrame: 512 }).push(bytes(v.wire_hex));
    expect(out.length).toBe(1);
    const f = out[0] as Frame;
    expect(f).not.toBeInstanceOf(ProtocolError);
    expect(f.header).toEqual(v.header);
    expect(messageToJson(f.message)).toEqual(v.message);
    // not what an encoder writes: the canonical encoding of the message is other bytes
    expect(toHex(encodeFrame(f.message, { seq: v.header.seq, maxFrame: 512 }))).not.toBe(v.wire_hex);
  });

  it.each(v2.map((v) => [v.name, v] as const))('v2.json %s: a version-2 session and a version-1 session each see what the vector says', (_, v) => {
    const wire = bytes(v.wire_hex);
    const at = (protocolVersion: number) => new FrameDecoder({ maxFrame: 65535, protocolVersion }).push(wire);
    const one = at(1);
    expect(one.length).toBe(1);
    expect(one[0]).not.toBeInstanceOf(ProtocolError);
    expect(messageToJson((one[0] as Frame).message)).toEqual(v.message_v1);
    const two = at(2);
    expect(two.length).toBe(1);
    if (v.expect) {
      expect(two[0]).toMatchObject({ code: v.expect, wire: v.expect_wire, field: v.field });
      return;
    }
    const f = two[0] as Frame;
    expect(f.header).toEqual(v.header);
    expect(messageToJson(f.message)).toEqual(v.message);
    const msg = messageFromJson(v.message!);
    expect(toHex(encodeMessage(msg, 2))).toBe(v.body_hex);
    expect(toHex(encodeFrame(msg, { seq: v.header.seq, maxFrame: 65535, protocolVersion: 2 }))).toBe(v.wire_hex);
    // a version-1 sender leaves the v2 keys out, and what it writes is the v1 message's encoding
    expect(toHex(encodeMessage(msg, 1))).toBe(v.body_hex_v1);
    expect(toHex(encodeMessage(messageFromJson(v.message_v1)))).toBe(v.body_hex_v1);
  });

  it.each(invalid.map((v) => [v.name, v] as const))('rejects invalid vector %s with its code', (_, v) => {
    expect(errorInfo(v.expect)?.wire).toBe(v.expect_wire);
    const out = new FrameDecoder({ maxFrame: v.max_frame }).push(bytes(v.wire_hex));
    expect(out.length).toBe(1);
    const e = out[0] as ProtocolError;
    expect(e).toBeInstanceOf(ProtocolError);
    expect(e.code).toBe(v.expect);
    expect(e.wire).toBe(v.expect_wire);
    if (v.field) expect(e.field).toBe(v.field);
    // SPEC §4: an error about the body itself (not a map) names no field
    else if (v.expect === 'msg.schema') expect(e.field).toBeUndefined();
  });

  it('the stream files decode as one stream: all valid frames accepted, every invalid one rejected', () => {
    const stream = (f: string) =>
      bytes(
        readFileSync(new URL(`../../protocol/vectors/${f}`, import.meta.url), 'utf8')
          .split('\n')
          .filter((l) => l && !l.startsWith('//'))
          .join(''),
      );
    const good = new FrameDecoder({ maxFrame: 512 }).push(stream('valid-wire.hex'));
    // vectors that exceed 512 bytes are legitimately rejected at the default size
    const big = valid.filter((v) => v.frame_hex.length / 2 > 512).length;
    expect(good.filter((o) => !(o instanceof ProtocolError)).length).toBe(valid.length - big);
    const bad = new FrameDecoder({ maxFrame: 512 }).push(stream('invalid-wire.hex'));
    expect(bad.length).toBe(invalid.filter((v) => v.max_frame === 512).length);
    expect(bad.every((o) => o instanceof ProtocolError)).toBe(true);
  });
});

describe('$readmemh record files', () => {
  /** count_hi count_lo, then per record len_hi len_lo bytes (protocol/vectors/README.md). */
  function records(f: string): string[] {
    const bytesIn = readFileSync(new URL(`../../protocol/vectors/${f}`, import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('//'))
      .map((l) => {
        expect(l).toMatch(/^[0-9a-f]{2}$/);
        return parseInt(l, 16);
      });
    let at = 0;
    const u16 = () => (bytesIn[at++]! << 8) | bytesIn[at++]!;
    const n = u16();
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = u16();
      out.push(Buffer.from(bytesIn.slice(at, at + len)).toString('hex'));
      at += len;
    }
    expect(at).toBe(bytesIn.length);
    return out;
  }

  it('crc.hex holds each crc.json input followed by its CRC, LSB first', () => {
    const v = load('crc.json').vectors as Array<{ data_hex: string; crc32c: number }>;
    const le = (n: number) => Buffer.from([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]).toString('hex');
    expect(records('crc.hex')).toEqual(v.map((c) => c.data_hex + le(c.crc32c)));
  });

  it('cobs.hex holds decoded/encoded pairs of cobs.json', () => {
    const v = load('cobs.json').vectors as Array<{ decoded_hex: string; encoded_hex: string }>;
    expect(records('cobs.hex')).toEqual(v.flatMap((c) => [c.decoded_hex, c.encoded_hex]));
  });

  it('valid-frames.hex holds frame/wire pairs of valid.json', () => {
    expect(records('valid-frames.hex')).toEqual(valid.flatMap((v) => [v.frame_hex, v.wire_hex]));
  });
});
