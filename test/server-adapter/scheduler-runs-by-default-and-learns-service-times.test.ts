import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { ConfigError } from '../../src/errors.js';
import { tensorFrom } from '../../src/protocol/index.js';
import { OPTION_SPECS } from '../../src/server-adapter/server-options.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { ServiceTimes } from '../../src/server-adapter/service-times.js';
import { ServiceStats } from '../../src/server-adapter/service-stats.js';
import type { DeviceState, ServiceSpec } from '../../src/scheduler/types.js';
import { SCENARIO_NUMBERS } from '../../src/sim/scenario.js';
import { PROFILES, serviceTimeMs } from '../../src/sim/device-profiles.js';
import { TIME_SCALES } from '../../src/time-scales.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { until } from './helpers/raw-device.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serverWith(opts: Partial<ConstructorParameters<typeof EparaServer>[0]> = {}): Promise<{ server: EparaServer; dir: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'epara-live-sched-'));
  const server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0, periods: { placementMs: 3_600_000, stateSyncMs: 100 }, ...opts });
  await server.start();
  const port = (await server.listenTcp({ port: 0 })).port;
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => server.close({ drainMs: 0 }));
  return { server, dir, port };
}

async function device(server: EparaServer, dir: string, port: number, id: string): Promise<EparaDevice> {
  const { key } = server.provision({ id, deviceClass: 'microcomputer' });
  const d = await EparaDevice.connect({ id, key, deviceClass: 'microcomputer', dataDir: join(dir, id), connector: () => connectTcp({ host: '127.0.0.1', port }) });
  cleanups.push(() => d.close());
  return d;
}

const x = tensorFrom('input', new Float32Array(16).fill(0.1), [1, 16]);

describe('EparaServer runs a scheduler unless told not to', () => {
  it('EPARA by default; off places nothing; an unknown name is config.scheduler with a hint naming epara serve', async () => {
    const { server } = await serverWith();
    expect([server.scheduler.name, server.scheduler.enabled]).toEqual(['epara', true]);
    const off = (await serverWith({ scheduler: 'off' })).server;
    expect(off.scheduler.enabled).toBe(false);
    expect(await off.placement()).toBeUndefined();
    expect(off.placementView()).toMatchObject({ scheduler: 'off', planVersion: 0 });
    let err: unknown;
    try {
      new EparaServer({ dataDir: join(tmpdir(), 'never-used'), scheduler: 'fastest' as never });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'config.scheduler', hint: expect.stringContaining('epara serve --scheduler') });
  });

  it('the three time scales have one definition: the server and the simulator take its defaults and ranges', () => {
    expect(OPTION_SPECS.heartbeatMs).toBe(TIME_SCALES.heartbeatMs);
    expect(OPTION_SPECS.stateSyncMs).toBe(TIME_SCALES.stateSyncMs);
    expect(OPTION_SPECS.placementMs).toBe(TIME_SCALES.placementMs);
    expect(SCENARIO_NUMBERS.stateSyncMs).toBe(TIME_SCALES.stateSyncMs);
    expect(SCENARIO_NUMBERS.placementMs).toBe(TIME_SCALES.placementMs);
    expect([TIME_SCALES.stateSyncMs.default, TIME_SCALES.placementMs.default]).toEqual([3000, 60_000]);
    expect(() => new EparaServer({ dataDir: join(tmpdir(), 'never-used'), periods: { placementMs: TIME_SCALES.placementMs.min - 1 } })).toThrowError(/periods\.placementMs/);
  });

  it('a deploy declares the service: the planner places it with the declared SLO, and infer says where it routed and why', async () => {
    const { server, dir, port } = await serverWith();
    await device(server, dir, port, 'pi-1');
    await device(server, dir, port, 'pi-2');
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', sloMs: 250, demandRps: 5, to: ['pi-1', 'pi-2'] });
    const round = await server.placement();
    expect(round!.result.placement.assignments.some((a) => a.service === 'mlp')).toBe(true);
    const view = server.placementView();
    expect(view.planVersion).toBeGreaterThanOrEqual(1);
    expect(view.devices.flatMap((d) => d.units).map((u) => u.service)).toContain('mlp');
    await until(() => server.candidates('mlp').length === 2);
    const r = await server.infer('mlp', [x]);
    expect(r.route).toMatchObject({ policy: 'epara', device: r.deviceId, meetsDeadline: true });
    expect(r.route!.considered.map((c) => c.device).sort()).toEqual(['pi-1', 'pi-2']);
    const [svc] = server.servicesView();
    expect(svc).toMatchObject({ service: 'mlp', category: 'latency-single', sloMs: 250, declaredRps: 5, plannedRps: 5, samples: 1, attainment: 1 });
    expect(svc!.serviceTimeMs.microcomputer).toBeGreaterThanOrEqual(0);
    // Deploying again without SLO flags keeps the declaration (the planner's redeploys do that too).
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1'] });
    expect(server.servicesView()[0]).toMatchObject({ sloMs: 250, declaredRps: 5 });
    await expect(server.deploy({ artifact: MODEL, service: 'mlp', version: '2', kind: 'onnx', category: 'latency-single', sloMs: -1, to: ['pi-1'] })).rejects.toMatchObject({ code: 'config.range', field: 'sloMs' });
  });

  it('round-robin, as an operator would compare it: requests alternate between the devices', async () => {
    const { server, dir, port } = await serverWith({ scheduler: 'round-robin' });
    await device(server, dir, port, 'pi-1');
    await device(server, dir, port, 'pi-2');
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-1', 'pi-2'] });
    await server.placement();
    await until(() => server.candidates('mlp').length === 2);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await server.infer('mlp', [x]);
      expect(r.route?.policy).toBe('round-robin');
      seen.push(r.deviceId);
    }
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]).toBe(seen[2]);
    expect(seen[1]).toBe(seen[3]);
  });
});

