import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import type { StreamEvent } from '../../src/server-adapter/event-stream-types.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import { httpClient } from './helpers/http-client.js';
import { RawDevice } from './helpers/raw-device.js';
import { openSse, type SseConnection } from './helpers/sse-client.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const TOKEN = 'events-token-0123456789abcdef';

let dir: string;
let server: EparaServer;
let base: string;
let devicePort: number;
const devices: EparaDevice[] = [];
const streams: SseConnection[] = [];

async function start(events: { bufferSize?: number; stateEveryMs?: number } = {}): Promise<void> {
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0, periods: { stateSyncMs: 100, heartbeatMs: 100 }, leaseMs: 600, events });
  await server.start();
  devicePort = (await server.listenTcp({ port: 0 })).port;
  const a = server.httpAddress!;
  base = `http://${a.host}:${a.port}`;
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-events-'));
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const { call, upload } = httpClient(() => base, TOKEN);
const sse = async (o: { token?: string | null; lastEventId?: string; query?: string } = {}) => {
  const s = await openSse(`${base}/events${o.query ?? ''}`, { token: o.token === undefined ? TOKEN : o.token, ...(o.lastEventId ? { lastEventId: o.lastEventId } : {}) });
  streams.push(s);
  return s;
};
const connect = async (id: string, key: string) => {
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port: devicePort }) });
  devices.push(d);
  return d;
};

