import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { freePort, startDeviceProcess, startServerProcess, type DeviceProcessConfig, type JsonProcess } from './helpers/child-processes.js';

/**
 * Issue 15, the chaos test. An emulated fleet of 8 devices, each a real EparaDevice in its own
 * process (3 of them behind emulated lossy UART lines from firmware-sims), a real EparaServer in
 * its own process, three real ONNX models deployed across the fleet through the production
 * deploy path. For a bounded time the test SIGKILLs the server and devices at random, restarts
 * them, and drops links. Then, once the pair has had time to converge:
 *  - the registry passes `PRAGMA integrity_check`;
 *  - every deployment is settled, in the state the device really reports (ready, same version);
 *  - no device key and no audit row that was committed before a kill is missing;
 *  - every device that is up answers a real inference for each service it should serve.
 * The schedule comes from a seeded RNG; the seed is printed, and EPARA_CHAOS_SEED replays it.
 * EPARA_CHAOS_MS sets the chaos time (default 20 s, at most 60 s).
 */
const SEED = Number(process.env.EPARA_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CHAOS_MS = Math.min(60_000, Number(process.env.EPARA_CHAOS_MS ?? 20_000));
const MODELS = {
  mlp: fileURLToPath(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url)),
  seg: fileURLToPath(new URL('../../fixtures/models/conv-segmenter.onnx', import.meta.url)),
  dec: fileURLToPath(new URL('../../fixtures/models/token-decoder.onnx', import.meta.url)),
};
type Service = keyof typeof MODELS;
const DEVICES = 8;
const LOSSY = new Set([1, 4, 6]);
/** Which services each device should end up serving. */
const PLAN: Record<Service, number[]> = { mlp: [0, 1, 2, 3, 4, 5, 6, 7], seg: [0, 2, 4, 6], dec: [1, 3, 5, 7] };

const dir = mkdtempSync(join(tmpdir(), 'epara-chaos-'));
const procs = new Set<JsonProcess>();
afterAll(async () => {
  await Promise.all([...procs].map((p) => p.kill()));
  rmSync(dir, { recursive: true, force: true });
});

type AuditRow = { id: number; event: string };

