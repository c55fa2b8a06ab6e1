import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { httpClient, type HttpAnswer } from './helpers/http-client.js';

// Issue 15, defects 6 and 7: client mistakes answered 500 (or were stored: a 60 MiB device name
// got 201). Each is now a 4xx with the typed error body { error: { code, reason, hint } }.
const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';

let dir: string;
let server: EparaServer;
let base: string;
let device: EparaDevice;
const { call } = httpClient(() => base, TOKEN);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-4xx-'));
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0 });
  await server.start();
  const port = (await server.listenTcp({ port: 0 })).port;
  base = `http://${server.httpAddress!.host}:${server.httpAddress!.port}`;
  const { key } = server.provision({ id: 'pi-1', deviceClass: 'microcomputer' });
  device = await EparaDevice.connect({ id: 'pi-1', key, deviceClass: 'microcomputer', dataDir: join(dir, 'dev'), connector: () => connectTcp({ host: '127.0.0.1', port }) });
  const [rec] = await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'] });
  expect(rec!.state).toBe('ready');
});
afterAll(async () => {
  await device?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function typed(r: HttpAnswer, status: number, code: string | RegExp): void {
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  expect(r.json?.error?.code).toMatch(code);
  expect(typeof r.json.error.reason).toBe('string');
  expect(typeof r.json.error.hint).toBe('string');
}

const f32 = (n: number): string => Buffer.from(new Float32Array(n).fill(0.5).buffer).toString('base64');

/** A raw request line, for paths fetch() would normalise or refuse to send. */
function raw(request: string): Promise<{ status: number; body: string }> {
  const { port } = server.httpAddress!;
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let text = '';
    s.on('data', (c) => {
      text += c.toString();
      const [head, body] = text.split('\r\n\r\n', 2);
      const len = /content-length: (\d+)/i.exec(head ?? '');
      if (body !== undefined && len && Buffer.byteLength(body) >= Number(len[1])) {
        s.destroy();
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), body });
      }
    });
    s.on('error', reject);
  });
}

