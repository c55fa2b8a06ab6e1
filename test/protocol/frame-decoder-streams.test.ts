import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameDecoder, ProtocolError, encodeFrame, maxWirePiece, messageToJson, type Frame, type Message } from '../../src/protocol/index.js';
import { ConfigError } from '../../src/errors.js';
import { messageArb } from './arbitraries.js';

function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(stream.subarray(prev, c));
    prev = c;
  }
  out.push(stream.subarray(prev));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const frames = (out: Array<Frame | ProtocolError>) => out.filter((x): x is Frame => !(x instanceof ProtocolError));
const summary = (out: Array<Frame | ProtocolError>) => frames(out).map((f) => ({ h: f.header, m: messageToJson(f.message) }));

/** Noise that cannot form a frame: a 0x00 closes whatever it started. */
const noise = fc.uint8Array({ maxLength: 40 }).map((b) => (b.length ? concat([b, new Uint8Array([0])]) : b));

describe('FrameDecoder', () => {
  it('yields the same frames however the stream is split, with noise between frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(messageArb, noise), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, cuts) => {
          const wires = items.map(([m], i) => encodeFrame(m, { seq: i, maxFrame: 4096 }));
          const stream = concat(items.flatMap(([, n], i) => [n, wires[i]!]));
          const whole = new FrameDecoder({ maxFrame: 4096 }).push(stream);
          const dec = new FrameDecoder({ maxFrame: 4096 });
          const pieces = split(stream, cuts).flatMap((c) => dec.push(c));
          expect(summary(pieces)).toEqual(summary(whole));
          // every good frame made it through, in order
          expect(summary(pieces).map((s) => s.h.seq)).toEqual(items.map((_, i) => i));
          expect(summary(pieces).map((s) => s.m)).toEqual(items.map(([m]) => messageToJson(m)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('byte-at-a-time feeding gives the same result', () => {
    const msgs: Message[] = [{ type: 'PING' }, { type: 'HEARTBEAT', uptimeMs: 5 }, { type: 'BYE', reason: 'x' }];
    const stream = concat(msgs.map((m, i) => encodeFrame(m, { seq: i })));
    const dec = new FrameDecoder();
    const out: Array<Frame | ProtocolError> = [];
    for (const b of stream) out.push(...dec.push(new Uint8Array([b])));
    expect(frames(out).map((f) => f.message.type)).toEqual(['PING', 'HEARTBEAT', 'BYE']);
  });

  it('never throws and yields only Frames or ProtocolErrors for random and mutated streams', () => {
    const mutated = fc.tuple(fc.array(messageArb, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([ms, muts]) => {
      const s = concat(ms.map((m, i) => encodeFrame(m, { seq: i, maxFrame: 65535 })));
      for (const [at, v] of muts) s[at % s.length] = v;
      return s;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), fc.array(fc.nat(), { maxLength: 5 }), fc.integer({ min: 64, max: 2048 }), (stream, cuts, maxFrame) => {
        const dec = new FrameDecoder({ maxFrame });
        for (const c of split(stream, cuts)) {
          const out = dec.push(c);
          for (const o of out) {
            if (o instanceof ProtocolError) expect(o.code).toMatch(/^(frame|msg)\./);
            else expect(o.header.version).toBe(1);
          }
          expect(dec.buffered).toBeLessThanOrEqual(maxWirePiece(maxFrame));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('discards an oversize piece without buffering it, reports it once, and keeps the next frame', () => {
    const dec = new FrameDecoder({ maxFrame: 64 });
    const junk = new Uint8Array(1000).fill(0x41);
    const errors: ProtocolError[] = [];
    for (let i = 0; i < 100; i++) {
      for (const o of dec.push(junk)) errors.push(o as ProtocolError);
      expect(dec.buffered).toBeLessThanOrEqual(maxWirePiece(64));
    }
    expect(errors.map((e) => e.code)).toEqual(['frame.oversize']);
    const out = dec.push(concat([new Uint8Array([0]), encodeFrame({ type: 'PING' }, { seq: 3 })]));
    expect(frames(out).map((f) => f.header.seq)).toEqual([3]);
  });

  it('bad frames do not take the good ones after them down', () => {
    const good = encodeFrame({ type: 'HEARTBEAT', uptimeMs: 1 }, { seq: 1 });
    const corrupt = good.slice();
    corrupt[5]! ^= 0x10;
    const out = new FrameDecoder().push(concat([corrupt, good, new Uint8Array([1, 2, 3, 0]), good]));
    expect(out.map((o) => (o instanceof ProtocolError ? o.code : o.message.type))).toEqual(['frame.crc', 'HEARTBEAT', 'frame.truncated', 'HEARTBEAT']);
  });

  it('ignores empty pieces (0x00 0x00 flushes)', () => {
    const out = new FrameDecoder().push(concat([new Uint8Array([0, 0, 0]), encodeFrame({ type: 'PING' }, { seq: 1 }), new Uint8Array([0])]));
    expect(out.length).toBe(1);
  });

  it('maxFrame can be changed after negotiation and is range-checked', () => {
    const dec = new FrameDecoder();
    const big = encodeFrame({ type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 0, data: new Uint8Array(1000).fill(7) }, { seq: 1, maxFrame: 2048 });
    expect((dec.push(big)[0] as ProtocolError).code).toBe('frame.oversize');
    dec.maxFrame = 2048;
    expect(frames(dec.push(big)).length).toBe(1);
    expect(() => {
      dec.maxFrame = 10;
    }).toThrow(ConfigError);
    expect(() => new FrameDecoder({ maxFrame: 70000 })).toThrow(ConfigError);
  });
});

describe('FrameDecoder and encoders under misuse', () => {
  it('push() never throws, even for a non-byte argument', () => {
    const out = new FrameDecoder().push(null as unknown as Uint8Array);
    expect(out.length).toBe(1);
    expect(out[0]).toBeInstanceOf(ProtocolError);
  });

  it('reports a partial piece that a smaller maxFrame makes oversize', () => {
    const dec = new FrameDecoder({ maxFrame: 4096 });
    expect(dec.push(new Uint8Array(1000).fill(9))).toEqual([]);
    dec.maxFrame = 64;
    const out = dec.push(new Uint8Array([9, 9, 0]));
    expect(out.map((o) => (o as ProtocolError).code)).toEqual(['frame.oversize']);
    expect(dec.buffered).toBe(0);
  });

  it('encodeFrame turns a null or typeless message into a ProtocolError, not a TypeError', () => {
    expect(() => encodeFrame(null as unknown as Message, { seq: 1 })).toThrow(ProtocolError);
    expect(() => encodeFrame({} as Message, { seq: 1 })).toThrow(ProtocolError);
  });
});
