import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { httpClient } from './helpers/http-client.js';
import { until } from './helpers/raw-device.js';

// Issue 15, defect 1: POST /deployments { artifactPath: '<dataDir>/master.key' } read the master
// key and sent it to a device. The HTTP API must never read a file by a client-given name.
const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';

let dir: string;
let dataDir: string;
let server: EparaServer;
let base: string;
let devicePort: number;
const devices: EparaDevice[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-nopath-'));
  dataDir = join(dir, 'srv');
  server = new EparaServer({ dataDir, http: { port: 0, token: TOKEN, maxArtifactBytes: 256 * 1024 }, rttProbeMs: 0 });
  await server.start();
  devicePort = (await server.listenTcp({ port: 0 })).port;
  base = `http://${server.httpAddress!.host}:${server.httpAddress!.port}`;
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const { call, upload } = httpClient(() => base, TOKEN);


async function connectDevice(id: string): Promise<EparaDevice> {
  const { key } = server.provision({ id, deviceClass: 'microcomputer' });
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port: devicePort }) });
  devices.push(d);
  return d;
}

const deployBody = { service: 'leak', version: '1', kind: 'blob', category: 'latency-single', to: ['dev-1'], timeoutMs: 5000 };

describe('the HTTP API never reads a file named by the client', () => {
  it('refuses artifactPath = <dataDir>/master.key with http.path_not_accepted and sends nothing to the device', async () => {
    await connectDevice('dev-1');
    const key = join(dataDir, 'master.key');
    expect(existsSync(key)).toBe(true);
    const r = await call('POST', '/deployments', { ...deployBody, artifactPath: key });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'http.path_not_accepted', field: 'artifactPath' });
    expect(r.json.error.hint).toMatch(/epara deploy/);
    expect(server.deployments()).toEqual([]);
    expect(server.auditLog({ event: 'deploy.offered' })).toEqual([]);
    // Nothing with the key's digest reached the store either.
    const keySha = createHash('sha256').update(readFileSync(key)).digest('hex');
    expect(existsSync(join(dataDir, 'artifacts', `${keySha}.bin`))).toBe(false);
  });

  it('refuses a path in `artifact` and any *path / file field, and the answer does not tell whether the file exists', async () => {
    await connectDevice('dev-1');
    const real = await call('POST', '/deployments', { ...deployBody, artifact: join(dataDir, 'registry.sqlite') });
    const missing = await call('POST', '/deployments', { ...deployBody, artifact: join(dataDir, 'no-such-file') });
    expect(real.status).toBe(400);
    expect(real.json.error.code).toBe('http.path_not_accepted');
    expect(missing.text).toBe(real.text);
    for (const field of ['path', 'file', 'modelPath', 'artifactFile']) {
      const r = await call('POST', '/deployments', { ...deployBody, [field]: join(dataDir, 'master.key') });
      expect(r.status, field).toBe(400);
      expect(r.json.error.code, field).toBe('http.path_not_accepted');
    }
    const inline = await call('POST', '/deployments', { ...deployBody, artifactBase64: MODEL.toString('base64') });
    expect(inline.status).toBe(400);
    expect(inline.json.error.code).toBe('http.inline_artifact_not_accepted');
    expect(server.deployments()).toEqual([]);
  });

  it('PUT /artifacts stores the streamed bytes content-addressed, and POST /deployments deploys them by digest', async () => {
    await connectDevice('dev-1');
    const up = await upload(MODEL);
    const sha = createHash('sha256').update(MODEL).digest('hex');
    expect(up.status).toBe(201);
    expect(up.json).toEqual({ artifact: `sha256:${sha}`, sha256: sha, size: MODEL.length });
    expect(readFileSync(join(dataDir, 'artifacts', `${sha}.bin`)).equals(MODEL)).toBe(true);
    const dep = await call('POST', '/deployments', { ...deployBody, service: 'mlp', kind: 'onnx', artifact: up.json.artifact });
    expect(dep.status).toBe(202);
    expect(dep.json[0]).toMatchObject({ state: 'ready', sha256: sha, size: MODEL.length });
    // The `sha256` field form is the same reference.
    const again = await call('POST', '/deployments', { ...deployBody, service: 'mlp2', kind: 'onnx', sha256: sha });
    expect(again.status).toBe(202);
    expect(again.json[0].sha256).toBe(sha);
  });

  it('an unknown digest is a typed 404 and an upload over the limit a typed 413 that leaves no file', async () => {
    await connectDevice('dev-1');
    const unknown = await call('POST', '/deployments', { ...deployBody, artifact: `sha256:${'ab'.repeat(32)}` });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('deploy.artifact_unknown');
    const big = await upload(new Uint8Array(300 * 1024).fill(7));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('http.too_large');
    expect(readdirSync(join(dataDir, 'artifacts'))).toEqual([]);
    const empty = await upload(new Uint8Array(0));
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('deploy.artifact_empty');
  });

  it('streams the upload to a temp file in the data dir while the body is still arriving', async () => {
    const part = new Uint8Array(64 * 1024).fill(1);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(base + '/artifacts', { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(part);
      const tmpGrew = (): boolean => readdirSync(join(dataDir, 'artifacts')).some((f) => f.endsWith('.tmp') && statSync(join(dataDir, 'artifacts', f)).size >= part.length);
      until(tmpGrew, 5000).then(
        () => req.end(part),
        (err: unknown) => {
          req.destroy();
          reject(err);
        },
      );
    });
    const r = await answer;
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body).size).toBe(2 * part.length);
    expect(readdirSync(join(dataDir, 'artifacts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the local API (server.deploy) keeps path and bytes access and takes the digest of an upload', async () => {
    await connectDevice('dev-1');
    const file = join(dir, 'model.onnx');
    (await import('node:fs')).writeFileSync(file, MODEL);
    const sha = createHash('sha256').update(MODEL).digest('hex');
    const byPath = await server.deploy({ ...deployBody, kind: 'onnx', service: 'p', artifact: file } as never);
    expect(byPath[0]).toMatchObject({ state: 'ready', sha256: sha, size: MODEL.length });
    const byDigest = await server.deploy({ ...deployBody, kind: 'onnx', service: 'd', artifact: { sha256: sha } } as never);
    expect(byDigest[0]).toMatchObject({ state: 'ready', sha256: sha });
    await expect(server.deploy({ ...deployBody, artifact: join(dir, 'missing') } as never)).rejects.toMatchObject({ code: 'deploy.artifact_missing' });
    await expect(server.deploy({ ...deployBody, artifact: { sha256: 'cd'.repeat(32) } } as never)).rejects.toMatchObject({ code: 'deploy.artifact_unknown' });
  });
});