describe('client mistakes get a typed 4xx, never 500 (defect 7)', () => {
  it('a null JSON body on POST /infer', async () => {
    typed(await call('POST', '/infer', 'null'), 400, /^http\.invalid_body$/);
  });

  it('a null JSON body on POST /deployments', async () => {
    typed(await call('POST', '/deployments', 'null'), 400, /^http\.invalid_body$/);
  });

  it('a null JSON body on POST /devices/:id/approve', async () => {
    typed(await call('POST', '/devices/pi-1/approve', 'null'), 400, /^http\.invalid_body$/);
  });

  it('a malformed percent-encoding in the path, with a token', async () => {
    const r = await raw(`GET /devices/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('http.bad_url');
  });

  it('a malformed percent-encoding in the path, without a token', async () => {
    const r = await raw(`GET /devices/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(JSON.parse(r.body).error.code).toMatch(/^http\./);
  });

  it('headers over 16 KiB get 431 with the typed body', async () => {
    const r = await raw(`GET /devices?to=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(431);
    expect(JSON.parse(r.body).error.code).toBe('http.headers_too_large');
  });

  it('/audit?limit=abc', async () => {
    typed(await call('GET', '/audit?limit=abc'), 400, 'http.invalid_query');
  });

  it('/audit?limit=1.5', async () => {
    const r = await call('GET', '/audit?limit=1.5');
    typed(r, 400, 'http.invalid_query');
    expect(r.json.error.field).toBe('limit');
  });

  it('a tensor whose data length does not match its shape', async () => {
    const r = await call('POST', '/infer', { service: 'mlp', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 16], data: f32(15) }] });
    typed(r, 400, 'config.tensor');
    expect(r.json.error.reason).toMatch(/64 bytes, but its data is 60 bytes/);
  });

  it('an oversize tensor (larger than a frame to the device)', async () => {
    const r = await call('POST', '/infer', { service: 'mlp', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 20_000], data: f32(20_000) }], deadlineMs: 5000 });
    typed(r, 413, 'infer.too_large');
  });

  it('PUT on a GET route is 405 with Allow', async () => {
    const r = await call('PUT', '/devices');
    typed(r, 405, 'http.method_not_allowed');
    expect(r.headers.get('allow')).toBe('GET, HEAD, POST');
    const one = await call('DELETE', '/devices/pi-1');
    typed(one, 405, 'http.method_not_allowed');
    expect(one.headers.get('allow')).toBe('GET, HEAD');
  });

  it('the method check comes after the token check: no route list for strangers', async () => {
    typed(await call('PUT', '/devices', undefined, null), 401, 'http.unauthorized');
  });
});

describe('every string and array that comes in over HTTP is bounded (defect 6)', () => {
  it('a 60 MiB device name is refused with 413 before it is read whole, and nothing is stored', async () => {
    const name = 'n'.repeat(60 * 2 ** 20);
    typed(await call('POST', '/devices', { id: 'big-name', deviceClass: 'mcu', name }), 413, 'http.too_large');
    expect(server.device('big-name')).toBeUndefined();
  });

  it('a name just over the limit is a 400 naming the field', async () => {
    const r = await call('POST', '/devices', { id: 'long-name', deviceClass: 'mcu', name: 'n'.repeat(129) });
    typed(r, 400, 'http.invalid_body');
    expect(r.json.error.field).toBe('name');
    expect(server.device('long-name')).toBeUndefined();
    expect((await call('POST', '/devices', { id: 'ok-name', deviceClass: 'mcu', name: 'n'.repeat(128) })).status).toBe(201);
  });

  it('service, version, ids and tensors are bounded too', async () => {
    const dep = { artifact: `sha256:${'a'.repeat(64)}`, service: 's', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'] };
    typed(await call('POST', '/deployments', { ...dep, service: 's'.repeat(65) }), 400, 'http.invalid_body');
    typed(await call('POST', '/deployments', { ...dep, version: 'v'.repeat(33) }), 400, 'http.invalid_body');
    typed(await call('POST', '/deployments', { ...dep, to: Array.from({ length: 10_001 }, (_, i) => `d${i}`) }), 400, 'http.invalid_body');
    typed(await call('POST', '/deployments', { ...dep, meta: { inputNames: Array.from({ length: 65 }, () => 'x') } }), 400, 'http.invalid_body');
    typed(await call('POST', '/devices', { id: 'x'.repeat(65), deviceClass: 'mcu' }), 400, 'http.invalid_body');
    typed(await call('POST', '/infer', { service: 'mlp', inputs: Array.from({ length: 65 }, () => ({ name: 'input', dtype: 'float32', shape: [1], data: f32(1) })) }), 400, 'http.invalid_body');
    typed(await call('POST', '/infer', { service: 'mlp', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data: f32(1) }] }), 400, 'config.tensor');
    typed(await call('GET', `/audit?event=${'e'.repeat(65)}`), 400, 'http.invalid_query');
  });
});

describe('the local API refuses the same mistakes with typed errors', () => {
  it('provision() bounds the name; auditLog() takes only a whole-number limit', () => {
    expect(() => server.provision({ id: 'big-local', deviceClass: 'mcu', name: 'n'.repeat(2 ** 20) })).toThrow(expect.objectContaining({ code: 'config.device_name' }));
    expect(() => server.provision({ id: 'ctl-local', deviceClass: 'mcu', name: 'a\u0007b' })).toThrow(expect.objectContaining({ code: 'config.device_name' }));
    expect(server.device('big-local')).toBeUndefined();
    expect(() => server.auditLog({ limit: Number.NaN })).toThrow(expect.objectContaining({ code: 'config.type' }));
    expect(() => server.auditLog({ limit: 1.5 })).toThrow(expect.objectContaining({ code: 'config.type' }));
    expect(server.auditLog({ limit: 1 })).toHaveLength(1);
  });
});
