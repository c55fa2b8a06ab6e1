import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '../../src/device-mgmt/identity.js';
import type { Message } from '../../src/protocol/index.js';
import { RawDevice } from './helpers/raw-device.js';

const SCRIPT = fileURLToPath(new URL('./helpers/memory-server-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1 << 20;

type Line = { event: string; [k: string]: unknown };

function startServer(dataDir: string) {
  // A 4 MiB young generation: with V8's default (semi-spaces grown up to 16 MiB, three of them)
  // the peak includes up to ~50 MiB of heap V8 sizes for allocation rate, whatever the artifact's
  // size, and a chunk's wire buffer waits for the next scavenge; measured: peak growth 70 MiB with
  // the default, 40 MiB with this. What the test pins is that nothing grows with the artifact.
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=4', '--import', 'tsx', SCRIPT, dataDir], { cwd: ROOT, stdio: 'pipe' });
  const queue: Line[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (t) => {
    try {
      queue.push(JSON.parse(t) as Line);
      wake?.();
    } catch {
      /* not ours */
    }
  });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const next = async (event: string, capMs = 120_000): Promise<Line> => {
    const t0 = Date.now();
    for (;;) {
      const i = queue.findIndex((l) => l.event === event || l.event === 'error');
      if (i >= 0) {
        const [l] = queue.splice(i, 1);
        if (l!.event === 'error') throw new Error(`server process: ${JSON.stringify(l!.error)}`);
        return l!;
      }
      if (Date.now() - t0 > capMs) throw new Error(`server process did not say ${event}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
  };
  const send = (cmd: object): void => void child.stdin.write(JSON.stringify(cmd) + '\n');
  return { child, next, send };
}

/** Writes `size` bytes of a non-zero pattern straight into the store, named by their SHA-256, in 1 MiB pieces. */
function storeArtifact(dataDir: string, size: number, seed: number): string {
  const dir = join(dataDir, 'artifacts');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `gen-${seed}.tmp`);
  const block = new Uint8Array(randomBytes(MiB));
  const h = createHash('sha256');
  const fd = openSync(tmp, 'w');
  for (let at = 0, i = 0; at < size; at += MiB, i++) {
    block[0] = (i + seed) & 0xff;
    block[1] = (i >>> 8) & 0xff;
    const piece = block.subarray(0, Math.min(MiB, size - at));
    writeSync(fd, piece);
    h.update(piece);
  }
  closeSync(fd);
  const sha = h.digest('hex');
  renameSync(tmp, join(dir, `${sha}.bin`));
  return sha;
}

/** A device that keeps nothing: it hashes the chunks as they come and says whether the hash matched. */
async function hashingDevice(port: number, key: string) {
  const dev = await RawDevice.connect(port);
  let hash = createHash('sha256');
  let next = 0;
  let want = '';
  let received = 0;
  dev.handler = (m: Message) => {
    if (m.type === 'DEPLOY_OFFER') {
      hash = createHash('sha256');
      next = 0;
      want = Buffer.from(m.sha256).toString('hex');
      return { type: 'DEPLOY_ACCEPT', deploymentId: m.deploymentId, nextOffset: 0, window: 16 };
    }
    if (m.type === 'DEPLOY_CHUNK') {
      if (m.offset === next) {
        hash.update(m.data);
        next += m.data.length;
        received += m.data.length;
      }
      return { type: 'DEPLOY_CHUNK_ACK', deploymentId: m.deploymentId, nextOffset: next };
    }
    if (m.type === 'DEPLOY_COMMIT') {
      const ok = hash.digest('hex') === want;
      return ok ? { type: 'DEPLOY_RESULT', deploymentId: m.deploymentId, state: 'ready', activeVersion: 'v' } : { type: 'DEPLOY_RESULT', deploymentId: m.deploymentId, state: 'failed', code: 400 };
    }
    return undefined;
  };
  await dev.register('mem-dev', keyFromHex(key), { maxFrame: 65535, rxWindow: 16 });
  const beat = setInterval(() => void dev.heartbeat().catch(() => undefined), 1000);
  return { dev, received: () => received, stop: () => (clearInterval(beat), dev.close()) };
}

let dir: string | undefined;
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('server memory while deploying (issue 15, defect 5)', () => {
  it('a 500 MiB artifact deploys with server RSS growth under 64 MiB; settled and undeployed artifacts leave nothing held', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-mem-'));
    const dataDir = join(dir, 'server');
    const s = startServer(dataDir);
    cleanup.push(() => s.child.kill('SIGKILL'));
    const { port } = (await s.next('ready')) as unknown as { port: number };
    s.send({ op: 'provision', id: 'mem-dev', deviceClass: 'microcomputer' });
    const { key } = (await s.next('provisioned')) as unknown as { key: string };
    const big = storeArtifact(dataDir, 500 * MiB, 1);
    const dev = await hashingDevice(port, key);
    cleanup.push(() => dev.stop());

    s.send({ op: 'reset-peak' });
    const before = (await s.next('peak-reset')) as unknown as { rss: number };
    s.send({ op: 'deploy', artifact: { sha256: big }, service: 'big', version: '1', kind: 'blob', category: 'latency-single', to: ['mem-dev'] });
    const done = (await s.next('deployed', 180_000)) as unknown as { records: Array<{ state: string }> };
    expect(done.records[0]!.state).toBe('ready');
    expect(dev.received()).toBe(500 * MiB);
    s.send({ op: 'memory' });
    const after = (await s.next('memory')) as unknown as { rss: number; peak: number };
    const growth = after.peak - before.rss;
    console.log(`500 MiB deploy: server RSS ${(before.rss / MiB).toFixed(0)} MiB before, peak ${(after.peak / MiB).toFixed(0)} MiB (growth ${(growth / MiB).toFixed(1)} MiB)`);
    expect(growth).toBeLessThan(64 * MiB);

    // Distinct artifacts, each deployed, settled and undeployed: what the server holds afterwards
    // does not grow with them (it used to keep each one's bytes for good, +20 MB per artifact).
    s.send({ op: 'memory' });
    const base = (await s.next('memory')) as unknown as { rss: number };
    for (let i = 0; i < 4; i++) {
      const sha = storeArtifact(dataDir, 24 * MiB, 10 + i);
      s.send({ op: 'deploy', artifact: { sha256: sha }, service: `svc${i}`, version: '1', kind: 'blob', category: 'latency-single', to: ['mem-dev'] });
      expect(((await s.next('deployed')) as unknown as { records: Array<{ state: string }> }).records[0]!.state).toBe('ready');
      s.send({ op: 'undeploy', service: `svc${i}` });
      await s.next('undeployed');
    }
    s.send({ op: 'memory' });
    const end = (await s.next('memory')) as unknown as { rss: number };
    console.log(`4 x 24 MiB deployed and undeployed: server RSS ${(base.rss / MiB).toFixed(0)} -> ${(end.rss / MiB).toFixed(0)} MiB`);
    expect(end.rss - base.rss).toBeLessThan(24 * MiB);
  }, 240_000);
});
