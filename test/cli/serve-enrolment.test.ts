import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { deviceShown, epara, sandbox, until, type Sandbox } from './helpers.js';

let sb: Sandbox | undefined;
const devices: EmulatedDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close({ graceful: false }).catch(() => undefined);
  sb?.cleanup();
});


describe('open enrolment: serve from a config file, devices --pending, devices approve', () => {
  it('an unknown device is recorded as pending; approving it with the key on its label lets it in', async () => {
    sb = sandbox({ fakeTools: false });
    const dd = ['--data-dir', sb.dataDir];
    mkdirSync(sb.dataDir, { recursive: true });
    // Listeners and enrolment come from <data dir>/config.json; no serve flags.
    writeFileSync(join(sb.dataDir, 'config.json'), JSON.stringify({ serve: { tcp: ['127.0.0.1:0'], openEnrolment: true, metrics: true } }));
    const stop = new AbortController();
    const serve = epara([...dd, 'serve', '--heartbeat', '500'], { env: sb.env, signal: stop.signal });
    try {
      await until('serve.json', async () => (existsSync(join(sb!.dataDir, 'serve.json')) ? true : undefined));
      const rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { links: string[] };
      const port = Number(rt.links[0]!.split(':').pop());
      const connector = () => connectTcp({ host: '127.0.0.1', port });
      // A board with a key the server has never seen says HELLO; it keeps retrying while pending.
      const boardKey = randomBytes(32).toString('hex');
      const booting = EmulatedDevice.start({ profile: 'mcu', id: 'mcu-new', key: boardKey, connector, dataDir: join(sb.root, 'd1'), timeScale: 0 });
      const pending = await until('the device to be pending', async () => {
        const r = await epara([...dd, 'devices', 'ls', '--pending', '--json'], { env: sb!.env });
        const list = r.json<Array<{ id: string; status: string }>>();
        return list.length ? list : undefined;
      });
      expect(pending.map((d) => d.id)).toEqual(['mcu-new']);
      const human = await epara([...dd, 'devices', '--pending'], { env: sb.env });
      expect(human.stdout).toMatch(/^mcu-new\s+mcu\s.*pending/m);
      // The operator reads the key off the board's label and approves it: no trip to the board.
      const ok = await epara([...dd, 'devices', 'approve', 'mcu-new', '--key', boardKey, '--json'], { env: sb.env });
      expect(ok.code).toBe(0);
      expect(ok.json<{ key: string }>().key).toBe(boardKey);
      devices.push(await booting);
      await until('the approved device active', async () => {
        const d = await deviceShown<{ state: string; status: string }>(dd, sb!.env, 'mcu-new');
        return d.state === 'active' && d.status === 'active' ? true : undefined;
      });
      // metrics: true in the config serves Prometheus text on the API, behind the same token.
      const api = (JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { http: string }).http;
      const token = readFileSync(join(sb.dataDir, 'http-token'), 'utf8').trim();
      const metrics = await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# HELP /m);
      expect((await fetch(`${api}/metrics`)).status).toBe(401);
      const again = await epara([...dd, 'devices', 'approve', 'mcu-new'], { env: sb.env });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('registry.not_pending');
    } finally {
      stop.abort();
      expect((await serve).code).toBe(0);
    }
  });

  it('a broken config file is a typed error before anything starts', async () => {
    sb = sandbox({ fakeTools: false });
    const f = join(sb.root, 'epara.json');
    writeFileSync(f, JSON.stringify({ serve: { tcp: '127.0.0.1:7878' } }));
    const r = await epara(['--data-dir', sb.dataDir, '--config', f, 'serve', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.json<{ error: { code: string; field: string } }>().error).toMatchObject({ code: 'config.file', field: 'serve.tcp' });
  });
});
