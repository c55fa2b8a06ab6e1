import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { openSerial } from '../../src/transport/serial.js';
import { deployClassifierAndInfer, deviceShown, epara, sandbox, until, type Sandbox } from './helpers.js';

let sb: Sandbox | undefined;
let socat: ChildProcess | undefined;
let device: EmulatedDevice | undefined;
afterEach(async () => {
  await device?.close({ graceful: false }).catch(() => undefined);
  device = undefined;
  if (socat && socat.exitCode === null) {
    const done = new Promise((r) => socat!.once('exit', r));
    socat.kill('SIGTERM');
    await done;
  }
  sb?.cleanup();
});


describe('epara serve --serial', () => {
  it('serves a device on the far end of a serial line (socat pty pair): register, deploy, infer', async () => {
    sb = sandbox({ fakeTools: false });
    const a = join(sb.root, 'ttyGW');
    const b = join(sb.root, 'ttyDEV');
    socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    await until('the pty pair', async () => (existsSync(a) && existsSync(b) ? true : undefined));
    const dd = ['--data-dir', sb.dataDir];
    const stop = new AbortController();
    const serve = epara([...dd, 'serve', '--serial', `${a}@115200`, '--heartbeat', '500'], { env: sb.env, signal: stop.signal });
    try {
      await until('serve.json', async () => (existsSync(join(sb!.dataDir, 'serve.json')) ? true : undefined));
      const reg = await epara([...dd, 'register', 'pi-serial', '--class', 'microcomputer', '--json'], { env: sb.env });
      const { key } = reg.json<{ key: string }>();
      device = await EmulatedDevice.start({ profile: 'microcomputer', id: 'pi-serial', key, connector: () => openSerial({ path: b, baudRate: 115200 }), dataDir: join(sb.root, 'dev'), timeScale: 0 });
      const info = await until('the device active over the serial line', async () => {
        const d = await deviceShown(dd, sb!.env, 'pi-serial');
        return d.state === 'active' ? d : undefined;
      });
      expect(info.remote).toContain('ttyGW');
      await deployClassifierAndInfer(dd, sb.env, 'pi-serial');

      // Pull the cable: socat goes away, both ttys vanish. serve keeps running and reopens the
      // port with backoff once it is back; the device reconnects on its own.
      const gone = new Promise((r) => socat!.once('exit', r));
      socat!.kill('SIGTERM');
      await gone;
      await until('the session to drop', async () => {
        const d = await deviceShown(dd, sb!.env, 'pi-serial');
        return d.state !== 'active' ? true : undefined;
      });
      socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
      await until('the device active again after the port came back', async () => {
        const d = await deviceShown(dd, sb!.env, 'pi-serial');
        return d.state === 'active' ? true : undefined;
      }, 40_000);
    } finally {
      stop.abort();
      const s = await serve;
      expect(s.stderr).toContain(`devices: serial ${a}@115200`);
      expect(s.stderr).toContain('link closed');
      expect(s.stderr).toContain('reopened');
      expect(s.code).toBe(0);
    }
  });

  it('a serial path that does not exist fails serve at start with a typed error', async () => {
    sb = sandbox({ fakeTools: false });
    const r = await epara(['--data-dir', sb.dataDir, 'serve', '--serial', join(sb.root, 'ttyNOPE') + '@9600', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.json<{ error: { code: string } }>().error.code).toMatch(/^(cli\.not_found|link\.open_failed)$/);
    expect(existsSync(join(sb.dataDir, 'serve.json'))).toBe(false);
    const bad = await epara(['--data-dir', sb.dataDir, 'serve', '--serial', 'ttyUSB0@9600'], { env: sb.env });
    expect(bad.code).toBe(2);
    const badTcp = await epara(['--data-dir', sb.dataDir, 'serve', '--tcp', 'localhost'], { env: sb.env });
    expect(badTcp.code).toBe(2);
  });
});
