import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import type { DeviceStateChange } from '../../src/server-adapter/events.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { RawDevice, until, waitFor } from './helpers/raw-device.js';

let dir: string;
let server: EparaServer;
let port: number;
const devices: RawDevice[] = [];
let key: Uint8Array;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-live-'));
  server = new EparaServer({ dataDir: dir, periods: { heartbeatMs: 100 }, leaseMs: 800, rttProbeMs: 0 });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
  key = keyFromHex(server.provision({ id: 'pi', deviceClass: 'microcomputer' }).key);
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function dev(): Promise<RawDevice> {
  const d = await RawDevice.connect(port);
  devices.push(d);
  return d;
}

const stateOf = (): string | undefined => server.device('pi')?.state;

describe('liveness', () => {
  it('goes degraded when heartbeats stop and active again when they resume', async () => {
    const changes: string[] = [];
    server.on('device-state', (c: DeviceStateChange) => changes.push(c.state));
    const d = await dev();
    await d.register('pi', key);
    await d.heartbeat();
    await until(() => stateOf() === 'active');
    // Silence: more than two heartbeat periods without a heartbeat.
    await waitFor<DeviceStateChange>(server, 'device-state', (c) => c.state === 'degraded');
    expect(d.closed).toBe(false);
    await d.heartbeat();
    expect(stateOf()).toBe('active');
    expect(changes.slice(0, 4)).toEqual(['registered', 'active', 'degraded', 'active']);
  });

  it('keeps the session through a dropped link and resumes it within the lease', async () => {
    const d = await dev();
    const w = await d.register('pi', key);
    await d.heartbeat();
    await d.close();
    await until(() => stateOf() === 'degraded');
    const d2 = await dev();
    const registered = waitFor<{ resumed: boolean }>(server, 'device-registered');
    const w2 = await d2.register('pi', key, { resume: w.sessionId });
    expect(w2.resumed).toBe(true);
    expect((await registered).resumed).toBe(true);
    expect(Buffer.from(w2.sessionId).equals(Buffer.from(w.sessionId))).toBe(true);
    await d2.heartbeat();
    expect(stateOf()).toBe('active');
    expect(server.auditLog({ deviceId: 'pi' }).map((e) => e.event)).toContain('auth.resumed');
  });

  it('loses the session when the lease runs out; a later HELLO resume gets a fresh session', async () => {
    const d = await dev();
    const w = await d.register('pi', key);
    await d.close();
    const lost = await waitFor<DeviceStateChange>(server, 'device-lost');
    expect(lost).toMatchObject({ deviceId: 'pi', state: 'lost', previous: 'degraded' });
    expect(stateOf()).toBe('offline');
    const d2 = await dev();
    const w2 = await d2.register('pi', key, { resume: w.sessionId });
    expect(w2.resumed).toBeUndefined();
    expect(Buffer.from(w2.sessionId).equals(Buffer.from(w.sessionId))).toBe(false);
    expect(server.auditLog({ deviceId: 'pi', event: 'device.lost' }).length).toBe(1);
  });

  it('a device that rebooted behind a still-open link (UART/SPP) says HELLO again and re-registers on it', async () => {
    const d = await dev();
    const w1 = await d.register('pi', key);
    await d.heartbeat();
    const w2 = await d.register('pi', key);
    expect(d.closed).toBe(false);
    expect(Buffer.from(w2.sessionId).equals(Buffer.from(w1.sessionId))).toBe(false);
    expect(await d.heartbeat()).toMatchObject({ type: 'HEARTBEAT_ACK' });
    await until(() => stateOf() === 'active');
    expect(server.auditLog({ deviceId: 'pi', event: 'auth.ok' }).length).toBe(2);
    // Naming the session it had resumes it instead.
    const w3 = await d.register('pi', key, { resume: w2.sessionId });
    expect(w3.resumed).toBe(true);
  });

  it('a BYE ends the session as left', async () => {
    const d = await dev();
    await d.register('pi', key);
    const left = waitFor<DeviceStateChange>(server, 'device-state', (c) => c.state === 'left');
    await d.link.notify({ type: 'BYE', code: 0 });
    await left;
    expect(stateOf()).toBe('offline');
  });

  it('folds STATE reports into the device view and notifies subscribers', async () => {
    const d = await dev();
    await d.register('pi', key);
    const seen = new Promise<number>((resolve) => {
      const off = server.subscribe((v) => {
        if (v.deviceId === 'pi') {
          off();
          resolve(v.load);
        }
      });
    });
    await d.state({ loadPermille: 420, services: [{ name: 'svc', version: '1', status: 'ready', queueLen: 3, served: 8, violations: 2 }] });
    expect(await seen).toBeCloseTo(0.42);
    const view = server.device('pi')!.view!;
    expect(view.services[0]).toMatchObject({ name: 'svc', queueLen: 3, violationRate: 0.2 });
  });
});
