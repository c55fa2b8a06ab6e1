import { SqliteDb as Database } from '../../../src/device-mgmt/registry/sqlite-db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { freePort, startDeviceProcess, startServerProcess, type JsonProcess, type Line } from './child-processes.js';

/**
 * One crash scenario of issue 15 defect 4: a server process and a device process; a deployment of
 * the fixture MLP is driven to `at`, then `victim` is SIGKILLed the moment the server reports that
 * state, and started again on the same data directory. The pair must converge to what the device
 * really has: ready and serving (or unloaded, for an undeploy), never failed.
 */
export type CrashState = 'offered' | 'transferring' | 'verifying' | 'loading' | 'ready' | 'undeploying';

const MODEL_PATH = fileURLToPath(new URL('../../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const MODEL_SIZE = 3134;

export interface CrashOutcome {
  /** The deployment row in the registry file right after the kill (server victims). */
  stateOnDiskAfterKill?: string;
  record: { state: string; errorCode?: string; activeVersion?: string };
  deviceService?: { status: string; version: string };
  infer: { ok: boolean; code?: string; deviceId?: string };
  /** Every DEPLOY outcome the device reported, across its lives. */
  deviceDeployed: Line[];
  /** Service statuses the device reported at any point (a working service marked failed shows here). */
  deviceStatuses: string[];
}

export async function crashScenario(victim: 'server' | 'device', at: CrashState): Promise<CrashOutcome> {
  const dir = mkdtempSync(join(tmpdir(), `epara-kill-${victim}-${at}-`));
  const procs: JsonProcess[] = [];
  const deviceLines: Line[] = [];
  const track = (p: JsonProcess): JsonProcess => {
    procs.push(p);
    p.onLine((l) => { deviceLines.push(l); if (process.env.DBG) console.log("DEV", JSON.stringify(l)); });
    return p;
  };
  try {
    const port = await freePort();
    const dataDir = join(dir, 'server');
    let server = startServerProcess(dataDir, port);
    procs.push(server);
    if (process.env.DBG) server.onLine((l) => console.log('SRV1', JSON.stringify(l)));
    await server.wait((l) => l.event === 'ready');
    const { key } = (await server.ask({ op: 'provision', id: 'pi', deviceClass: 'microcomputer' }, 'provisioned')) as unknown as { key: string };
    // Small frames make the transfer long enough to land a kill inside it; a slow load makes
    // verifying / loading last long enough for the same.
    const devCfg = { id: 'pi', key, dataDir: join(dir, 'device'), port, maxFrame: 128, loadDelayMs: 700 };
    let device = track(startDeviceProcess(devCfg));
    await device.wait((l) => l.event === 'ready');
    await server.wait((l) => l.event === 'registered');

    const offline = victim === 'server' && at === 'offered';
    if (offline) {
      // The only way to hold a deployment in `offered` for sure: its device is not connected.
      await device.ask({ op: 'close' }, 'closed');
      await device.exited;
    }
    let seen = 0;
    // When to kill, judged from the server's progress lines or the device's own lines.
    const trigger = (l: Line, from: 'server' | 'device'): boolean => {
      // Server victim, verifying: the case. The device got DEPLOY_COMMIT, verified the
      // bytes and starts loading them; the server dies with the record at `verifying`, and the
      // device goes on to activate the version while the server is down.
      if (at === 'verifying' && victim === 'server') return from === 'device' && l.event === 'loading';
      if (from !== 'server' || l.event !== 'progress') return false;
      if (at === 'transferring') return l.state === 'transferring' && (l.offset as number) >= 0.4 * MODEL_SIZE;
      // The second `verifying` is the device's own report: DEPLOY_COMMIT reached it.
      if (at === 'verifying') return l.state === 'verifying' && ++seen === 2;
      return l.state === at;
    };
    let fired = false;
    const killed = new Promise<void>((resolve) => {
      const onLine = (from: 'server' | 'device') => (l: Line) => {
        // Once: the resumed deployment passes the same state again after the restart.
        if (fired || !trigger(l, from)) return;
        fired = true;
        const v = victim === 'server' ? server : device;
        v.child.kill('SIGKILL');
        resolve();
      };
      server.onLine(onLine('server'));
      device.onLine(onLine('device'));
    });
    server.send({ op: 'deploy', artifact: MODEL_PATH, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi'] });
    if (at === 'undeploying') {
      await server.wait((l) => l.event === 'progress' && l.state === 'ready');
      server.send({ op: 'undeploy', service: 'mlp' });
    }
    await killed;
    const out: Partial<CrashOutcome> = {};
    if (victim === 'server') {
      await server.exited;
      const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
      out.stateOnDiskAfterKill = (db.prepare(`SELECT state FROM deployments ORDER BY id DESC LIMIT 1`).get() as { state: string }).state;
      db.close();
      server = startServerProcess(dataDir, port);
      procs.push(server);
      if (process.env.DBG) server.onLine((l) => console.log('SRV2', JSON.stringify(l)));
      await server.wait((l) => l.event === 'ready');
      if (offline) {
        device = track(startDeviceProcess(devCfg));
        await device.wait((l) => l.event === 'ready');
      }
    } else {
      await device.exited;
      if (process.env.DBG) console.log('DEVICE KILLED');
      device = track(startDeviceProcess(devCfg));
      await device.wait((l) => l.event === 'ready');
    }

    // Converge: the record settles, and the device's own view agrees with it.
    const want = at === 'undeploying' ? 'undeployed' : 'ready';
    let record: CrashOutcome['record'] | undefined;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const recs = ((await server.ask({ op: 'records' }, 'records')).records as Array<CrashOutcome['record'] & { id: number }>).sort((a, b) => a.id - b.id);
      record = recs.at(-1);
      if (record && ['ready', 'failed', 'rolled-back', 'undeployed'].includes(record.state)) {
        const svc = ((await device.ask({ op: 'services' }, 'services')).services as Array<{ name: string; status: string; version: string }>).find((s) => s.name === 'mlp');
        out.deviceService = svc && { status: svc.status, version: svc.version };
        const deviceAgrees = want === 'ready' ? svc?.status === 'ready' : svc?.status !== 'ready';
        if (record.state !== want || deviceAgrees) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    out.record = record!;
    // Routing follows within one STATE period; a real inference answers (or, undeployed, none does).
    for (let i = 0; i < 25; i++) {
      out.infer = (await server.ask({ op: 'infer', service: 'mlp' }, 'inferred')) as unknown as CrashOutcome['infer'];
      if (out.infer.ok === (want === 'ready')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    out.deviceDeployed = deviceLines.filter((l) => l.event === 'deployed');
    out.deviceStatuses = deviceLines.flatMap((l) => ((l.services as Array<{ name: string; status: string }> | undefined) ?? []).filter((s) => s.name === 'mlp').map((s) => s.status));
    return out as CrashOutcome;
  } finally {
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What every scenario must end in, whichever side was killed. */
export function expectConverged(o: CrashOutcome, at: CrashState): void {
  if (at === 'undeploying') {
    expect(o.record).toMatchObject({ state: 'undeployed' });
    // The unload was persisted before the device answered, or it is sent again on reconnect.
    expect(o.deviceService?.status ?? 'unloaded').toBe('unloaded');
    expect(o.infer).toMatchObject({ ok: false, code: 'infer.no_device' });
  } else {
    expect(o.record).toMatchObject({ state: 'ready', activeVersion: '1' });
    expect(o.record.errorCode ?? undefined).toBeUndefined();
    expect(o.deviceService).toEqual({ status: 'ready', version: '1' });
    expect(o.infer).toMatchObject({ ok: true, deviceId: 'pi' });
  }
  // Never a failure on the device, and never its working service marked failed.
  expect(o.deviceDeployed.filter((l) => l.state !== 'ready')).toEqual([]);
  expect(o.deviceStatuses).not.toContain('failed');
}
