import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaServer } from '../../src/server-adapter/server.js';
import { httpClient } from './helpers/http-client.js';
import { until } from './helpers/raw-device.js';

// Issue 15, defect 8 (HTTP side): connections that never finished their headers stayed open past
// 20 s. Header, request and keep-alive timeouts are options with ranges and defaults.
const TOKEN = 'test-token-0123456789abcdef';
let dir: string;
let server: EparaServer;
let base: string;
const { call } = httpClient(() => base, TOKEN);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-http-timeouts-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN, headersTimeoutMs: 300, requestTimeoutMs: 1000, keepAliveTimeoutMs: 200 }, rttProbeMs: 0 });
  await server.start();
  base = `http://${server.httpAddress!.host}:${server.httpAddress!.port}`;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a raw connection; `closed` resolves when the server ends it (rejects after 8 s). */
function open(): Promise<{ s: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const s = connect(server.httpAddress!.port, '127.0.0.1');
    let got = '';
    s.on('data', (c) => (got += c.toString()));
    const closed = new Promise<string>((res, rej) => {
      const t = setTimeout(() => {
        s.destroy();
        rej(new Error(`the server kept the connection open; it sent ${JSON.stringify(got.slice(0, 80))}`));
      }, 8000);
      s.on('close', () => {
        clearTimeout(t);
        res(got);
      });
    });
    s.once('connect', () => resolve({ s, closed }));
    s.once('error', reject);
  });
}

describe('HTTP connections are bounded in time', () => {
  it('closes a connection that never finishes its headers', async () => {
    const { s, closed } = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const got = await closed;
    expect(got === '' || got.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes a slowloris connection that keeps sending header lines', async () => {
    const { s, closed } = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.writable && s.write(`X-Drip-${Date.now()}: 1\r\n`), 50);
    try {
      await closed;
    } finally {
      clearInterval(drip);
    }
  });

  it('closes an idle keep-alive connection', async () => {
    const { s, closed } = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const got = await closed;
    expect(got).toMatch(/^HTTP\/1\.1 200/);
  });

  it('ends an upload whose body stops arriving, and leaves no temp file', async () => {
    const { s, closed } = await open();
    s.write(`PUT /artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`);
    s.write(Buffer.alloc(1000, 1));
    await closed;
    const artifacts = join(dir, 'srv', 'artifacts');
    await until(() => readdirSync(artifacts).length === 0, 5000);
  });

  it('validates the timeout options', async () => {
    const at = (http: Record<string, number>) => new EparaServer({ dataDir: join(dir, `o${Math.random()}`), http: { port: 0, token: TOKEN, ...http } });
    for (const [http, field] of [
      [{ headersTimeoutMs: 50 }, 'http.headersTimeoutMs'],
      [{ keepAliveTimeoutMs: 10 ** 9 }, 'http.keepAliveTimeoutMs'],
      [{ requestTimeoutMs: 2000, headersTimeoutMs: 5000 }, 'http.requestTimeoutMs'],
    ] as const) {
      const s = at(http);
      await expect(s.start()).rejects.toMatchObject({ code: 'config.range', field });
      await s.close();
    }
  });
});

describe('HTTP auth refusals', () => {
  it('are answered 401 and audited with the remote address, missing and wrong tokens told apart', async () => {
    expect((await call('GET', '/devices', undefined, null)).status).toBe(401);
    expect((await call('GET', '/audit', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    await until(() => server.auditLog({ event: 'http.unauthorized' }).length >= 2, 5000);
    const rows = server.auditLog({ event: 'http.unauthorized' });
    expect(rows.map((r) => r.detail)).toEqual(expect.arrayContaining(['GET /devices: no bearer token', 'GET /audit: a wrong bearer token']));
    expect(rows.every((r) => r.remote === '127.0.0.1')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('wrong-token-wrong-token');
  });
});