describe('GET /events (Server-Sent Events over real HTTP)', () => {
  it('needs the token like every other route, and the refusal is audited', async () => {
    await start();
    const none = await sse({ token: null });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('http.unauthorized');
    const wrong = await sse({ token: 'wrong-wrong-wrong-wrong' });
    expect(wrong.status).toBe(401);
    expect(server.auditLog({ event: 'http.unauthorized' }).some((a) => a.detail?.startsWith('GET /events'))).toBe(true);
    const bad = await sse({ query: '?kinds=DROP%20TABLE' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('http.invalid_query');
  });

  it('shows a device register, report STATE, take a deployment, and get revoked', async () => {
    await start({ stateEveryMs: 0 });
    const s = await sse();
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.headers['cache-control']).toMatch(/no-cache/);
    const { json: prov } = await call('POST', '/devices', { id: 'pi-e', deviceClass: 'microcomputer' });
    await s.next((e) => e.kind === 'audit' && e.data.event === 'device.provisioned');
    await connect('pi-e', prov.key);
    const reg = await s.next((e) => e.kind === 'device.registered');
    expect(reg.data).toMatchObject({ deviceId: 'pi-e', deviceClass: 'microcomputer' });
    const st = await s.next((e) => e.kind === 'device.state');
    expect(st.data).toMatchObject({ deviceId: 'pi-e', services: [] });

    const up = await upload(MODEL);
    await call('POST', '/deployments', { artifact: up.json.artifact, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-e'] });
    const result = await s.next((e) => e.kind === 'deployment.result');
    expect(result.data).toMatchObject({ deviceId: 'pi-e', service: 'mlp', state: 'ready', offset: MODEL.length, size: MODEL.length });
    const progress = s.events.filter((e) => e.kind === 'deployment.progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((e) => e.data.state)).toContain('transferring');
    await s.next((e) => e.kind === 'device.state' && e.data.services.some((x) => x.name === 'mlp' && x.status === 'ready'));

    await call('POST', '/devices/pi-e/revoke');
    await s.next((e) => e.kind === 'device.revoked' && e.data.deviceId === 'pi-e');
    await s.next((e) => e.kind === 'device.left' && e.data.deviceId === 'pi-e');
    // Ids increase and are unique; the SSE `event:` field is the kind; no key is ever in the stream.
    const seqs = s.events.map((e) => Number(e.id.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(s.names).toEqual(s.events.map((e) => e.kind));
    expect(JSON.stringify(s.events)).not.toContain(prov.key);
    expect(s.retryMs).toBeGreaterThan(0);
  });

  it('a device that goes quiet is degraded, then back when heard; one that never returns is lost', async () => {
    await start();
    const s = await sse({ query: '?kinds=device' });
    const key = keyFromHex(server.provision({ id: 'pi-a', deviceClass: 'microcomputer' }).key);
    const d = await RawDevice.connect(devicePort);
    await d.register('pi-a', key);
    await d.heartbeat();
    await s.next((e) => e.kind === 'device.registered');
    await s.next((e) => e.kind === 'device.degraded');
    await d.heartbeat();
    expect((await s.next((e) => e.kind === 'device.back')).data).toMatchObject({ deviceId: 'pi-a', previous: 'degraded', state: 'active' });
    await d.close();
    expect((await s.next((e) => e.kind === 'device.lost')).data).toMatchObject({ deviceId: 'pi-a', state: 'lost' });
    // ?kinds=device: only device.* kinds came.
    expect(s.events.every((e) => e.kind.startsWith('device.'))).toBe(true);
  });

  it('a client that reconnects with Last-Event-ID gets exactly what it missed, in order', async () => {
    await start();
    const s = await sse({ query: '?kinds=audit' });
    for (let i = 0; i < 3; i++) server.provision({ id: `d-${i}`, deviceClass: 'microcomputer' });
    await s.next((e) => e.kind === 'audit' && e.data.deviceId === 'd-2');
    const seen = s.lastEventId;
    s.close();
    await s.closed;
    for (let i = 3; i < 8; i++) server.provision({ id: `d-${i}`, deviceClass: 'microcomputer' });
    const again = await sse({ query: '?kinds=audit', lastEventId: seen });
    server.provision({ id: 'd-8', deviceClass: 'microcomputer' });
    await again.next((e) => e.kind === 'audit' && e.data.deviceId === 'd-8');
    expect(again.events.map((e) => e.kind === 'audit' && e.data.deviceId)).toEqual(['d-3', 'd-4', 'd-5', 'd-6', 'd-7', 'd-8']);
    // Nothing before the resume point was sent twice.
    expect(again.events.every((e) => Number(e.id.split('-')[1]) > Number(seen.split('-')[1]))).toBe(true);
  });

  it('a resume older than the buffer, or from before a restart, gets a stream.gap first', async () => {
    await start({ bufferSize: 16 });
    const s = await sse();
    server.provision({ id: 'g-0', deviceClass: 'microcomputer' });
    await s.next((e) => e.kind === 'audit');
    const old = s.lastEventId;
    s.close();
    for (let i = 1; i <= 20; i++) server.provision({ id: `g-${i}`, deviceClass: 'microcomputer' });
    const r = await sse({ lastEventId: old });
    const gap = (await r.next((e) => e.kind === 'stream.gap')) as StreamEvent<'stream.gap'>;
    expect(r.events[0]).toBe(gap);
    expect(gap.data).toMatchObject({ reason: 'buffer', lastEventId: old, missed: 4 });
    // Then the 16 events the buffer holds, the newest last.
    await r.next((e) => e.kind === 'audit' && e.data.deviceId === 'g-20');
    expect(r.events).toHaveLength(17);
    expect(r.events[1]!.id).toBe(gap.data.oldestId);

    const last = r.lastEventId;
    await server.close();
    await start();
    const after = await sse({ lastEventId: last });
    const g2 = (await after.next((e) => e.kind === 'stream.gap')) as StreamEvent<'stream.gap'>;
    expect(g2.data.reason).toBe('restart');
    // The query form, for clients that cannot set headers.
    const q = await sse({ query: `?lastEventId=${encodeURIComponent(last)}` });
    expect(((await q.next((e) => e.kind === 'stream.gap')) as StreamEvent<'stream.gap'>).data.reason).toBe('restart');
  });

  it('closing the server ends the open streams', async () => {
    await start();
    const s = await sse();
    await server.close();
    await s.closed;
    expect(server.eventLog.subscribers).toBe(0);
  });
});
