import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/protocol/index.js';
import { maxChunkData } from '../../src/protocol/deploy-chunk-size.js';

describe('maxChunkData', () => {
  it.each([64, 100, 128, 300, 512, 2048, 65535])('fills a %i-byte frame exactly at the worst-case ids and offsets', (maxFrame) => {
    const n = maxChunkData(maxFrame);
    const msg = (len: number) => ({ type: 'DEPLOY_CHUNK' as const, deploymentId: 2 ** 32 - 1, offset: 2 ** 32 - 1, data: new Uint8Array(len) });
    expect(() => encodeFrame(msg(n), { seq: 1, maxFrame })).not.toThrow();
    expect(() => encodeFrame(msg(n + 1), { seq: 1, maxFrame })).toThrow(/frame.oversize|larger than maxFrame/);
  });
  it('uses the room that small ids and offsets leave', () => {
    const n = maxChunkData(512, { deploymentId: 1, maxOffset: 60_000 });
    expect(n).toBeGreaterThan(maxChunkData(512));
    const wire = encodeFrame({ type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 60_000, data: new Uint8Array(n) }, { seq: 1, maxFrame: 512 });
    expect(wire.length).toBeGreaterThan(512);
    expect(() => encodeFrame({ type: 'DEPLOY_CHUNK', deploymentId: 1, offset: 60_000, data: new Uint8Array(n + 1) }, { seq: 1, maxFrame: 512 })).toThrow();
  });
});
