import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { encodeFrame, explainWire, tensorFrom } from '../../src/protocol/index.js';

const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/ /g, ''), 'hex'));

describe('explainWire', () => {
  it('dissects the SPEC §10 HEARTBEAT: header fields, CRC, annotated CBOR, verdict', () => {
    const text = explainWire(bytes('03 01 08 01 02 02 01 01 03 07 a1 02 1a 08 01 e2 40 23 3d f4 38 00'));
    expect(text).toContain('header: ver 1, type 0x08 HEARTBEAT, flags 0x00, seq 2, corr 0, len 7');
    expect(text).toContain('crc: 0x38f43d23 (ok)');
    expect(text).toContain('cbor: {0 /uptimeMs/: 123456}');
    expect(text).toContain('=> HEARTBEAT ok');
  });

  it('names enums, nested fields and tensor tags', () => {
    const wire = encodeFrame({ type: 'INFER_RESPONSE', requestId: 3, outputs: [tensorFrom('y', new Int8Array([1, -1]))] }, { seq: 9, rsp: true, corr: 4 });
    const text = explainWire(wire);
    expect(text).toContain('flags 0x01 (RSP)');
    expect(text).toContain(`{0 /requestId/: 3, 1 /outputs/: [{0 /name/: "y", 1 /shape/: [2], 2 /data/: 72(h'01ff')}]}`);
    const st = explainWire(encodeFrame({ type: 'DEPLOY_RESULT', deploymentId: 1, state: 'rolled-back' }, { seq: 1 }));
    expect(st).toContain('1 /state/: 4 /rolled-back/');
  });

  it('reports the exact error for a bad CRC and for a schema violation', () => {
    const bad = encodeFrame({ type: 'PING' }, { seq: 1 });
    bad[bad.length - 2]! ^= 1;
    expect(explainWire(bad)).toMatch(/crc: 0x[0-9a-f]{8} \(expected 0x[0-9a-f]{8}\)[\s\S]*=> frame.crc \[100\]/);
    const v = JSON.parse(readFileSync(new URL('../../protocol/vectors/invalid.json', import.meta.url), 'utf8')).vectors.find(
      (x: { name: string }) => x.name === 'schema-wrong-type',
    );
    const text = explainWire(bytes(v.wire_hex));
    expect(text).toContain('cbor: {0 /uptimeMs/: "123"}');
    expect(text).toContain('=> msg.schema [113] field uptimeMs');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(typeof explainWire(b)).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
