import { SqliteDb as Database } from '../../src/device-mgmt/registry/sqlite-db.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { freePort, startServerProcess } from './helpers/child-processes.js';
import { RawDevice, rejection, until } from './helpers/raw-device.js';

const MODEL_PATH = fileURLToPath(new URL('../../fixtures/models/token-decoder.onnx', import.meta.url));
const MODEL = readFileSync(MODEL_PATH);
const ServerProcess = { start: startServerProcess };
let dir: string | undefined;
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('server crash mid-deployment', () => {
  it('SIGKILL during a transfer: the registry keeps the committed records and a restart resumes the transfer', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-crash-'));
    const dataDir = join(dir, 'server');
    const port = await freePort();

    const first = ServerProcess.start(dataDir, port);
    cleanup.push(() => first.child.kill('SIGKILL'));
    await first.wait((l) => l.event === 'ready');
    first.send({ op: 'provision', id: 'jetson-1', deviceClass: 'embedded-gpu' });
    const { key } = (await first.wait((l) => l.event === 'provisioned')) as unknown as { key: string };

    let killedAt = -1;
    const device = await EparaDevice.connect({
      id: 'jetson-1',
      key,
      deviceClass: 'embedded-gpu',
      dataDir: join(dir, 'device'),
      // Small frames: the model crosses in many chunks, so the kill lands mid-transfer.
      maxFrame: 128,
      connector: () => connectTcp({ host: '127.0.0.1', port }),
      reconnect: { initialMs: 50, maxMs: 300 },
      hooks: {
        chunkStored: (i) => {
          // Kill the server process the moment the device holds 40% of the artifact.
          if (killedAt < 0 && i.nextOffset >= 0.4 * i.size) {
            killedAt = i.nextOffset;
            first.child.kill('SIGKILL');
          }
        },
      },
    });
    cleanup.push(() => device.close());
    await first.wait((l) => l.event === 'registered');

    first.send({ op: 'deploy', artifact: MODEL_PATH, service: 'decoder', version: '7', kind: 'onnx', category: 'latency-multi', to: ['jetson-1'] });
    const { ids } = (await first.wait((l) => l.event === 'deploying')) as unknown as { ids: number[] };
    expect(await first.exited).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(MODEL.length);

    // The file as the crash left it: every committed registration and deployment record is there.
    const db = new Database(join(dataDir, 'registry.sqlite'));
    const dev = db.prepare(`SELECT id, device_class, status FROM devices`).all();
    expect(dev).toEqual([{ id: 'jetson-1', device_class: 'embedded-gpu', status: 'active' }]);
    expect((db.prepare(`SELECT count(*) AS n FROM device_keys WHERE device_id = 'jetson-1'`).get() as { n: number }).n).toBe(1);
    const row = db.prepare(`SELECT id, state, offset, size, sha256 FROM deployments`).get() as { id: number; state: string; offset: number; size: number; sha256: string };
    expect(row).toMatchObject({ id: ids[0], state: 'transferring', size: MODEL.length });
    expect(row.offset).toBeGreaterThanOrEqual(0);
    expect(row.offset).toBeLessThanOrEqual(killedAt);
    const persistedOffset = row.offset;
    db.close();

    // Restart on the same data directory and port; the device reconnects by itself.
    const second = ServerProcess.start(dataDir, port);
    cleanup.push(() => second.child.kill('SIGKILL'));
    await second.wait((l) => l.event === 'ready');
    const resumed = await second.wait((l) => l.event === 'progress' && typeof l.resumedFrom === 'number');
    expect(resumed.deploymentId).toBe(ids[0]);
    expect(resumed.resumedFrom as number).toBeGreaterThanOrEqual(persistedOffset);
    expect(resumed.resumedFrom as number).toBeGreaterThan(0);
    const done = await second.wait((l) => l.event === 'progress' && l.state === 'ready');
    expect(done.deploymentId).toBe(ids[0]);
    // Nothing before the resume point was sent again.
    const transferEvents = second.lines.filter((l) => l.event === 'progress' && l.state === 'transferring') as unknown as Array<{ offset: number }>;
    expect(Math.min(...transferEvents.map((e) => e.offset))).toBeGreaterThanOrEqual(resumed.resumedFrom as number);
    second.send({ op: 'close' });
    expect(await second.exited).toBe(0);
    const db2 = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
    expect(db2.prepare(`SELECT state, offset FROM deployments WHERE id = ?`).get(ids[0])).toEqual({ state: 'ready', offset: MODEL.length });
    db2.close();
  });

  it('SIGKILL right after a refused handshake: the auth failure is already in the registry file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-crash-'));
    const dataDir = join(dir, 'server');
    const port = await freePort();
    // Routine rows wait up to 5 s for their batch, so only an immediate commit can survive the kill.
    const proc = ServerProcess.start(dataDir, port, 5000);
    cleanup.push(() => proc.child.kill('SIGKILL'));
    await proc.wait((l) => l.event === 'ready');
    proc.send({ op: 'provision', id: 'victim', deviceClass: 'mcu' });
    await proc.wait((l) => l.event === 'provisioned');

    const attacker = await RawDevice.connect(port);
    cleanup.push(() => attacker.close().catch(() => undefined));
    await attacker.hello('victim');
    const wrongKey = keyFromHex('11'.repeat(32));
    expect((await rejection(attacker.auth('victim', wrongKey))).code).toBe('auth.bad_mac');
    await until(() => attacker.closed);
    proc.child.kill('SIGKILL');
    expect(await proc.exited).toBe('SIGKILL');

    const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
    const rows = db.prepare(`SELECT event, device_id AS deviceId FROM audit ORDER BY id`).all();
    db.close();
    expect(rows).toEqual([
      { event: 'device.provisioned', deviceId: 'victim' },
      { event: 'auth.bad_mac', deviceId: 'victim' },
    ]);
  });
});
