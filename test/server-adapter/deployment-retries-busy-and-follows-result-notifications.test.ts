import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import type { Message } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { RawDevice } from './helpers/raw-device.js';

/**
 * Deployment against a device scripted message by message, for the answers a well-behaved
 * EparaDevice rarely gives: busy, and a DEPLOY_RESULT sequence sent as notifications.
 */
let dir: string;
let server: EparaServer;
let d: RawDevice;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-scr-'));
  server = new EparaServer({ dataDir: dir, rttProbeMs: 0, deploy: { retryMs: 20 } });
  await server.start();
  const { port } = await server.listenTcp({ port: 0 });
  const { key } = server.provision({ id: 'mcu-1', deviceClass: 'mcu' });
  d = await RawDevice.connect(port);
  await d.register('mcu-1', keyFromHex(key));
  await d.heartbeat();
});
afterEach(async () => {
  await d.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('deployment against a scripted device', () => {
  it('a busy device is offered again later; verifying → loading → ready arrive as notifications', async () => {
    const artifact = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
    const got = new Uint8Array(artifact.length);
    let next = 0;
    let offers = 0;
    d.handler = (m: Message) => {
      if (m.type === 'DEPLOY_OFFER') {
        offers++;
        expect(Buffer.from(m.sha256).toString('hex')).toBe(createHash('sha256').update(artifact).digest('hex'));
        if (offers === 1) return { type: 'ERROR', code: 407, reason: 'still loading another model' };
        return { type: 'DEPLOY_ACCEPT', deploymentId: m.deploymentId, nextOffset: next, window: 2 };
      }
      if (m.type === 'DEPLOY_CHUNK') {
        if (m.offset === next) {
          got.set(m.data, m.offset);
          next += m.data.length;
        }
        return { type: 'DEPLOY_CHUNK_ACK', deploymentId: m.deploymentId, nextOffset: next };
      }
      if (m.type === 'DEPLOY_COMMIT') {
        const id = m.deploymentId;
        setTimeout(() => void d.link.notify({ type: 'DEPLOY_RESULT', deploymentId: id, state: 'loading' }), 10);
        setTimeout(() => void d.link.notify({ type: 'DEPLOY_RESULT', deploymentId: id, state: 'ready', activeVersion: '3' }), 30);
        return { type: 'DEPLOY_RESULT', deploymentId: id, state: 'verifying' };
      }
      return undefined;
    };
    const states: string[] = [];
    server.on('deployment-progress', (p) => states.push(p.state));
    const [rec] = await server.deploy({ artifact, service: 'kws', version: '3', kind: 'blob', category: 'frequency-single', to: ['mcu-1'], timeoutMs: 20_000 });
    expect(rec).toMatchObject({ state: 'ready', activeVersion: '3', offset: 3000 });
    expect(offers).toBe(2);
    expect(Buffer.from(got).equals(Buffer.from(artifact))).toBe(true);
    const distinct = states.filter((s, i) => s !== states[i - 1]);
    expect(distinct).toEqual(['offered', 'transferring', 'verifying', 'loading', 'ready']);
  });

  it('a device that refuses the artifact settles the deployment as failed with its code', async () => {
    d.handler = (m) => (m.type === 'DEPLOY_OFFER' ? { type: 'ERROR', code: 402, reason: 'flash full' } : undefined);
    const [rec] = await server.deploy({ artifact: new Uint8Array(10_000), service: 'big', version: '1', kind: 'blob', category: 'latency-single', to: ['mcu-1'] });
    expect(rec).toMatchObject({ state: 'failed', errorCode: 'deploy.no_space' });
  });
});
