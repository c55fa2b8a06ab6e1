import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { MqttBridge, type BridgeStatus } from '../../src/server-adapter/mqtt/mqtt-bridge.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { freePort, haveMosquitto, mosquittoMissing, mosquittoRr, mosquittoSub, startMosquitto, type Broker, type Subscriber } from './helpers/mosquitto.js';
import { haveOpenssl, makeTestPki } from '../transport/helpers/certs.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));

let dir: string;
let server: EparaServer;
let devicePort: number;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const json = (s: string) => JSON.parse(s) as Record<string, any>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-mqtt-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0, periods: { stateSyncMs: 100, heartbeatMs: 100 }, leaseMs: 600, events: { stateEveryMs: 0 } });
  await server.start();
  devicePort = (await server.listenTcp({ port: 0 })).port;
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function broker(o: Parameters<typeof startMosquitto>[0] = {}): Promise<Broker> {
  const b = await startMosquitto(o);
  cleanups.push(() => b.cleanup());
  return b;
}
function sub(port: number, topics: string[], extra: string[] = []): Subscriber {
  const s = mosquittoSub(port, topics, extra);
  cleanups.push(() => s.stop());
  return s;
}
async function bridge(o: Parameters<typeof MqttBridge.start>[1], statuses: BridgeStatus[] = []): Promise<MqttBridge> {
  const b = await MqttBridge.start(server, o);
  b.on('status', (s) => statuses.push(s));
  cleanups.push(() => b.close());
  return b;
}
async function device(id: string): Promise<EparaDevice> {
  const { key } = server.provision({ id, deviceClass: 'microcomputer' });
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port: devicePort }) });
  cleanups.push(() => d.close().catch(() => undefined));
  return d;
}

