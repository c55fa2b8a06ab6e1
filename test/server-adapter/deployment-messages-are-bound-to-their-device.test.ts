import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import type { Message } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { RawDevice, until } from './helpers/raw-device.js';

/**
 * Issue 15, defect 2: a deployment message is matched against the session's device, not only
 * the deployment id. Device B forging a DEPLOY_RESULT for device A's deployment is refused with
 * deploy.wrong_device (410), audited under B's id, and A's deployment does not move.
 */
let dir: string;
let server: EparaServer;
let a: RawDevice;
let b: RawDevice;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-own-'));
  server = new EparaServer({ dataDir: dir, rttProbeMs: 0, deploy: { retryMs: 20 } });
  await server.start();
  const { port } = await server.listenTcp({ port: 0 });
  const ka = server.provision({ id: 'dev-a', deviceClass: 'mcu' }).key;
  const kb = server.provision({ id: 'dev-b', deviceClass: 'mcu' }).key;
  a = await RawDevice.connect(port);
  await a.register('dev-a', keyFromHex(ka));
  await a.heartbeat();
  b = await RawDevice.connect(port);
  await b.register('dev-b', keyFromHex(kb));
  await b.heartbeat();
});
afterEach(async () => {
  await a.close();
  await b.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Device A takes the whole artifact, answers COMMIT with `verifying` and then says nothing. */
function stallingAfterCommit(d: RawDevice, answer: (m: Extract<Message, { deploymentId: number }>) => Message | undefined = () => undefined): void {
  let next = 0;
  d.handler = (m: Message) => {
    if (m.type === 'DEPLOY_OFFER') return { type: 'DEPLOY_ACCEPT', deploymentId: m.deploymentId, nextOffset: next, window: 4 };
    if (m.type === 'DEPLOY_CHUNK') {
      if (m.offset === next) next += m.data.length;
      return answer(m) ?? { type: 'DEPLOY_CHUNK_ACK', deploymentId: m.deploymentId, nextOffset: next };
    }
    if (m.type === 'DEPLOY_COMMIT') return { type: 'DEPLOY_RESULT', deploymentId: m.deploymentId, state: 'verifying' };
    return undefined;
  };
}

describe('deployment messages are bound to their device', () => {
  it("device B's forged DEPLOY_RESULT for device A's deployment is refused, audited under B and changes nothing", async () => {
    stallingAfterCommit(a);
    const errorsToB: Message[] = [];
    b.link.on('notify', (f) => {
      if (f.message.type === 'ERROR') errorsToB.push(f.message);
    });
    const [rec] = await server.deploy({ artifact: new Uint8Array(2000).fill(7), service: 'svc', version: '1', kind: 'blob', category: 'latency-single', to: ['dev-a'], wait: false });
    await until(() => server.deployment(rec!.id)?.state === 'verifying');

    await b.link.notify({ type: 'DEPLOY_RESULT', deploymentId: rec!.id, state: 'ready', activeVersion: 'forged' });
    await until(() => errorsToB.length > 0);
    expect(errorsToB[0]).toMatchObject({ type: 'ERROR', code: 410 });
    // The refusal is committed before it is answered: it is in the log now, under the sender.
    const audit = server.auditLog({ event: 'deploy.wrong_device' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ deviceId: 'dev-b' });
    expect(audit[0]!.detail).toContain(`deployment ${rec!.id}`);
    expect(server.deployment(rec!.id)).toMatchObject({ state: 'verifying', deviceId: 'dev-a' });
    expect(server.deployment(rec!.id)!.activeVersion).toBeUndefined();
    expect(server.candidates('svc')).toEqual([]);

    // A itself can still settle its own deployment.
    await a.link.notify({ type: 'DEPLOY_RESULT', deploymentId: rec!.id, state: 'ready', activeVersion: '1' });
    await until(() => server.deployment(rec!.id)?.state === 'ready');
    expect(server.deployment(rec!.id)!.activeVersion).toBe('1');
  });

  it('a forged result or ack from B for a settled deployment is refused the same way', async () => {
    stallingAfterCommit(a);
    const [rec] = await server.deploy({ artifact: new Uint8Array(500).fill(1), service: 'svc', version: '1', kind: 'blob', category: 'latency-single', to: ['dev-a'], wait: false });
    await until(() => server.deployment(rec!.id)?.state === 'verifying');
    await a.link.notify({ type: 'DEPLOY_RESULT', deploymentId: rec!.id, state: 'ready', activeVersion: '1' });
    await until(() => server.deployment(rec!.id)?.state === 'ready');
    const errorsToB: Message[] = [];
    b.link.on('notify', (f) => {
      if (f.message.type === 'ERROR') errorsToB.push(f.message);
    });
    // Nobody waits for this deployment's results any more: B is still refused and audited.
    await b.link.notify({ type: 'DEPLOY_RESULT', deploymentId: rec!.id, state: 'failed', code: 404 });
    // An ack is a response type: unsolicited, the server takes it as a notification and refuses it.
    await b.link.notify({ type: 'DEPLOY_CHUNK_ACK', deploymentId: rec!.id, nextOffset: 0 });
    await until(() => errorsToB.length === 2);
    expect(errorsToB.map((e) => (e as { code: number }).code)).toEqual([410, 410]);
    await until(() => server.auditLog({ event: 'deploy.wrong_device' }).length === 2);
    expect(server.auditLog({ event: 'deploy.wrong_device' }).every((e) => e.deviceId === 'dev-b')).toBe(true);
    expect(server.deployment(rec!.id)).toMatchObject({ state: 'ready', activeVersion: '1' });
  });

  it("a device answering a chunk of its own deployment with another deployment's id is refused, not applied", async () => {
    const [other] = await server.deploy({ artifact: new Uint8Array(300).fill(2), service: 'other', version: '1', kind: 'blob', category: 'latency-single', to: ['dev-b'], wait: false });
    stallingAfterCommit(a, () => ({ type: 'DEPLOY_CHUNK_ACK', deploymentId: other!.id, nextOffset: 999_999 }));
    const [rec] = await server.deploy({ artifact: new Uint8Array(2000).fill(3), service: 'svc', version: '1', kind: 'blob', category: 'latency-single', to: ['dev-a'], timeoutMs: 20_000 });
    expect(rec).toMatchObject({ state: 'failed', errorCode: 'deploy.wrong_device' });
    expect(server.deployment(other!.id)!.offset).toBe(0);
  });
});
