/**
 * Fleet runner: N emulated devices of chosen profiles against a live server (`epara fleet`).
 * Ids, per-device seeds and which device gets which behaviour all derive from one seed, so the
 * same command reproduces the same fleet. (The discrete-event simulator, `epara sim`, is a
 * different thing: virtual time, no sockets.)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../src/errors.js';
import type { DeviceClass } from '../src/protocol/index.js';
import type { Connector } from '../src/transport/byte-stream.js';
import { connectTcp } from '../src/transport/tcp.js';
import { EmulatedDevice, type BehaviourOverrides, type EmulatedDeviceOptions } from './emulated-device.js';
import { PROFILE_NAMES, profileFor, type ProfileName } from './profiles.js';

export interface FleetGroup {
  profile: ProfileName;
  count: number;
}

export interface FleetOptions {
  /** Which devices: groups, or a spec string like "gpu-server:1,microcomputer:3". */
  devices: FleetGroup[] | string;
  /** Where the server listens (TCP), unless `connector` is given. */
  server?: { host: string; port: number };
  /** Per-device connector, for other transports (a pty, an emulated BLE peripheral…). */
  connector?: (deviceIndex: number, id: string, profile: ProfileName) => Connector;
  /** Gets a key for a device id: in-process `server.provision`, or the CLI's HTTP/registry call. */
  provision: (id: string, deviceClass: DeviceClass) => Promise<{ id: string; key: string }> | { id: string; key: string };
  /** Root directory; each device persists artifacts under <dataDir>/<id>. */
  dataDir: string;
  seed?: number;
  /** Ids are `${idPrefix}${profile}-${n}`. */
  idPrefix?: string;
  timeScale?: number;
  /** Behaviour overrides by device id or by index in the fleet. */
  behaviours?: Record<string | number, BehaviourOverrides>;
  /** Devices booting at once (a 2-core host should not load 50 ONNX sessions at the same instant). */
  concurrency?: number;
  /** Extra options for every emulated device (handlers, runtimes…). */
  device?: Partial<EmulatedDeviceOptions>;
  onDevice?: (d: EmulatedDevice, index: number) => void;
}

export interface Fleet {
  devices: EmulatedDevice[];
  close(opts?: { graceful?: boolean }): Promise<void>;
}

/** "gpu-server:1,microcomputer:3" → groups; throws ConfigError with the valid names on a typo. */
export function parseFleetSpec(spec: string): FleetGroup[] {
  const groups: FleetGroup[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)(?::(\d+))?$/.exec(part);
    if (!m || !(PROFILE_NAMES as string[]).includes(m[1]!)) {
      throw new ConfigError({ code: 'config.fleet', reason: `fleet entry ${JSON.stringify(part)} is not <profile>[:count]`, hint: `profiles: ${PROFILE_NAMES.join(', ')}; e.g. "microcomputer:3,gpu-server:1"`, field: 'devices' });
    }
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (count < 1 || count > 1000) throw new ConfigError({ code: 'config.range', reason: `fleet count ${count} for ${m[1]} is outside 1..1000`, hint: 'start at most 1000 devices of one profile', field: 'devices' });
    groups.push({ profile: m[1] as ProfileName, count });
  }
  if (groups.length === 0) throw new ConfigError({ code: 'config.fleet', reason: 'empty fleet spec', hint: 'e.g. "microcomputer:3,gpu-server:1"', field: 'devices' });
  return groups;
}

/** The devices a spec expands to, in boot order: deterministic ids and seeds. */
export function planFleet(groups: FleetGroup[], seed = 1, idPrefix = ''): Array<{ index: number; id: string; profile: ProfileName; seed: number }> {
  const out: Array<{ index: number; id: string; profile: ProfileName; seed: number }> = [];
  for (const g of groups) {
    profileFor(g.profile);
    for (let n = 1; n <= g.count; n++) {
      const index = out.length;
      // Distinct, well-spread per-device seeds from one fleet seed.
      out.push({ index, id: `${idPrefix}${g.profile}-${n}`, profile: g.profile, seed: (Math.imul(seed >>> 0, 2654435761) + index * 40503 + 1) >>> 0 });
    }
  }
  return out;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const groups = typeof o.devices === 'string' ? parseFleetSpec(o.devices) : o.devices;
  if (!o.server && !o.connector) throw new ConfigError({ code: 'config.fleet', reason: 'no server address and no connector', hint: 'pass server: { host, port } or a connector factory', field: 'server' });
  const plan = planFleet(groups, o.seed ?? 1, o.idPrefix ?? '');
  const devices: EmulatedDevice[] = new Array(plan.length);
  const concurrency = Math.max(1, Math.min(o.concurrency ?? 4, 64));
  const fleet: Fleet = {
    devices,
    async close(opts) {
      await Promise.all(devices.filter(Boolean).map((d) => d.close(opts).catch(() => undefined)));
    },
  };
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const p = plan[next++]!;
      const profile = profileFor(p.profile);
      const { key } = await o.provision(p.id, profile.deviceClass);
      const dataDir = join(o.dataDir, p.id);
      mkdirSync(dataDir, { recursive: true });
      const server = o.server;
      const connector: Connector = o.connector ? o.connector(p.index, p.id, p.profile) : () => connectTcp({ host: server!.host, port: server!.port });
      const d = await EmulatedDevice.start({
        ...o.device,
        profile: p.profile,
        id: p.id,
        key,
        connector,
        dataDir,
        seed: p.seed,
        timeScale: o.timeScale ?? o.device?.timeScale,
        behaviour: o.behaviours?.[p.id] ?? o.behaviours?.[p.index] ?? o.device?.behaviour,
      });
      devices[p.index] = d;
      o.onDevice?.(d, p.index);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, worker));
  } catch (e) {
    await fleet.close({ graceful: false });
    throw e;
  }
  return fleet;
}
