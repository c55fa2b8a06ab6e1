import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epara, sandbox, until, type RunResult, type Sandbox } from './helpers.js';

type Err = { error: { code: string; reason: string; hint: string } };

// Issue 21, defect 6: `--server 127.0.0.1:34451` (no scheme) said no server answers though one
// did, and `--server http://127.0.0.1:7878` (the device port) said the same, with no hint.
let sb: Sandbox;
let stop: AbortController;
let serve: Promise<RunResult>;
let rt: { http: string; links: string[] };
let token: string;

beforeAll(async () => {
  sb = sandbox({ fakeTools: false });
  stop = new AbortController();
  serve = epara(['--data-dir', sb.dataDir, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0'], { env: sb.env, signal: stop.signal });
  await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
  rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8'));
  token = readFileSync(join(sb.dataDir, 'http-token'), 'utf8').trim();
});

afterAll(async () => {
  stop.abort();
  await serve;
  sb.cleanup();
});

describe('--server as people type it', () => {
  it('host:port without a scheme is the HTTP API at http://host:port', async () => {
    const other = sandbox({ fakeTools: false });
    try {
      const r = await epara(['--data-dir', other.dataDir, 'devices', '--server', rt.http.replace('http://', ''), '--token', token, '--json'], { env: other.env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.json()).toEqual([]);
    } finally {
      other.cleanup();
    }
  });

  it('the device port of the local server is named as such, with its HTTP API, at once', async () => {
    const device = rt.links[0]!.replace(/^tcp /, '');
    const t0 = Date.now();
    const r = await epara(['--data-dir', sb.dataDir, 'deployments', '--server', `http://${device}`, '--json'], { env: sb.env });
    expect(Date.now() - t0).toBeLessThan(5000); // not after the device handshake timeout
    expect(r.code).toBe(1);
    const e = r.json<Err>().error;
    expect(e.code).toBe('cli.server_device_port');
    expect(e.reason).toContain(`device port of the epara serve running for this data dir (tcp ${device})`);
    expect(e.hint).toContain(`--server ${rt.http}`);
  });

  it('a port that accepts but answers no HTTP says so; a closed port says nothing listens; a non-http scheme is a usage error', async () => {
    const silent = createServer((s) => s.destroy());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const r = await epara(['--data-dir', sb.dataDir, 'deployments', '--server', `127.0.0.1:${port}`, '--token', token, '--json'], { env: sb.env });
      const e = r.json<Err>().error;
      expect(e.code).toBe('cli.server_not_http');
      expect(e.hint).toMatch(/device port .*http api:/);
    } finally {
      await new Promise((r) => silent.close(r));
    }
    const closed = await epara(['--data-dir', sb.dataDir, 'deployments', '--server', `http://127.0.0.1:${port}`, '--token', token, '--json'], { env: sb.env });
    expect(closed.json<Err>().error).toMatchObject({ code: 'cli.server_unreachable', reason: `no epara server answers at http://127.0.0.1:${port}/ (ECONNREFUSED)` });
    const ftp = await epara(['--data-dir', sb.dataDir, 'deployments', '--server', 'ftp://127.0.0.1:21', '--json'], { env: sb.env });
    expect(ftp.code).toBe(2);
    expect(ftp.json<Err>().error.code).toBe('cli.usage');
  });
});