describe.skipIf(!haveMosquitto)(`MQTT bridge against a real mosquitto${haveMosquitto ? '' : ` (skipped: ${mosquittoMissing})`}`, () => {
  it('mosquitto_sub -t epara/# -v shows availability and state as a fleet connects, and Home Assistant discovery', async () => {
    const b = await broker();
    const s = sub(b.port, ['epara/#', 'homeassistant/#']);
    const br = await bridge({ url: `mqtt://127.0.0.1:${b.port}` });
    expect(br.connected).toBe(true);
    await s.next((t, p) => t === 'epara/bridge/state' && p === 'online');
    const d1 = await device('pi-1');
    await device('pi-2');
    for (const id of ['pi-1', 'pi-2']) {
      await s.next((t, p) => t === `epara/${id}/availability` && p === 'online');
      const st = await s.next((t, p) => t === `epara/${id}/state` && json(p).load !== undefined);
      expect(json(st.payload)).toMatchObject({ status: expect.stringMatching(/registered|active/), deviceClass: 'microcomputer', services: [] });
      const cfg = json((await s.next((t) => t === `homeassistant/sensor/epara_${id}/status/config`)).payload);
      expect(cfg).toMatchObject({ unique_id: `epara_${id}_status`, state_topic: `epara/${id}/state`, value_template: '{{ value_json.status }}', availability_mode: 'all', device: { identifiers: [`epara_${id}`], model: 'microcomputer' } });
      expect(cfg.availability).toEqual([{ topic: 'epara/bridge/state' }, { topic: `epara/${id}/availability` }]);
    }
    // A device that goes away is offline (zigbee2mqtt's availability payloads).
    await d1.close();
    await s.next((t, p) => t === 'epara/pi-1/availability' && p === 'offline');
    await s.next((t, p) => t === 'epara/pi-1/state' && ['degraded', 'left', 'lost'].includes(json(p).status));

    // Retained: a subscriber that comes later is told at once, with the retain flag.
    const retainedOnly = sub(b.port, ['epara/+/availability'], ['--retained-only']);
    await retainedOnly.next((t, p) => t === 'epara/pi-2/availability' && p === 'online');
    await retainedOnly.next((t, p) => t === 'epara/pi-1/availability' && p === 'offline');

    // Closing the bridge says offline on its own topic (retained), so Home Assistant greys the devices.
    await br.close();
    await s.next((t, p) => t === 'epara/bridge/state' && p === 'offline');
  });

  it('publishes deployment events and answers MQTT 5 inference requests with response topic and correlation data', async () => {
    const b = await broker();
    const s = sub(b.port, ['epara/#']);
    const s2 = sub(b.port, ['site-a/epara/+/deployment']);
    await bridge({ url: `mqtt://127.0.0.1:${b.port}`, prefix: 'site-a/epara' });
    await device('pi-d');
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-d'] });
    // The prefix is honoured; results come as events on the device's deployment topic.
    const r = json((await s2.next((t, p) => t === 'site-a/epara/pi-d/deployment' && json(p).event === 'deployment.result')).payload);
    expect(r).toMatchObject({ event: 'deployment.result', deviceId: 'pi-d', service: 'mlp', state: 'ready', size: MODEL.length });
    expect(s2.lines.some((l) => l.includes('"deployment.progress"'))).toBe(true);
    expect(s.lines).toEqual([]);

    // mosquitto_rr sends MQTT 5 with a response topic and correlation data and waits for the answer.
    const x = Buffer.from(new Float32Array(16).fill(0.5).buffer).toString('base64');
    const ok = await mosquittoRr(b.port, 'site-a/epara/infer/mlp/request', 'replies/me', JSON.stringify({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: x }], deadlineMs: 5000 }));
    expect(ok.code, ok.stderr).toBe(0);
    const ans = json(ok.stdout);
    expect(ans.deviceId).toBe('pi-d');
    expect(ans.outputs.map((o: { name: string }) => o.name)).toContain('class');
    const badShape = json((await mosquittoRr(b.port, 'site-a/epara/infer/mlp/request', 'replies/me', JSON.stringify({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 3], data: x }] }))).stdout);
    expect(badShape.error).toMatchObject({ code: 'config.tensor' });
    expect(json((await mosquittoRr(b.port, 'site-a/epara/infer/mlp/request', 'replies/me', 'not json')).stdout).error.code).toBe('mqtt.bad_request');
    // The correlation data comes back as sent, on the response topic the request named (MQTT 5).
    const c = await mqtt.connectAsync({ host: '127.0.0.1', port: b.port, protocolVersion: 5 });
    cleanups.push(() => c.endAsync());
    await c.subscribeAsync('answers/+', { qos: 1 });
    const got = new Promise<{ topic: string; body: Record<string, any>; corr?: Buffer }>((r) => c.on('message', (topic, payload, packet) => r({ topic, body: json(payload.toString()), corr: packet.properties?.correlationData })));
    await c.publishAsync('site-a/epara/infer/mlp/request', JSON.stringify({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: x }] }), { qos: 1, properties: { responseTopic: 'answers/c1', correlationData: Buffer.from([1, 2, 3, 250]) } });
    const g = await got;
    expect(g.topic).toBe('answers/c1');
    expect([...(g.corr ?? [])]).toEqual([1, 2, 3, 250]);
    expect(g.body.deviceId).toBe('pi-d');
    // Without a response topic (an MQTT 3.1.1 client) the answer goes to <prefix>/infer/<service>/response with the request's id.
    const v3 = await mqtt.connectAsync({ host: '127.0.0.1', port: b.port, protocolVersion: 4 });
    cleanups.push(() => v3.endAsync());
    await v3.subscribeAsync('site-a/epara/infer/mlp/response', { qos: 1 });
    const got3 = new Promise<Record<string, any>>((r) => v3.on('message', (_t, payload) => r(json(payload.toString()))));
    await v3.publishAsync('site-a/epara/infer/mlp/request', JSON.stringify({ id: 'r-7', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: x }] }), { qos: 1 });
    expect(await got3).toMatchObject({ id: 'r-7', deviceId: 'pi-d' });
    expect(json((await mosquittoRr(b.port, 'site-a/epara/infer/nope/request', 'replies/me', JSON.stringify({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: x }] }))).stdout).error.code).toMatch(/^infer\./);
  });

  it('keeps serving while the broker is down, says why with a hint, and publishes everything once it is up', async () => {
    const port = await freePort();
    const statuses: BridgeStatus[] = [];
    const br = await MqttBridge.start(server, { url: `mqtt://127.0.0.1:${port}`, reconnectMs: 200, connectTimeoutMs: 1000 });
    br.on('status', (x) => statuses.push(x));
    cleanups.push(() => br.close());
    expect(br.connected).toBe(false);
    // The gateway works on without it.
    await device('pi-x');
    expect(server.device('pi-x')?.state).toMatch(/registered|active/);
    // It backs off while the broker stays away: 200, 400, 800 ms, …
    const until = Date.now() + 10_000;
    while (br.nextRetryMs < 1600 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(br.nextRetryMs).toBe(1600);
    expect(statuses.filter((x) => x.kind === 'error')).toHaveLength(0); // said once, before our listener: lastError
    expect(br.lastError?.code).toBe('mqtt.unreachable');
    const b = await broker({ port });
    const s = sub(b.port, ['epara/#']);
    await s.next((t, p) => t === 'epara/pi-x/availability' && p === 'online');
    await s.next((t, p) => t === 'epara/bridge/state' && p === 'online');
    expect(statuses.some((x) => x.kind === 'connected')).toBe(true);
    expect(br.nextRetryMs).toBe(200); // back to the first pause once connected
    // A broker restart (retained messages lost: no persistence) is healed by the reconnect.
    await b.stop();
    await b.start();
    const again = sub(b.port, ['epara/pi-x/availability']);
    await again.next((_, p) => p === 'online');
  });

  it("EparaServer's mqtt option runs the bridge; closing the server says the bridge and its devices are offline, and the bridge is in Home Assistant", async () => {
    const b = await broker();
    const s = sub(b.port, ['epara/#', 'homeassistant/binary_sensor/#']);
    const own = new EparaServer({ dataDir: join(dir, 'own'), rttProbeMs: 0, mqtt: { url: `mqtt://127.0.0.1:${b.port}` } });
    await own.start();
    expect(own.mqtt?.connected).toBe(true);
    const port = (await own.listenTcp({ port: 0 })).port;
    const { key } = own.provision({ id: 'pi-o', deviceClass: 'microcomputer' });
    const d = await EparaDevice.connect({ id: 'pi-o', key, deviceClass: 'microcomputer', dataDir: join(dir, 'pi-o'), connector: () => connectTcp({ host: '127.0.0.1', port }) });
    cleanups.push(() => d.close().catch(() => undefined));
    await s.next((t, p) => t === 'epara/pi-o/availability' && p === 'online');
    const bridgeCfg = json((await s.next((t) => t === 'homeassistant/binary_sensor/epara_bridge_epara/connection_state/config')).payload);
    expect(bridgeCfg).toMatchObject({ state_topic: 'epara/bridge/state', payload_on: 'online', payload_off: 'offline', device_class: 'connectivity', device: { identifiers: ['epara_bridge_epara'] } });
    await own.close({ drainMs: 0 });
    await s.next((t, p) => t === 'epara/pi-o/availability' && p === 'offline');
    await s.next((t, p) => t === 'epara/bridge/state' && p === 'offline');
    // A bad URL is refused when the server is made, before anything opens.
    expect(() => new EparaServer({ dataDir: join(dir, 'bad'), mqtt: { url: 'http://x' } })).toThrow(expect.objectContaining({ code: 'config.mqtt_url' }));
  });

  it('requests over maxRequestBytes: mqtt.too_large, and the broker keeps far bigger ones from the bridge (MQTT 5 maximum packet size)', async () => {
    const b = await broker();
    await bridge({ url: `mqtt://127.0.0.1:${b.port}`, maxRequestBytes: 1024 });
    const big = JSON.stringify({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: 'A'.repeat(2000) }] });
    const r = await mosquittoRr(b.port, 'epara/infer/mlp/request', 'replies/me', big);
    expect(json(r.stdout).error).toMatchObject({ code: 'mqtt.too_large', hint: expect.stringContaining('maxRequestBytes') });
    // 100 KB is over the packet size the bridge told the broker: dropped there, never answered.
    const huge = await mosquittoRr(b.port, 'epara/infer/mlp/request', 'replies/me', 'x'.repeat(100_000), 2);
    expect(huge.stdout).toBe('');
    // And the bridge answers the next one.
    expect(json((await mosquittoRr(b.port, 'epara/infer/mlp/request', 'replies/me', '{}')).stdout).error.code).toBe('mqtt.bad_request');
  });

  it('the first failure names its cause: unreachable, refused login', async () => {
    const port = await freePort();
    const down = await bridge({ url: `mqtt://127.0.0.1:${port}`, reconnectMs: 5000 });
    expect(down.connected).toBe(false);
    expect(down.lastError).toMatchObject({ code: 'mqtt.unreachable', hint: expect.stringContaining('keeps serving') });
    expect(down.lastError?.reason).toContain(`mqtt://127.0.0.1:${port}`);
    const b = await broker({ users: { gw: 's3cret-pass' } });
    const anon = await bridge({ url: `mqtt://127.0.0.1:${b.port}`, reconnectMs: 5000 });
    expect(anon.lastError).toMatchObject({ code: 'mqtt.auth', hint: expect.stringContaining('user:password@') });
    const wrong = await bridge({ url: `mqtt://gw:wrong@127.0.0.1:${b.port}`, reconnectMs: 5000 });
    expect(wrong.connected).toBe(false);
    expect(wrong.lastError?.code).toBe('mqtt.auth');
    // The password is never in what the bridge shows.
    expect(JSON.stringify(wrong.lastError?.toJSON())).not.toContain('wrong');
    const right = await bridge({ url: `mqtt://gw:s3cret-pass@127.0.0.1:${b.port}` });
    expect(right.connected).toBe(true);
    expect(right.broker).toBe(`mqtt://gw@127.0.0.1:${b.port}`);
  });
});

