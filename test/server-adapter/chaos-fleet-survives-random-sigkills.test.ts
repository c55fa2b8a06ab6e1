import { SqliteDb as Database } from '../../src/device-mgmt/registry/sqlite-db.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
/**
 * Devices that get a fresh blob artifact (16..64 KiB, new bytes each time) every few seconds of
 * chaos. Clean links only: on the lossy lines today's fixed-size chunks make 64 KiB take longer
 * than the convergence window (issue 15's adaptive sender is what fixes that; the lossy devices
 * still receive and serve their ONNX models here).
 */
const BLOB_DEVICES = [0, 3, 7];

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
    const counts = { serverKills: 0, deviceKills: 0, drops: 0, blobs: 0 };
    // New versions while the chaos runs, so kills land inside transfers, verifies and loads.
    const deployBlob = async (): Promise<void> => {
      const n = ++counts.blobs;
      const bytes = new Uint8Array(16_384 + rng.int(49_152)).map(() => rng.int(256));
      const path = join(dir, `blob-${n}.bin`);
      writeFileSync(path, bytes);
      const from = server.lines.length;
      server.send({ op: 'deploy', artifact: path, service: 'blob', version: `b${n}`, kind: 'blob', category: 'frequency-single', to: BLOB_DEVICES.map((i) => `chaos-${i}`) });
      // Not retried when unacknowledged: the record may or may not have been committed; the end
      // state is judged by what the registry holds, whichever it is.
      await Promise.race([server.wait((l) => l.event === 'deploying', 10_000, from), server.exited]).catch(() => undefined);
    };
    await deployBlob();
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
      } else {
        await deployBlob();
      }
    }
    console.log(`[chaos] ${counts.serverKills} server kills, ${counts.deviceKills} device kills, ${counts.drops} dropped links, ${counts.blobs} blob versions deployed`);
    await issueDeploys();
    expect(pending.size).toBe(0);
    await Promise.all(devices.map((d) => d?.wait((l) => l.event === 'ready', 60_000)));
    phase('chaos over');

    // Converge: every record settled and every device that is up reports what its records say.
    type Rec = { id: number; deviceId: string; service: string; version: string; state: string; sha256: string; errorCode?: string };
    /** The newest record per (device, service): what the device should run now. */
    const latest = (): Map<string, Rec> => new Map(recs.map((r) => [`${r.deviceId}/${r.service}`, r]));
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
      const newest = latest();
      for (const r of recs) {
        if (!['ready', 'failed', 'rolled-back', 'undeployed'].includes(r.state)) {
          if (upIds().has(r.deviceId)) bad.push(`${r.deviceId}/${r.service} still ${r.state}`);
          continue;
        }
        if (!upIds().has(r.deviceId)) continue;
        // A version superseded by a newer deployment only has to be settled.
        if (newest.get(`${r.deviceId}/${r.service}`) !== r) continue;
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
      for (const i of idx) {
        const mine = recs.filter((r) => r.deviceId === `chaos-${i}` && r.service === svc);
        // A device that is down at the end may still be owed its deployment; it is never failed.
        const want = devices[i] ? ['ready'] : [expect.stringMatching(/^(offered|transferring|verifying|loading|ready)$/)];
        expect(mine.map((r) => r.state), `chaos-${i}/${svc} ${mine.map((r) => r.errorCode ?? '').join(',')}`).toEqual(want);
      }
    }

    /** A real inference on one device; routing follows a (re)started device within a STATE period, so retry a little. */
    const inferOn = async (svc: string, i: number): Promise<{ ok: boolean; code?: string; deviceId?: string; sha256?: string }> => {
      let r: { ok: boolean; code?: string; deviceId?: string; sha256?: string } = { ok: false };
      for (let attempt = 0; attempt < 40 && !r.ok; attempt++) {
        r = (await server.ask({ op: 'infer', service: svc, model: svc, deviceId: `chaos-${i}` }, 'inferred')) as unknown as typeof r;
        if (!r.ok) await new Promise((res) => setTimeout(res, 250));
      }
      return r;
    };
    // The blob devices that are up serve exactly the bytes of their newest deployment.
    for (const i of BLOB_DEVICES.filter((k) => devices[k])) {
      expect(await inferOn('blob', i), `blob on chaos-${i}`).toMatchObject({ ok: true, sha256: latest().get(`chaos-${i}/blob`)!.sha256 });
    }

    // Every device that is up answers a real inference for each of its services.
    for (const [svc, idx] of Object.entries(PLAN) as Array<[Service, number[]]>) {
      for (const i of idx.filter((k) => devices[k])) {
        expect(await inferOn(svc, i), `infer ${svc} on chaos-${i}`).toMatchObject({ ok: true, deviceId: `chaos-${i}` });
      }
    }

    phase('inferences answered');
    // Durability: a clean close, then the file itself.
    await server.ask({ op: 'close' }, 'closed');
    await server.exited;
    const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
    expect(db.pragmaValue('integrity_check')).toBe('ok');
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