describe('chaos: random SIGKILLs of server and devices, dropped links', () => {
  it(`converges with every invariant kept (seed ${SEED})`, { timeout: 170_000 }, async () => {
    console.log(`[chaos] seed ${SEED} (replay: EPARA_CHAOS_SEED=${SEED}), ${CHAOS_MS} ms of chaos`);
    const t0 = Date.now();
    const phase = (what: string): void => console.log(`[chaos] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    const rng = mulberry32(SEED);
    const port = await freePort();
    const dataDir = join(dir, 'server');
    const track = <T extends JsonProcess>(p: T): T => {
      procs.add(p);
      void p.exited.then(() => procs.delete(p));
      return p;
    };

    let server = track(startServerProcess(dataDir, port));
    await server.wait((l) => l.event === 'ready');
    const configs: DeviceProcessConfig[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const { key } = (await server.ask({ op: 'provision', id: `chaos-${i}`, deviceClass: 'microcomputer' }, 'provisioned')) as unknown as { key: string };
      configs.push({
        id: `chaos-${i}`,
        key,
        dataDir: join(dir, `device-${i}`),
        port,
        // Small frames on the lossy lines: the chunk, not the whole artifact, is what a lost byte costs.
        // (768 still carries the segmenter's 600-byte INFER_RESPONSE.)
        maxFrame: LOSSY.has(i) ? 768 : 1024,
        ...(LOSSY.has(i) ? { lossy: { lossRate: 0.0003, baud: 460_800, seed: (SEED + i) >>> 0 } } : {}),
      });
    }
    const devices: Array<JsonProcess | undefined> = configs.map((c) => track(startDeviceProcess(c)));
    await Promise.all(devices.map((d) => d!.wait((l) => l.event === 'ready', 60_000)));

    // What the registry held at each kill: all of it must still be there at the end.
    const committedAudit = new Map<number, string>();
    let committedKeys: string[] = [];
    const snapshot = (): void => {
      const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
      for (const r of db.prepare('SELECT id, event FROM audit').all() as AuditRow[]) committedAudit.set(r.id, r.event);
      committedKeys = (db.prepare('SELECT device_id FROM device_keys ORDER BY device_id').all() as Array<{ device_id: string }>).map((r) => r.device_id);
      db.close();
    };

    /** Sends the deploys until the server acknowledged each (a kill may eat a command). */
    const pending = new Set<Service>(Object.keys(PLAN) as Service[]);
    const issueDeploys = async (): Promise<void> => {
      for (const svc of [...pending]) {
        const from = server.lines.length;
        server.send({ op: 'deploy', artifact: MODELS[svc], service: svc, version: '1', kind: 'onnx', category: 'latency-single', to: PLAN[svc].map((i) => `chaos-${i}`) });
        const ack = await Promise.race([server.wait((l) => l.event === 'deploying', 10_000, from).then(() => true), server.exited.then(() => false)]).catch(() => false);
        if (ack) pending.delete(svc);
      }
    };
    await issueDeploys();
    phase('fleet up, deployments issued');

    const restartServer = async (): Promise<void> => {
      server = track(startServerProcess(dataDir, port));
      await server.wait((l) => l.event === 'ready', 60_000);
    };
    const counts = { serverKills: 0, deviceKills: 0, drops: 0 };
    const end = Date.now() + CHAOS_MS;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 300 + rng.int(1200)));
      const roll = rng.next();
      if (roll < 0.15) {
        await server.kill();
        counts.serverKills++;
        snapshot();
        if (rng.chance(0.5)) await new Promise((r) => setTimeout(r, rng.int(1500)));
        await restartServer();
        await issueDeploys();
      } else if (roll < 0.55) {
        const i = rng.int(DEVICES);
        await devices[i]?.kill();
        counts.deviceKills++;
        devices[i] = undefined;
        await new Promise((r) => setTimeout(r, rng.int(800)));
        // Most come back; some stay down to the end (a device that is down serves nothing).
        if (rng.chance(0.85)) devices[i] = track(startDeviceProcess(configs[i]!));
      } else if (roll < 0.8) {
        const d = devices[rng.int(DEVICES)];
        if (d) {
          d.send({ op: 'drop' });
          counts.drops++;
        }
      }
    }
    console.log(`[chaos] ${counts.serverKills} server kills, ${counts.deviceKills} device kills, ${counts.drops} dropped links`);
    await issueDeploys();
    expect(pending.size).toBe(0);
    await Promise.all(devices.map((d) => d?.wait((l) => l.event === 'ready', 60_000)));
    phase('chaos over');

    // Converge: every record settled and every device that is up reports what its records say.
    type Rec = { id: number; deviceId: string; service: string; version: string; state: string; errorCode?: string };
    const upIds = (): Set<string> => new Set(devices.flatMap((d, i) => (d ? [`chaos-${i}`] : [])));
    const deviceServices = async (): Promise<Map<string, Array<{ name: string; version: string; status: string }>>> => {
      const m = new Map<string, Array<{ name: string; version: string; status: string }>>();
      await Promise.all(devices.map(async (d, i) => d && m.set(`chaos-${i}`, (await d.ask({ op: 'services' }, 'services')).services as Array<{ name: string; version: string; status: string }>)));
      return m;
    };
    let recs: Rec[] = [];
    let seen = new Map<string, Array<{ name: string; version: string; status: string }>>();
    const mismatches = (): string[] => {
      const bad: string[] = [];
      for (const r of recs) {
        if (!['ready', 'failed', 'rolled-back', 'undeployed'].includes(r.state)) {
          if (upIds().has(r.deviceId)) bad.push(`${r.deviceId}/${r.service} still ${r.state}`);
          continue;
        }
        if (!upIds().has(r.deviceId)) continue;
        const svc = seen.get(r.deviceId)?.find((s) => s.name === r.service);
        if (r.state === 'ready' && (svc?.status !== 'ready' || svc.version !== r.version)) bad.push(`${r.deviceId}/${r.service} ready on the server, ${svc ? `${svc.status}@${svc.version}` : 'absent'} on the device`);
        if (r.state !== 'ready') bad.push(`${r.deviceId}/${r.service} ${r.state} ${r.errorCode ?? ''}`);
      }
      return bad;
    };
    const deadline = Date.now() + 60_000;
    for (;;) {
      recs = (await server.ask({ op: 'records' }, 'records')).records as Rec[];
      seen = await deviceServices();
      if (mismatches().length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(mismatches()).toEqual([]);
    phase('converged');
    // One deployment per planned (device, service): re-issued deploys were no-ops, not duplicates.
    for (const [svc, idx] of Object.entries(PLAN)) {
      for (const i of idx) expect(recs.filter((r) => r.deviceId === `chaos-${i}` && r.service === svc).map((r) => r.state), `chaos-${i}/${svc}`).toEqual(['ready']);
    }

    // Every device that is up answers a real inference for each of its services.
    for (const [svc, idx] of Object.entries(PLAN) as Array<[Service, number[]]>) {
      for (const i of idx.filter((k) => devices[k])) {
        let r: { ok: boolean; code?: string; deviceId?: string } = { ok: false };
        for (let attempt = 0; attempt < 40 && !r.ok; attempt++) {
          r = (await server.ask({ op: 'infer', service: svc, model: svc, deviceId: `chaos-${i}` }, 'inferred')) as unknown as typeof r;
          if (!r.ok) await new Promise((res) => setTimeout(res, 250));
        }
        expect(r, `infer ${svc} on chaos-${i}`).toMatchObject({ ok: true, deviceId: `chaos-${i}` });
      }
    }

    phase('inferences answered');
    // Durability: a clean close, then the file itself.
    await server.ask({ op: 'close' }, 'closed');
    await server.exited;
    const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const keys = (db.prepare('SELECT device_id FROM device_keys ORDER BY device_id').all() as Array<{ device_id: string }>).map((r) => r.device_id);
    expect(keys).toEqual(configs.map((c) => c.id).sort());
    for (const k of committedKeys) expect(keys).toContain(k);
    const audit = new Map((db.prepare('SELECT id, event FROM audit').all() as AuditRow[]).map((r) => [r.id, r.event]));
    const lost = [...committedAudit].filter(([id, event]) => audit.get(id) !== event);
    expect(lost).toEqual([]);
    expect([...audit.values()].filter((e) => e === 'device.provisioned')).toHaveLength(DEVICES);
    db.close();
    console.log(`[chaos] ${committedAudit.size} audit rows committed before kills all present; ${audit.size} at the end`);
  });
});