describe.skipIf(!haveMosquitto || !haveOpenssl)(`MQTT bridge over TLS${haveMosquitto && haveOpenssl ? '' : ` (skipped: ${mosquittoMissing || 'openssl is missing'})`}`, () => {
  it('connects to mqtts:// when given the CA, and says mqtt.tls without it', async () => {
    const pki = makeTestPki();
    cleanups.push(() => pki.cleanup());
    const b = await broker({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    const ok = await bridge({ url: `mqtts://127.0.0.1:${b.port}`, ca: pki.ca });
    expect(ok.connected).toBe(true);
    const s = sub(b.port, ['epara/bridge/state'], ['--cafile', join(b.dir, 'ca.crt')]);
    await s.next((_, p) => p === 'online');
    const no = await bridge({ url: `mqtts://127.0.0.1:${b.port}`, reconnectMs: 5000 });
    expect(no.connected).toBe(false);
    expect(no.lastError).toMatchObject({ code: 'mqtt.tls', hint: expect.stringContaining('--mqtt-ca') });
    const rogue = await bridge({ url: `mqtts://127.0.0.1:${b.port}`, ca: pki.rogueCa, reconnectMs: 5000 });
    expect(rogue.lastError?.code).toBe('mqtt.tls');
  });
});

describe('MQTT bridge options are checked before anything connects', () => {
  it('bad URLs and prefixes are typed errors with a hint', async () => {
    for (const [url, code] of [
      ['', 'config.mqtt_url'],
      ['localhost:1883', 'config.mqtt_url'],
      ['http://127.0.0.1:1883', 'config.mqtt_url'],
      ['mqtt://', 'config.mqtt_url'],
      ['mqtt://h:1883/topic', 'config.mqtt_url'],
      ['mqtt://h:99999', 'config.mqtt_url'],
    ] as const) {
      await expect(MqttBridge.start(server, { url }), url).rejects.toMatchObject({ code, hint: expect.stringMatching(/--mqtt/) });
    }
    for (const prefix of ['', 'a/#', '+', '/epara', 'epara/', 'a//b']) {
      await expect(MqttBridge.start(server, { url: 'mqtt://127.0.0.1:1', prefix }), prefix).rejects.toMatchObject({ code: 'config.mqtt_prefix' });
    }
    await expect(MqttBridge.start(server, { url: 'mqtt://127.0.0.1:1', ca: 'x' })).rejects.toMatchObject({ code: 'config.mqtt_url', field: 'mqtt.ca' });
    await expect(MqttBridge.start(server, { url: 'mqtt://127.0.0.1:1', reconnectMs: 1 })).rejects.toMatchObject({ code: 'config.range' });
    // A password in a bad URL is not echoed.
    await expect(MqttBridge.start(server, { url: 'mqtt://u:hunter2@h/x' })).rejects.toSatisfy((e: Error) => !e.message.includes('hunter2'));
  });
});
