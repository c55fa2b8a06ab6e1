import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { httpClient } from './helpers/http-client.js';
import { until } from './helpers/raw-device.js';

// Fastify serialises answers from the route's response schema and leaves out what the schema
// does not declare. That keeps an undeclared field (a future secret) from leaking, but a schema
// that forgot a field would silently drop it: the HTTP answers must equal the local API's, field
// for field, for a device with a live session, a STATE view, caps, a deployment and audit rows.
const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';
let dir: string;
let server: EparaServer;
let device: EparaDevice;
let base: string;
const { call } = httpClient(() => base, TOKEN);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-http-same-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0, periods: { stateSyncMs: 100_000 } });
  await server.start();
  const port = (await server.listenTcp({ port: 0 })).port;
  base = `http://${server.httpAddress!.host}:${server.httpAddress!.port}`;
  const { key } = server.provision({ id: 'pi-1', deviceClass: 'microcomputer', name: 'bench pi' });
  server.provision({ id: 'pi-off', deviceClass: 'mcu' });
  device = await EparaDevice.connect({ id: 'pi-1', key, deviceClass: 'microcomputer', dataDir: join(dir, 'dev'), connector: () => connectTcp({ host: '127.0.0.1', port }) });
  await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'], meta: { inputNames: ['input'] } });
  await until(() => server.device('pi-1')?.view !== undefined, 10_000);
});
afterAll(async () => {
  await device?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The JSON with every number replaced by a marker: a device's clocks (lastHeardAt, the view's
 * updatedAt, uptime, rtt) move between two reads, but a field the answer schema dropped, or a
 * value it coerced to another type, still shows.
 */
const shape = (v: unknown): unknown => JSON.parse(JSON.stringify(v), (_k, x: unknown) => (typeof x === 'number' ? '<number>' : x));

async function same(path: string, local: () => unknown): Promise<void> {
  const http = (await call('GET', path)).json;
  expect(shape(http)).toEqual(shape(local()));
}

describe('HTTP answers carry every field of the local API', () => {
  it('devices, with session, caps and STATE view', async () => {
    const d = server.device('pi-1')!;
    expect(d.view?.services.length).toBeGreaterThan(0);
    expect(d.caps).toBeDefined();
    await same('/devices', () => server.devices());
    await same('/devices/pi-1', () => server.device('pi-1'));
    await same('/devices/pi-off', () => server.device('pi-off'));
  });

  it('deployments and the audit log', async () => {
    await same('/deployments', () => server.deployments());
    await same(`/deployments/${server.deployments()[0]!.id}`, () => server.deployment(server.deployments()[0]!.id));
    await same('/audit?limit=50', () => server.auditLog({ limit: 50 }));
  });
});
