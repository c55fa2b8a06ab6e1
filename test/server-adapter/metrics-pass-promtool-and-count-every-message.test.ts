/**
 * GET /metrics of a live server (real TCP devices, real HTTP with the bearer token) is what a
 * Prometheus scrape sees: Debian's `promtool check metrics` accepts it (it refused
 * epara_link_retries_total, a gauge ending in _total), the process metrics are there, each
 * registered device has an up and a last-seen series, and every message type is counted in both
 * directions, responses included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { MessageType, tensorFrom } from '../../src/protocol/index.js';
import { connectTcp } from '../../src/transport/tcp.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const havePromtool = promtool.status === 0;
if (!havePromtool) console.warn('promtool check skipped: promtool is not installed (Debian package prometheus; .ci/run installs it)');

let dir: string;
let server: EparaServer;
let device: EparaDevice;
let text: string;
let unauthorized: number;
const startedAt = Date.now();

function sample(name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-metrics-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0, periods: { stateSyncMs: 200, heartbeatMs: 300 } });
  await server.start();
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  const { key } = server.provision({ id: 'pi-up', deviceClass: 'microcomputer' });
  server.provision({ id: 'pi-never', deviceClass: 'microcomputer' });
  device = await EparaDevice.connect({ connector: () => connectTcp({ host: '127.0.0.1', port }), id: 'pi-up', key, deviceClass: 'microcomputer', dataDir: join(dir, 'dev'), keepaliveMs: 200 });
  device.registerHandler('echo', async (inputs) => inputs.map((t) => ({ ...t, name: 'out' })));
  const until = Date.now() + 10_000;
  while (server.candidates('echo').length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await server.infer('echo', [tensorFrom('x', Float32Array.of(1, 2, 3))], { deadlineMs: 5000 });
  // A heartbeat round trip after the infer, so HEARTBEAT_ACK has surely gone out.
  await new Promise((r) => setTimeout(r, 700));
  const a = server.httpAddress!;
  const url = `http://${a.host}:${a.port}/metrics`;
  unauthorized = (await fetch(url)).status;
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  text = await res.text();
}, 30_000);

afterAll(async () => {
  await device?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it.skipIf(!havePromtool)('passes promtool check metrics (Debian prometheus)', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!havePromtool)('the scrape config in docs/server.md is valid for Prometheus (promtool check config)', () => {
    const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n(scrape_configs:[\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml, 'docs/server.md has a scrape_configs block').toBeDefined();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN);
    expect(yaml).toMatch(/type: Bearer/);
    const cfg = join(dir, 'prometheus.yml');
    writeFileSync(cfg, yaml!.replace(/credentials_file: \S+/, `credentials_file: ${tokenFile}`));
    const r = spawnSync('promtool', ['check', 'config', cfg], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('needs the bearer token', () => {
    expect(unauthorized).toBe(401);
  });

  it('counts link retries as a counter', () => {
    expect(text).toContain('# TYPE epara_link_retries_total counter');
    expect(sample('epara_link_retries_total', '')).toBeGreaterThanOrEqual(0);
  });

  it('carries the default process metrics', () => {
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text, name).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });

  it('has an up and a last-seen gauge per registered device', () => {
    expect(sample('epara_device_up', 'device="pi-up"')).toBe(1);
    expect(sample('epara_device_up', 'device="pi-never"')).toBe(0);
    const seen = sample('epara_device_last_seen_timestamp_seconds', 'device="pi-up"')!;
    expect(seen * 1000).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(seen * 1000).toBeLessThanOrEqual(Date.now() + 1000);
    // Never connected: no last-seen time to report.
    expect(sample('epara_device_last_seen_timestamp_seconds', 'device="pi-never"')).toBeUndefined();
  });

  it('counts every message type in both directions, responses included', () => {
    for (const direction of ['in', 'out']) {
      for (const type of Object.keys(MessageType)) expect(sample('epara_messages_total', `direction="${direction}",type="${type}"`), `${direction} ${type}`).toBeGreaterThanOrEqual(0);
    }
    // The handshake, liveness and one inference, each request with its answer.
    for (const [direction, type] of [['in', 'HELLO'], ['out', 'CHALLENGE'], ['in', 'AUTH'], ['out', 'WELCOME'], ['in', 'HEARTBEAT'], ['out', 'HEARTBEAT_ACK'], ['in', 'STATE'], ['out', 'INFER_REQUEST'], ['in', 'INFER_RESPONSE']]) {
      expect(sample('epara_messages_total', `direction="${direction}",type="${type}"`), `${direction} ${type}`).toBeGreaterThanOrEqual(1);
    }
    expect(sample('epara_messages_total', 'direction="out",type="INFER_REQUEST"')).toBe(1);
  });
});
