import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { tensorFrom } from '../../src/protocol/index.js';
import type { SchedulerConfig } from '../../src/server-adapter/scheduler-wiring.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import type { Estimator } from '../../src/scheduler/types.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { until } from './helpers/raw-device.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));

// A plain speed model: every device runs `workMs` per request, batches scale sub-linearly.
const estimator: Estimator = {
  serviceTimeMs: (_d, s, batch, workFraction = 1) => s.workMs * workFraction * Math.pow(batch, 0.8),
  loadTimeMs: () => 100,
};

const scheduler: SchedulerConfig = {
  estimator,
  // Demand far above what one replica serves within the deadline: the planner wants every device.
  services: [{ name: 'mlp', version: '1', category: 'latency-single', memoryMiB: 16, kind: 'vision', workMs: 20, deadlineMs: 100, demandRps: 400, maxBatch: 4 }],
};

let dir: string;
let server: EparaServer;
let port: number;
const devices: EparaDevice[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-sched-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), scheduler, rttProbeMs: 0, periods: { placementMs: 3_600_000 } });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function device(id: string): Promise<EparaDevice> {
  const { key } = server.provision({ id, deviceClass: 'microcomputer' });
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port }) });
  devices.push(d);
  return d;
}

describe('scheduler wired into the live server', () => {
  it('a placement round deploys the service to the device that lacks it and loads it everywhere; infer uses the forwarding rule', async () => {
    await device('pi-1');
    await device('pi-2');
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'] });
    expect(server.deployments({ deviceId: 'pi-2' })).toEqual([]);

    const round = await server.placement();
    expect(round).toBeDefined();
    const units = round!.result.placement.assignments.filter((a) => a.service === 'mlp').flatMap((a) => a.devices);
    expect(new Set(units)).toEqual(new Set(['pi-1', 'pi-2']));
    const deployAction = round!.outcomes.find((o) => o.action.action === 'deploy');
    expect(deployAction).toMatchObject({ action: { device: 'pi-2', service: 'mlp' }, outcome: 'ok' });
    await until(() => server.deployments({ deviceId: 'pi-2' })[0]?.state === 'ready');
    expect(round!.outcomes.filter((o) => o.action.action === 'load').map((o) => [o.action.device, o.outcome]).sort()).toEqual([['pi-1', 'ok'], ['pi-2', 'ok']]);

    // Two requests in flight at once go to two devices: the second sees the first's backlog.
    const x = tensorFrom('input', new Float32Array(16).fill(0.1), [1, 16]);
    const [a, b] = await Promise.all([server.infer('mlp', [x]), server.infer('mlp', [x])]);
    expect(new Set([a.deviceId, b.deviceId])).toEqual(new Set(['pi-1', 'pi-2']));

    // A second round with nothing changed keeps the placement: no new deployments.
    const again = await server.placement();
    expect(again!.outcomes.filter((o) => o.action.action === 'deploy')).toEqual([]);
    expect(server.deployments().length).toBe(2);
  });
});
