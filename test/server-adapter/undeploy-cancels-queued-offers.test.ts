import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import type { DeploymentRecord } from '../../src/device-mgmt/registry/store.js';
import { planUndeploy } from '../../src/server-adapter/queued-offers.js';
import { cleanupList, startServer, tmpDir, until } from '../firmware-sims/helpers.js';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));

// Issue 21, defect 3: `undeploy <service>` left offers queued for offline devices, and they were
// delivered when the device connected.
describe('undeploy cancels offers still queued for a device', () => {
  it('an offline device gets nothing when it connects after the undeploy; the online one unloads', async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const keys = Object.fromEntries(['pi-on', 'pi-off'].map((id) => [id, server.provision({ id, deviceClass: 'microcomputer' }).key]));
    const start = async (id: string) => {
      const d = await EmulatedDevice.start({ profile: 'microcomputer', id, key: keys[id]!, connector: () => connectTcp({ host: '127.0.0.1', port }), dataDir: tmpDir(cleanups), timeScale: 0 });
      cleanups.add(() => d.close());
      await until(() => server.device(id)?.state === 'active');
    };
    await start('pi-on');
    const recs = await server.deploy({ artifact: MODEL, service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-on', 'pi-off'], wait: false });
    await until(() => server.deployments({ deviceId: 'pi-on' })[0]?.state === 'ready');
    expect(server.deployments({ deviceId: 'pi-off' }).map((d) => d.state)).toEqual(['offered']);

    const res = await server.undeploy('cls');
    expect(res.sort((a, b) => a.deviceId.localeCompare(b.deviceId))).toEqual([
      { deviceId: 'pi-off', ok: true, cancelled: true },
      { deviceId: 'pi-on', ok: true },
    ]);
    expect(server.deployment(recs.find((r) => r.deviceId === 'pi-off')!.id)!.state).toBe('undeployed');

    const offered: string[] = [];
    server.on('audit', (a) => a.event.startsWith('deploy.') && offered.push(`${a.event} ${a.deviceId}`));
    await start('pi-off');
    // Give a would-be transfer the time it takes on loopback (the on-device one took less) and look.
    await new Promise((r) => setTimeout(r, 500));
    expect(offered).toEqual([]);
    expect(server.deployments({ deviceId: 'pi-off' }).map((d) => d.state)).toEqual(['undeployed']);
    expect(server.candidates('cls')).toEqual([]);
    // Nothing is left to undeploy.
    await expect(server.undeploy('cls')).rejects.toMatchObject({ code: 'deploy.unknown' });
  });

  it('plans: cancel what waits, unload what may be loaded, leave the one being sent', () => {
    const rec = (id: number, deviceId: string, state: DeploymentRecord['state']) => ({ id, deviceId, state }) as DeploymentRecord;
    const records = [rec(1, 'a', 'ready'), rec(2, 'a', 'offered'), rec(3, 'b', 'transferring'), rec(4, 'c', 'transferring'), rec(5, 'd', 'loading'), rec(6, 'e', 'undeploying'), rec(7, 'f', 'verifying')];
    const running = new Map([['c', 4], ['f', 7]]);
    const online = new Set(['a', 'c', 'f']);
    const plan = planUndeploy(records, (d) => running.get(d), (d) => online.has(d));
    expect(plan.cancel.map((r) => r.id)).toEqual([2, 3]);
    expect(plan.unload.map((r) => r.id)).toEqual([1, 5, 6]);
    expect(plan.busy.map((r) => r.id)).toEqual([4, 7]);
  });
});
