import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaServer } from '../../src/server-adapter/server.js';

// Issue 20 §2: the console logs in with the API token and is kept logged in by an HttpOnly,
// SameSite=Strict cookie the HTTP API accepts like the bearer token; a wrong token is refused and audited.
const TOKEN = 'console-token-0123456789abcdef';
let dir: string;
let server: EparaServer;
let base: string;

async function start(): Promise<void> {
  server = new EparaServer({ dataDir: join(dir, 'srv'), http: { port: 0, token: TOKEN }, rttProbeMs: 0 });
  await server.start();
  const a = server.httpAddress!;
  base = `http://${a.host}:${a.port}`;
}
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-session-'));
  await start();
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const login = (token: string) => fetch(`${base}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

describe('console session cookie', () => {
  it('a wrong token is refused (401) and audited; no cookie is set', async () => {
    const r = await login('not-the-token-at-all-000');
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('http.unauthorized');
    const audit = await fetch(`${base}/audit`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const rows = (await audit.json()) as Array<{ event: string; detail?: string }>;
    expect(rows.some((x) => x.event === 'http.unauthorized' && /POST \/session: a wrong token/.test(x.detail ?? ''))).toBe(true);
  });

  it('the right token gives an HttpOnly SameSite=Strict cookie that is not the token and opens the API', async () => {
    expect((await fetch(`${base}/devices`)).status).toBe(401);
    const r = await login(TOKEN);
    expect(r.status).toBe(204);
    const set = r.headers.get('set-cookie')!;
    expect(set).toMatch(/^epara_session=v1\./);
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).not.toContain(TOKEN);
    const cookie = set.split(';', 1)[0]!;
    expect((await fetch(`${base}/devices`, { headers: { cookie } })).status).toBe(200);
    // A tampered cookie is refused.
    expect((await fetch(`${base}/devices`, { headers: { cookie: cookie.slice(0, -2) + 'AA' } })).status).toBe(401);
    // Another site's page cannot change things with it (Origin differs).
    const cross = await fetch(`${base}/devices`, { method: 'POST', headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x-1', class: 'microcomputer' }) });
    expect(cross.status).toBe(401);
    // After a restart with the same token the session still works (the console's event stream resumes).
    await server.close();
    await start();
    expect((await fetch(`${base}/devices`, { headers: { cookie } })).status).toBe(200);
    // Logging out clears the cookie.
    const out = await fetch(`${base}/session`, { method: 'DELETE' });
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });
});