describe('learned service times', () => {
  const spec: ServiceSpec = { name: 's', category: 'latency-single', memoryMiB: 1, kind: 'vision', workMs: 4, deadlineMs: 100, demandRps: 1 };
  const dev = (id: string, cls: DeviceState['deviceClass']): DeviceState => ({ id, deviceClass: cls, memoryMiB: 1024, gpuCount: 0, zone: 'z', alive: true, services: {} });

  it('use (service, device), then (service, class), then the profile model', () => {
    const t = new ServiceTimes();
    const pi1 = dev('pi-1', 'microcomputer');
    const pi2 = dev('pi-2', 'microcomputer');
    const jet = dev('jet-1', 'embedded-gpu');
    expect(t.serviceTimeMs(pi1, spec, 1)).toBeCloseTo(serviceTimeMs(PROFILES.microcomputer, spec, 1));
    t.observe('s', 'pi-1', 'microcomputer', 10);
    t.observe('s', 'pi-1', 'microcomputer', 20);
    expect(t.serviceTimeMs(pi1, spec, 1)).toBeCloseTo(15);
    // Another device of the class: the class's mean until it is measured itself.
    expect(t.serviceTimeMs(pi2, spec, 1)).toBeCloseTo(15);
    t.observe('s', 'pi-2', 'microcomputer', 40);
    expect(t.serviceTimeMs(pi2, spec, 1)).toBeCloseTo(40);
    // A batch scales as the class's profile does.
    const ratio = serviceTimeMs(PROFILES.microcomputer, spec, 4) / serviceTimeMs(PROFILES.microcomputer, spec, 1);
    expect(t.serviceTimeMs(pi1, spec, 4)).toBeCloseTo(15 * ratio);
    // A class nobody measured: the profile model.
    expect(t.serviceTimeMs(jet, spec, 1)).toBeCloseTo(serviceTimeMs(PROFILES['embedded-gpu'], spec, 1));
    expect(t.perClass('s')).toEqual({ microcomputer: { ms: expect.any(Number), samples: 3 } });
    // The reference work the measurements imply: (t - overhead) x speed.
    expect(t.impliedWorkMs('s', 'vision')).toBeCloseTo((t.perClass('s').microcomputer!.ms - PROFILES.microcomputer.overheadMs) * PROFILES.microcomputer.speed.vision!);
  });

  it('a device whose HELLO formats exclude the artifact kind cannot run the service at all (Infinity)', () => {
    const t = new ServiceTimes((deviceId) => deviceId !== 'fpga-1');
    expect(t.serviceTimeMs(dev('fpga-1', 'fpga'), { ...spec, kind: 'tiny' }, 1)).toBe(Infinity);
    expect(Number.isFinite(t.serviceTimeMs(dev('pi-1', 'microcomputer'), spec, 1))).toBe(true);
  });

  it('measured demand is the arrival rate over the placement window, smoothed across windows', () => {
    const s = new ServiceStats(0);
    for (let i = 0; i < 20; i++) s.arrived('a');
    s.closeWindow(10_000);
    expect(s.measuredRps('a')).toBeCloseTo(2);
    s.closeWindow(20_000);
    expect(s.measuredRps('a')).toBeCloseTo(1);
    expect(s.measuredRps('b')).toBeUndefined();
  });
});
