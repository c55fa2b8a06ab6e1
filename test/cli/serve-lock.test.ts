import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epara, repoRoot, sandbox, until, type Sandbox } from './helpers.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

type Err = { error: { code: string; reason: string; hint: string } };

// Issue 21, defect 2: a second `epara serve` on the same data dir started, overwrote serve.json
// and removed it on exit while the first still had its devices.
describe('one epara serve per data dir', () => {
  it('a second server on the same data dir is refused, naming the running one; the first keeps serving', async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    const stop = new AbortController();
    const first = epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0'], { env: sb.env, signal: stop.signal });
    try {
      await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
      const runtime = readFileSync(join(sb.dataDir, 'serve.json'), 'utf8');
      const { http } = JSON.parse(runtime) as { http: string };
      const second = await epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--json'], { env: sb.env });
      expect(second.code).toBe(1);
      const e = second.json<Err>().error;
      expect(e.code).toBe('cli.data_dir_locked');
      expect(e.reason).toContain(`pid ${process.pid}`);
      expect(e.reason).toContain(http);
      expect(e.hint).toContain(`kill ${process.pid}`);
      // Nothing of the first server's was touched: its pointer is intact and it still answers.
      expect(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')).toBe(runtime);
      const reg = await epara([...dd, 'register', 'pi-01', '--class', 'microcomputer', '--json'], { env: sb.env });
      expect(reg.json<{ via: string }>().via).toBe('server');
    } finally {
      stop.abort();
      expect((await first).code).toBe(0);
    }
    // Once it stopped, the data dir is free again.
    const stop2 = new AbortController();
    const again = epara([...dd, 'serve', '--tcp', '127.0.0.1:0'], { env: sb.env, signal: stop2.signal });
    await until('serve.json again', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
    stop2.abort();
    expect((await again).code).toBe(0);
  }, 30_000);

  it('an offline registry command does not share the registry with a server that holds the lock', async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    expect((await epara([...dd, 'register', 'pi-01', '--class', 'microcomputer', '--init'], { env: sb.env })).code).toBe(0);
    const stop = new AbortController();
    const serve = epara([...dd, 'serve', '--tcp', '127.0.0.1:0'], { env: sb.env, signal: stop.signal });
    try {
      await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
      // As in the moment before a starting server writes serve.json: the CLI cannot find it.
      rmSync(join(sb.dataDir, 'serve.json'));
      const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
      expect(r.code).toBe(1);
      expect(r.json<Err>().error).toMatchObject({ code: 'cli.data_dir_locked', reason: expect.stringContaining('by an `epara serve` that is starting up, or an offline `epara register` / `epara devices`') });
    } finally {
      stop.abort();
      expect((await serve).code).toBe(0);
    }
    // Free again once it stopped; the offline command releases the lock when it is done.
    expect((await epara([...dd, 'devices', '--json'], { env: sb.env })).code).toBe(0);
    expect((await epara([...dd, 'devices', '--json'], { env: sb.env })).code).toBe(0);
  }, 30_000);

  it('a server killed with SIGKILL leaves no lock behind (the kernel drops it)', async () => {
    sb = sandbox({ fakeTools: false });
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), '--data-dir', sb.dataDir, 'serve', '--tcp', '127.0.0.1:0'], { env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    try {
      await until('serve.json of the child', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
      const refused = await epara(['--data-dir', sb.dataDir, 'serve', '--tcp', '127.0.0.1:0', '--json'], { env: sb.env });
      expect(refused.json<Err>().error.reason).toContain(`pid ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const stop = new AbortController();
    const next = epara(['--data-dir', sb.dataDir, 'serve', '--tcp', '127.0.0.1:0'], { env: sb.env, signal: stop.signal });
    // serve.json of the dead child is still there; wait for the new server's own.
    await until('the new server', () => (JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')).pid === process.pid ? true : undefined));
    stop.abort();
    expect((await next).code).toBe(0);
  }, 30_000);
});
