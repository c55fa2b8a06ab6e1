/**
 * Message bodies are written straight from the schema (schema.ts writeWith) instead of going
 * through cbor-x. These tests hold the writer to cbor-x's deterministic output for the same
 * message, byte for byte, and to encodeWith's errors for bad messages.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeCborXView, CborWriter } from '../../src/protocol/cbor-subset.js';
import { SCHEMAS } from '../../src/protocol/messages/catalogue.js';
import { encodeWith, writeWith } from '../../src/protocol/messages/schema.js';
import { MessageType } from '../../src/protocol/messages/types.js';
import { ProtocolError, encodeMessage, type Message } from '../../src/protocol/index.js';
import { messageArb } from './arbitraries.js';

const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');
const schemaOf = (m: Message) => SCHEMAS.get(MessageType[m.type])!;

function viaCborX(m: Message): string {
  return hx(encodeCborXView(encodeWith(schemaOf(m).body, m, '')));
}

function errorOf(f: () => unknown): { code: string; field?: string; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    const pe = e as ProtocolError & { field?: string };
    return { code: pe.code, field: pe.field, message: pe.message };
  }
}

describe('schema writer', () => {
  it('writes the same bytes as cbor-x for every message type and random field values', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(hx(encodeMessage(m))).toBe(viaCborX(m));
      }),
      { numRuns: 1500 },
    );
  });

  it('gets every integer head width and sign right, including 2^53-1 (8-byte heads)', () => {
    const w = new CborWriter(4);
    for (const v of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -24, -25, -256, -257, -65537, -(2 ** 32), -(2 ** 32) - 1, -(2 ** 53 - 1)]) {
      w.pos = 0;
      w.int(v);
      const want = encodeCborXView(v > 0xffffffff || v < -0x100000000 ? BigInt(v) : v);
      expect(hx(w.buf.subarray(0, w.pos)), String(v)).toBe(hx(want));
    }
  });

  it('writes non-ASCII text as UTF-8 with its byte length', () => {
    const m: Message = { type: 'STATE', loadPermille: 1, memFreeKiB: 2, services: [{ name: 'modèle-日本語-😀', version: 'β', status: 'ready', queueLen: 0, served: 0, violations: 0 }], uptimeMs: 5 } as Message;
    expect(hx(encodeMessage(m))).toBe(viaCborX(m));
  });

  it('reports the same error as encodeWith for a message with one bad field', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.constantFrom<unknown>(undefined, -1, 1.5, 'x', null, true, new Uint8Array(3), [], {}, 2 ** 60), (m, pick, bad) => {
        const keys = Object.keys(m).filter((k) => k !== 'type');
        if (keys.length === 0) return;
        const broken = { ...m, [keys[pick % keys.length]!]: bad } as Message;
        const want = errorOf(() => encodeWith(schemaOf(broken).body, broken, ''));
        const w = new CborWriter(16);
        const got = errorOf(() => writeWith(schemaOf(broken).body, broken, w, ''));
        expect(got).toEqual(want);
      }),
      { numRuns: 800 },
    );
  });

  it('refuses a text with a lone UTF-16 surrogate instead of sending bytes no receiver accepts', () => {
    const state = { type: 'STATE', loadPermille: 1, memFreeKiB: 2, services: [{ name: 'a\ud800b', version: '1', status: 'ready', queueLen: 0, served: 0, violations: 0 }], uptimeMs: 5 } as Message;
    const e = errorOf(() => encodeMessage(state));
    expect(e?.code).toBe('msg.schema');
    expect(e?.field).toBe('services[0].name');
  });
});
