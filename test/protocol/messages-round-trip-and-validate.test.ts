import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MessageType,
  ProtocolError,
  decodeMessage,
  encodeMessage,
  messageToJson,
  tensorFrom,
  tensorValues,
  type Message,
} from '../../src/protocol/index.js';
import { SCHEMAS } from '../../src/protocol/messages/catalogue.js';
import { CborMap, decodeCbor, encodeCbor } from '../../src/protocol/cbor-subset.js';
import { messageArb, messageArbOf } from './arbitraries.js';

function errOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const hello: Message = {
  type: 'HELLO',
  deviceId: 'pi-4',
  deviceClass: 'microcomputer',
  proto: [1, 1],
  firmware: '0.1.0',
  caps: { cpuCores: 4, memoryKiB: 4096, computeMops: 2000 },
  maxFrame: 512,
  rxWindow: 4,
};

describe('message bodies', () => {
  it.each(Object.keys(MessageType))('encode -> decode is the identity for generated %s messages', (name) => {
    fc.assert(
      fc.property(messageArbOf(name), (msg) => {
        const body = encodeMessage(msg);
        const back = decodeMessage(MessageType[msg.type], body);
        expect(messageToJson(back)).toEqual(messageToJson(msg));
        // deterministic: the decoded message re-encodes to the same bytes
        expect(Buffer.from(encodeMessage(back)).equals(Buffer.from(body))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('every catalogue field key is covered by the generated messages', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(messageArb, (m) => {
        for (const k of Object.keys(m)) seen.add(`${m.type}.${k}`);
      }),
      { numRuns: 2000 },
    );
    for (const s of SCHEMAS.values()) for (const f of s.body.fields) expect(seen, `${s.name}.${f.name}`).toContain(`${s.name}.${f.name}`);
  });

  it('ignores unknown keys on decode (forward compatibility)', () => {
    const body = decodeCbor(encodeMessage(hello)) as CborMap;
    body.set(23, 'from v2');
    (body.get(4) as CborMap).set(20, [1, 2]);
    const msg = decodeMessage(MessageType.HELLO, encodeCbor(body));
    expect(msg).toEqual(hello);
  });

  it('names the offending field, nested and in arrays', () => {
    const e1 = errOf(() => encodeMessage({ ...hello, caps: { cpuCores: 1, computeMops: 1 } } as unknown as Message));
    expect([e1.code, e1.field]).toEqual(['msg.schema', 'caps.memoryKiB']);
    const state = {
      type: 'STATE',
      loadPermille: 1,
      memFreeKiB: 1,
      services: [{ name: 'a', version: '1', status: 'ready', queueLen: 0, served: 0, violations: 0 }, { name: 'b', version: '1', status: 'bogus', queueLen: 0, served: 0, violations: 0 }],
      uptimeMs: 1,
    } as unknown as Message;
    const e2 = errOf(() => encodeMessage(state));
    expect(e2.field).toBe('services[1].status');
    expect(e2.reason).toContain("'ready'");
  });

  it.each([
    ['nonce of 15 bytes', { type: 'CHALLENGE', nonce: new Uint8Array(15), version: 1, maxFrame: 64, window: 1, keepaliveMs: 100 }, 'nonce'],
    ['mac of 31 bytes', { type: 'AUTH', serverNonce: new Uint8Array(16), deviceNonce: new Uint8Array(16), mac: new Uint8Array(31) }, 'mac'],
    ['sha256 of 33 bytes', { type: 'DEPLOY_OFFER', deploymentId: 1, service: 's', version: 'v', kind: 'onnx', size: 1, sha256: new Uint8Array(33), chunkSize: 1, category: 'latency-single' }, 'sha256'],
    ['deviceId with a space', { ...hello, deviceId: 'a b' }, 'deviceId'],
    ['deviceId of 65 chars', { ...hello, deviceId: 'a'.repeat(65) }, 'deviceId'],
    ['empty deviceId', { ...hello, deviceId: '' }, 'deviceId'],
    ['loadPermille 1001', { type: 'STATE', loadPermille: 1001, memFreeKiB: 0, services: [], uptimeMs: 0 }, 'loadPermille'],
    ['maxFrame 63', { ...hello, maxFrame: 63 }, 'maxFrame'],
    ['rxWindow 0', { ...hello, rxWindow: 0 }, 'rxWindow'],
    ['proto min > max', { ...hello, proto: [2, 1] }, 'proto'],
    ['a fractional number', { type: 'HEARTBEAT', uptimeMs: 1.5 }, 'uptimeMs'],
    ['a bigint', { type: 'HEARTBEAT', uptimeMs: 5n }, 'uptimeMs'],
    ['an unsafe integer', { type: 'HEARTBEAT', uptimeMs: 2 ** 53 }, 'uptimeMs'],
    ['requestId above u32', { type: 'INFER_CANCEL', requestId: 2 ** 32 }, 'requestId'],
    ['firmware of 33 bytes', { ...hello, firmware: 'x'.repeat(33) }, 'firmware'],
    ['reason of 201 UTF-8 bytes', { type: 'ERROR', code: 1, reason: 'é'.repeat(100) + 'x' }, 'reason'],
    ['PING data of 65 bytes', { type: 'PING', data: new Uint8Array(65) }, 'data'],
    ['an INFER_REQUEST without inputs', { type: 'INFER_REQUEST', requestId: 1, service: 's', inputs: [] }, 'inputs'],
    ['tensor data not matching its shape', { type: 'INFER_RESPONSE', requestId: 1, outputs: [{ name: 'y', dtype: 'float32', shape: [3], data: new Uint8Array(8) }] }, 'outputs[0].data'],
    ['an unknown dtype', { type: 'INFER_RESPONSE', requestId: 1, outputs: [{ name: 'y', dtype: 'float16', shape: [1], data: new Uint8Array(2) }] }, 'outputs[0].dtype'],
  ])('refuses to encode %s (msg.schema, field %s)', (_, msg, field) => {
    const e = errOf(() => encodeMessage(msg as unknown as Message));
    expect(e.code).toBe('msg.schema');
    expect(e.field).toBe(field);
    expect(e.hint.length).toBeGreaterThan(10);
  });

  it('refuses an unknown message type on both sides', () => {
    expect(errOf(() => encodeMessage({ type: 'NOPE' } as unknown as Message)).code).toBe('msg.unknown_type');
    expect(errOf(() => decodeMessage(0x0c, new Uint8Array([0xa0]))).code).toBe('msg.unknown_type');
  });

  it('never throws anything but ProtocolError on any body for any defined type', () => {
    const types = [...SCHEMAS.keys()];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (t, body) => {
        try {
          decodeMessage(t, body);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid bodies decode to a valid message or a ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (msg, at, byte) => {
        const body = encodeMessage(msg);
        body[at % body.length] = byte;
        try {
          const back = decodeMessage(MessageType[msg.type], body);
          // whatever came out must itself be encodable: validation is the same both ways
          encodeMessage(back);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('tensors', () => {
  it('round-trip every dtype through tensorFrom / tensorValues as little-endian bytes', () => {
    const t = tensorFrom('x', new Int16Array([1, -2, 300]), [3, 1]);
    expect(t).toMatchObject({ dtype: 'int16', shape: [3, 1] });
    expect([...t.data]).toEqual([1, 0, 0xfe, 0xff, 0x2c, 0x01]);
    expect([...(tensorValues(t) as Int16Array)]).toEqual([1, -2, 300]);
    const f = tensorFrom('f', new Float64Array([0.1]));
    expect((tensorValues(f) as Float64Array)[0]).toBe(0.1);
    const big = tensorFrom('b', new BigInt64Array([-5n, 2n ** 62n]));
    expect([...(tensorValues(big) as BigInt64Array)]).toEqual([-5n, 2n ** 62n]);
  });

  it('tensorFrom rejects a shape that does not hold the values', () => {
    expect(errOf(() => tensorFrom('x', new Float32Array(6), [4, 2])).field).toBe('shape');
  });

  it('tensor data survives a frame round-trip without copying into a misaligned typed array', () => {
    const msg: Message = { type: 'INFER_RESPONSE', requestId: 9, outputs: [tensorFrom('y', new Float32Array([1.5, 2.5, -3]))] };
    const back = decodeMessage(MessageType.INFER_RESPONSE, encodeMessage(msg)) as Extract<Message, { type: 'INFER_RESPONSE' }>;
    expect([...(tensorValues(back.outputs[0]!) as Float32Array)]).toEqual([1.5, 2.5, -3]);
  });
});
