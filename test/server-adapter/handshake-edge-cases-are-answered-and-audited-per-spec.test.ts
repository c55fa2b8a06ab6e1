import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import { EparaServer, type EparaServerOptions } from '../../src/server-adapter/server.js';
import { RawDevice, rejection, until } from './helpers/raw-device.js';

/**
 * Issue 15, defect 8 (wire side): a PING before HELLO gets ERROR 205 as SPEC §7.1 says (it got a
 * PONG); a second HELLO during a handshake is audited under the first one's id (it was the
 * second's); a device that crashed and comes back as a new session is audited as
 * `session.superseded` (it said `device.left`); refused connections are rate-limited per source
 * address and the audit log of a flood stays bounded, with the rest counted in one row.
 */
let dir: string;
let server: EparaServer;
let port: number;
const devices: RawDevice[] = [];

async function boot(opts: Partial<EparaServerOptions> = {}): Promise<void> {
  server = new EparaServer({ dataDir: dir, rttProbeMs: 0, periods: { heartbeatMs: 200 }, ...opts });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
}
async function dev(): Promise<RawDevice> {
  const d = await RawDevice.connect(port);
  devices.push(d);
  return d;
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-hs-'));
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('handshake edge cases', () => {
  it('a PING before HELLO is answered with ERROR auth.not_authenticated (205), not PONG', async () => {
    await boot();
    const d = await dev();
    const e = await rejection(d.link.request({ type: 'PING', data: new Uint8Array([1, 2, 3]) }));
    expect(e).toMatchObject({ code: 'auth.not_authenticated', wire: 205 });
    await until(() => d.closed);
    // After the handshake PING is answered by the link as before.
    const { key } = server.provision({ id: 'pi', deviceClass: 'microcomputer' });
    const ok = await dev();
    await ok.register('pi', keyFromHex(key));
    expect(await ok.link.request({ type: 'PING', data: new Uint8Array([9]) })).toMatchObject({ type: 'PONG', data: new Uint8Array([9]) });
  });

  it("a second HELLO during the handshake is refused and audited under the first HELLO's id", async () => {
    await boot();
    server.provision({ id: 'victim', deviceClass: 'microcomputer' });
    server.provision({ id: 'other', deviceClass: 'microcomputer' });
    const d = await dev();
    expect(await d.hello('victim')).toMatchObject({ type: 'CHALLENGE' });
    expect((await rejection(d.hello('other'))).code).toBe('msg.unexpected');
    const rows = server.auditLog({ event: 'msg.unexpected' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ deviceId: 'victim' });
    expect(server.auditLog({ deviceId: 'other' }).map((r) => r.event)).toEqual(['device.provisioned']);
  });

  it('a device that crashed and comes back as a new session is audited session.superseded, not device.left', async () => {
    await boot();
    const { key } = server.provision({ id: 'pi', deviceClass: 'microcomputer' });
    const first = await dev();
    await first.register('pi', keyFromHex(key));
    await first.heartbeat();
    // The device dies without a BYE: its link just drops.
    await first.link.close();
    await until(() => server.device('pi')?.state === 'degraded');
    const second = await dev();
    await second.register('pi', keyFromHex(key));
    const events = server.auditLog({ deviceId: 'pi' }).map((r) => r.event);
    expect(events).toEqual(['device.provisioned', 'auth.ok', 'session.superseded', 'auth.ok']);
    // A real BYE still says device.left.
    await second.link.notify({ type: 'BYE', code: 0 });
    await until(() => server.auditLog({ event: 'device.left' }).length === 1);
  });

  it('refused connections from one address are rate-limited: a bounded audit, links dropped, the rest counted in summary rows', async () => {
    await boot({ refusalLimit: { burst: 5, perSecond: 0.01, summaryMs: 100 } });
    const unknownHello = async (i: number): Promise<string> => {
      const d = await dev();
      try {
        const r = await d.hello(`ghost-${i}`);
        return r.type;
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) answers.push(await unknownHello(i));
    // The first five get their typed refusal; after that the address is out of tokens and its
    // links are closed before any handshake work (the HELLO gets no answer).
    expect(answers.slice(0, 5)).toEqual(Array(5).fill('auth.unknown_device'));
    expect(answers.slice(5).every((a) => a === 'link.closed' || a === 'link.timeout')).toBe(true);
    expect(server.auditLog({ event: 'auth.unknown_device' })).toHaveLength(5);
    // Summaries come once per summaryMs; together they count every suppressed link exactly once.
    const suppressed = (): number => server.auditLog({ event: 'auth.refusals_suppressed' }).reduce((n, r) => n + Number(/^(\d+) refused/.exec(r.detail ?? '')?.[1] ?? 0), 0);
    await until(() => suppressed() >= 25);
    expect(suppressed()).toBe(25);
    expect(server.auditLog({ event: 'auth.refusals_suppressed' }).every((r) => r.remote === '127.0.0.1' && /from 127\.0\.0\.1 suppressed/.test(r.detail!))).toBe(true);
  });

  it('refusal limit options are validated with ranges', async () => {
    await expect(boot({ refusalLimit: { burst: 0 } })).rejects.toMatchObject({ code: 'config.range', field: 'refusalLimit.burst' });
  });
});
