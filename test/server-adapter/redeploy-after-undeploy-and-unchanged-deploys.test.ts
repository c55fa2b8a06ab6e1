import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { tensorFrom } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { until } from './helpers/raw-device.js';

/**
 * Issue 15, defect 3: deploy → undeploy → deploy of the same artifact to the same device used to
 * end `failed deploy.unknown` (the device held the verified file, answered ACCEPT with `size`,
 * and then could not find a partial to commit). Redeploying works, and deploying what is already
 * ready is a no-op that says so.
 */
const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const INPUT = [tensorFrom('input', new Float32Array(16).fill(0.25), [1, 16])];

let dir: string;
let server: EparaServer;
let port: number;
const devices: EparaDevice[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-redep-'));
  server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500, stateSyncMs: 200 }, rttProbeMs: 0 });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(id: string, key: string): Promise<EparaDevice> {
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port }), reconnect: { initialMs: 20, maxMs: 200 } });
  devices.push(d);
  return d;
}

const deploy = () => server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi'], timeoutMs: 20_000 });

describe('the same artifact deployed again', () => {
  it('deploy → undeploy → deploy ends ready and serves; deploying it once more is an unchanged no-op', async () => {
    const { key } = server.provision({ id: 'pi', deviceClass: 'microcomputer' });
    const d = await connect('pi', key);
    const [first] = await deploy();
    expect(first).toMatchObject({ state: 'ready' });
    expect((await server.infer('mlp', INPUT)).deviceId).toBe('pi');

    expect(await server.undeploy('mlp')).toEqual([{ deviceId: 'pi', ok: true }]);
    expect(server.deployment(first!.id)!.state).toBe('undeployed');
    await expect(server.infer('mlp', INPUT)).rejects.toMatchObject({ code: 'infer.no_device' });

    const [second] = await deploy();
    expect(second).toMatchObject({ state: 'ready', activeVersion: '1' });
    expect(second!.errorCode).toBeUndefined();
    expect(second!.id).not.toBe(first!.id);
    expect(second!.unchanged).toBeUndefined();
    await until(() => server.candidates('mlp').length === 1);
    expect((await server.infer('mlp', INPUT)).deviceId).toBe('pi');
    expect(d.serviceInfo().find((s) => s.name === 'mlp')).toMatchObject({ status: 'ready', version: '1' });

    // Already ready there: nothing is recorded or sent, and the answer says so.
    const before = server.deployments().length;
    const [third] = await deploy();
    expect(third).toMatchObject({ id: second!.id, state: 'ready', unchanged: true });
    expect(server.deployments()).toHaveLength(before);
    expect(server.auditLog({ event: 'deploy.unchanged' })).toHaveLength(1);
    expect((await server.infer('mlp', INPUT)).deviceId).toBe('pi');
  });

  it('an undeployed service stays unloaded across a device restart, and deploys again after it', async () => {
    const { key } = server.provision({ id: 'pi', deviceClass: 'microcomputer' });
    let d = await connect('pi', key);
    await deploy();
    expect(await server.undeploy('mlp')).toEqual([{ deviceId: 'pi', ok: true }]);
    await d.close();
    devices.splice(devices.indexOf(d), 1);
    d = await connect('pi', key);
    // The operator removed it: a reboot does not bring it back.
    expect(d.serviceInfo().find((s) => s.name === 'mlp')?.status).toBe('unloaded');
    const [again] = await deploy();
    expect(again).toMatchObject({ state: 'ready' });
    expect(d.serviceInfo().find((s) => s.name === 'mlp')?.status).toBe('ready');
    await until(() => server.candidates('mlp').length === 1);
    expect((await server.infer('mlp', INPUT)).deviceId).toBe('pi');
  });
});
