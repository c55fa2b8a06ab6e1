import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epara, sandbox, until, type RunResult, type Sandbox } from './helpers.js';

type Err = { error: { code: string; reason: string; hint: string } };

// Issue 21, "Getting started": named connection profiles, as `mcumgr conn add`.
let gw: Sandbox;
let op: Sandbox;
let stop: AbortController;
let serve: Promise<RunResult>;
let http: string;
let tokenFile: string;

beforeAll(async () => {
  gw = sandbox({ fakeTools: false });
  stop = new AbortController();
  serve = epara(['--data-dir', gw.dataDir, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0'], { env: gw.env, signal: stop.signal });
  await until('serve.json', () => (existsSync(join(gw.dataDir, 'serve.json')) ? true : undefined));
  http = (JSON.parse(readFileSync(join(gw.dataDir, 'serve.json'), 'utf8')) as { http: string }).http;
  // The operator's machine: another home, no data dir of its own, the token copied over.
  op = sandbox({ fakeTools: false });
  tokenFile = join(op.root, 'lab.token');
  copyFileSync(join(gw.dataDir, 'http-token'), tokenFile);
});

afterAll(async () => {
  stop.abort();
  await serve;
  gw.cleanup();
  op.cleanup();
});

describe('epara profile', () => {
  it('add stores the URL and the token file path (never the token) in ~/.config/epara/profiles.json, 0600', async () => {
    const r = await epara(['profile', 'add', 'lab', '--server', http.replace('http://', ''), '--token-file', tokenFile, '--json'], { env: op.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(op.env.HOME!, '.config', 'epara', 'profiles.json');
    expect(r.json()).toEqual({ name: 'lab', server: `${http}/`, tokenFile, file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(readFileSync(tokenFile, 'utf8').trim());
    expect(JSON.parse(stored)).toEqual({ lab: { server: `${http}/`, tokenFile } });
    const ls = await epara(['profile', 'ls', '--json'], { env: op.env });
    expect(ls.json()).toEqual([{ name: 'lab', server: `${http}/`, tokenFile }]);
  });

  it('--profile NAME on any command talks to that server (and EPARA_PROFILE does the same)', async () => {
    const dd = ['--data-dir', join(op.root, 'no-such-data-dir')];
    const reg = await epara([...dd, 'register', 'pi-lab', '--class', 'microcomputer', '--profile', 'lab', '--json'], { env: op.env });
    expect(reg.code).toBe(0);
    expect(reg.json<{ via: string }>().via).toBe('server');
    const before = await epara([...dd, '--profile', 'lab', 'devices', '--json'], { env: op.env });
    expect(before.json<Array<{ id: string }>>().map((d) => d.id)).toEqual(['pi-lab']);
    const viaEnv = await epara([...dd, 'deployments', '--json'], { env: { ...op.env, EPARA_PROFILE: 'lab' } });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.json()).toEqual([]);
    // Nothing was created where the operator's own data dir would be.
    expect(existsSync(join(op.root, 'no-such-data-dir'))).toBe(false);
  });

  it('an unknown profile, a device-class name, a missing token file and a duplicate are typed errors', async () => {
    const unknown = await epara(['devices', '--profile', 'prod', '--json'], { env: op.env });
    expect(unknown.code).toBe(1);
    expect(unknown.json<Err>().error).toMatchObject({ code: 'cli.unknown_profile', reason: expect.stringContaining('(there are: lab)') });
    expect(unknown.json<Err>().error.hint).toContain('epara profile add prod');
    const reserved = await epara(['profile', 'add', 'mcu', '--server', http, '--token-file', tokenFile, '--json'], { env: op.env });
    expect(reserved.code).toBe(2);
    expect(reserved.json<Err>().error.hint).toContain('epara fleet --profile mcu');
    const noToken = await epara(['profile', 'add', 'lab2', '--server', http, '--token-file', join(op.root, 'missing.token'), '--json'], { env: op.env });
    expect(noToken.json<Err>().error).toMatchObject({ code: 'cli.profile_token', reason: expect.stringContaining('ENOENT') });
    const dup = await epara(['profile', 'add', 'lab', '--server', http, '--token-file', tokenFile, '--json'], { env: op.env });
    expect(dup.json<Err>().error.code).toBe('cli.profile_exists');
    expect((await epara(['profile', 'add', 'lab', '--server', http, '--token-file', tokenFile, '--force'], { env: op.env })).code).toBe(0);
  });

  it('rm removes it; the token file stays', async () => {
    expect((await epara(['profile', 'rm', 'lab'], { env: op.env })).code).toBe(0);
    expect((await epara(['profile', 'ls', '--json'], { env: op.env })).json()).toEqual([]);
    expect(existsSync(tokenFile)).toBe(true);
    expect((await epara(['profile', 'rm', 'lab', '--json'], { env: op.env })).json<Err>().error.code).toBe('cli.unknown_profile');
  });
});
