/**
 * The compiled readers (src/protocol/messages/compiled-reader.ts) are a fast path in front of the
 * reference decode (strict generic reader + schema walk): decodeMessage must give exactly what
 * decodeReference gives, the same message for a valid body and the same error (code, field,
 * reason) for an invalid one, in every protocol version. Checked on random valid messages of every
 * type, on those bodies with random byte mutations, and on bodies with an unknown key added.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError, encodeMessage } from '../../src/protocol/index.js';
import { decodeMessage, decodeReference } from '../../src/protocol/messages/codec.js';
import { MessageType } from '../../src/protocol/messages/types.js';
import { PROTOCOL_MAX, PROTOCOL_MIN } from '../../src/protocol/constants.js';
import { messageArb } from './arbitraries.js';

type Outcome = { ok: unknown } | { code: string; field: unknown; reason: string };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { code: e.code, field: (e as { field?: unknown }).field, reason: e.message };
  }
}

function agree(type: number, body: Uint8Array): void {
  for (let v = PROTOCOL_MIN; v <= PROTOCOL_MAX; v++) {
    const fast = outcome(() => decodeMessage(type, body, 0, body.length, v));
    const ref = outcome(() => decodeReference(type, body, 0, body.length, v));
    expect(fast).toEqual(ref);
    // and the property order of the decoded object (what JSON forms and logs show)
    if ('ok' in fast && 'ok' in ref) expect(Object.keys(fast.ok as object)).toEqual(Object.keys(ref.ok as object));
  }
}

const typeOf = (m: { type: string }) => MessageType[m.type as keyof typeof MessageType];

describe('compiled readers agree with the reference decode', () => {
  it('on valid bodies of every message type', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const body = encodeMessage(m);
        agree(typeOf(m), body);
        expect('ok' in outcome(() => decodeMessage(typeOf(m), body))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('on bodies with byte mutations (flip, set, insert, delete, truncate)', () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.tuple(fc.nat(4), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), (m, edits) => {
        const a = Array.from(encodeMessage(m));
        for (const [op, at0, x] of edits) {
          const at = a.length ? at0 % a.length : 0;
          if (op === 0 && a.length) a[at] = a[at]! ^ (1 << (x & 7));
          else if (op === 1 && a.length) a[at] = x;
          else if (op === 2) a.splice(at, 0, x);
          else if (op === 3) a.splice(at, 1);
          else a.length = at;
        }
        agree(typeOf(m), new Uint8Array(a));
      }),
      { numRuns: 6000 },
    );
  });

  it('on bodies with an extra key the schema does not know, well-formed or not', () => {
    const extras = [[0x00], [0x18, 0x05], [0x60], [0x82, 0x01, 0x02], [0xa0], [0xf6], [0xfb, 0, 0, 0, 0, 0, 0, 0, 0], [0x5f], [0x19]];
    fc.assert(
      fc.property(messageArb, fc.constantFrom(...extras), (m, extra) => {
        const body = encodeMessage(m);
        const n = body[0]! & 0x1f;
        if (n >= 23) return;
        // key 23 sorts after every key the catalogue uses
        const out = new Uint8Array([0xa0 | (n + 1), ...body.subarray(1), 0x17, ...extra]);
        agree(typeOf(m), out);
      }),
      { numRuns: 1500 },
    );
  });
});
