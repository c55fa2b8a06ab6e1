import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { httpClient } from './helpers/http-client.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';

let dir: string;
let server: EparaServer;
let base: string;
let devicePort: number;
const devices: EparaDevice[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-http-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0 });
  await server.start();
  devicePort = (await server.listenTcp({ port: 0 })).port;
  const a = server.httpAddress!;
  base = `http://${a.host}:${a.port}`;
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const { call, upload } = httpClient(() => base, TOKEN);

describe('HTTP API', () => {
  it('is off unless configured, and refuses a short token', async () => {
    const s = new EparaServer({ dataDir: join(dir, 'off') });
    await s.start();
    expect(s.httpAddress).toBeUndefined();
    await s.close();
    const bad = new EparaServer({ dataDir: join(dir, 'bad'), http: { port: 0, token: 'short' } });
    await expect(bad.start()).rejects.toMatchObject({ code: 'config.http_token' });
    await bad.close();
  });

  it('binds 127.0.0.1 by default and needs the bearer token', async () => {
    expect(server.httpAddress!.host).toBe('127.0.0.1');
    expect((await call('GET', '/devices', undefined, null)).status).toBe(401);
    const wrong = await call('GET', '/devices', undefined, 'nope-nope-nope-nope');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('http.unauthorized');
    expect((await call('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('provisions, lists, deploys, infers and undeploys through HTTP; /metrics reflects it', async () => {
    const prov = await call('POST', '/devices', { id: 'pi-h', deviceClass: 'microcomputer' });
    expect(prov.status).toBe(201);
    expect(prov.json.key).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('POST', '/devices', { id: 'pi-h', deviceClass: 'microcomputer' })).json.error.code).toBe('registry.duplicate');
    expect((await call('POST', '/devices', { id: 'x y', deviceClass: 'microcomputer' })).status).toBe(400);
    const d = await EparaDevice.connect({ id: 'pi-h', key: prov.json.key, deviceClass: 'microcomputer', dataDir: join(dir, 'dev'), connector: () => connectTcp({ host: '127.0.0.1', port: devicePort }) });
    devices.push(d);
    const list = await call('GET', '/devices');
    expect(list.json.map((x: { id: string }) => x.id)).toEqual(['pi-h']);
    expect(list.text).not.toContain(prov.json.key);
    expect((await call('GET', '/devices/pi-h')).json.state).toMatch(/registered|active/);
    expect((await call('GET', '/devices/nope')).status).toBe(404);

    const up = await upload(MODEL);
    expect(up.status).toBe(201);
    const dep = await call('POST', '/deployments', { artifact: up.json.artifact, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-h'] });
    expect(dep.status).toBe(202);
    expect(dep.json[0].state).toBe('ready');
    expect((await call('GET', `/deployments/${dep.json[0].id}`)).json.sha256).toHaveLength(64);

    const x = new Float32Array(16).fill(0.5);
    const inf = await call('POST', '/infer', { service: 'mlp', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: Buffer.from(x.buffer).toString('base64') }], deadlineMs: 5000 });
    expect(inf.status).toBe(200);
    expect(inf.json.deviceId).toBe('pi-h');
    const cls = inf.json.outputs.find((t: { name: string }) => t.name === 'class');
    expect(cls).toMatchObject({ dtype: 'int64', shape: [1] });
    const bad = await call('POST', '/infer', { service: 'mlp', inputs: [{ name: 'input', dtype: 'float99', shape: [1], data: '' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('config.tensor');
    expect((await call('POST', '/infer', { service: 'none', inputs: [] })).json.error.code).toBe('infer.no_device');

    expect((await call('DELETE', '/services/mlp')).json).toEqual([{ deviceId: 'pi-h', ok: true }]);

    const m = await call('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/epara_devices\{state="(active|registered)"\} 1/);
    expect(m.text).toMatch(/epara_deployment_bytes_total \d+/);
    expect(m.text).toMatch(/epara_infer_latency_seconds_count\{service="mlp",outcome="ok"\} 1/);
    expect(m.text).toMatch(/epara_messages_total\{direction="in",type="STATE"\}/);
    expect(m.text).toMatch(/epara_messages_total\{direction="out",type="INFER_REQUEST"\} 1/);
    expect(m.text).toMatch(/epara_messages_total\{direction="out",type="DEPLOY_CHUNK"\} [1-9]/);
    const audit = await call('GET', '/audit?deviceId=pi-h');
    expect(audit.json.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['device.provisioned', 'auth.ok', 'deploy.ready', 'deploy.undeployed']));
  });

  it('answers malformed JSON and unknown routes with typed errors', async () => {
    const r = await fetch(base + '/devices', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{nope' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('config.json');
    expect((await call('GET', '/nowhere')).json.error.code).toBe('http.not_found');
  });
});
