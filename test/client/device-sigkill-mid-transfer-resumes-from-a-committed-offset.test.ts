import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WRITE_BATCH } from '../../src/client/partial-transfer.js';
import { EparaServer } from '../../src/server-adapter/server.js';

const SCRIPT = fileURLToPath(new URL('./helpers/device-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Line = { event: string; nextOffset?: number; size?: number; state?: string };

function startDevice(port: number, id: string, key: string, dataDir: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', SCRIPT, String(port), id, key, dataDir], { cwd: ROOT, stdio: 'pipe' });
  const lines: Line[] = [];
  const waiters: Array<{ pred: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    let l: Line;
    try {
      l = JSON.parse(text) as Line;
    } catch {
      return;
    }
    lines.push(l);
    for (const w of waiters.splice(0)) (w.pred(l) ? w.resolve(l) : waiters.push(w));
  });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const wait = (pred: (l: Line) => boolean, capMs = 60_000): Promise<Line> => {
    const hit = lines.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`device process did not say it (last: ${JSON.stringify(lines.at(-1))})`)), capMs);
      waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  return { child, lines, exited, wait };
}

let dir: string | undefined;
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('device crash mid-transfer (a real SIGKILL of the device process)', () => {
  it('resumes from the offset committed to its file, never past what it had, and completes byte-exact', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-devkill-'));
    const server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500 }, rttProbeMs: 0 });
    await server.start();
    cleanup.push(() => server.close({ drainMs: 0 }));
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const { key } = server.provision({ id: 'crash-dev', deviceClass: 'microcomputer' });
    const deviceDir = join(dir, 'device');
    const artifact = new Uint8Array(48 << 20);
    for (let i = 0; i < artifact.length; i += 4096) artifact.fill((i >>> 12) * 37, i, i + 4096);
    for (let i = 0; i < artifact.length; i += 997) artifact[i] = i & 0xff;

    let dev = startDevice(port, 'crash-dev', key, deviceDir);
    cleanup.push(() => dev.child.kill('SIGKILL'));
    await dev.wait((l) => l.event === 'connected');
    let ackedBeforeKill = 0;
    let killed = false;
    const resumed: number[] = [];
    server.on('deployment-progress', (p) => {
      if (!killed) ackedBeforeKill = Math.max(ackedBeforeKill, p.offset);
      if (p.resumedFrom !== undefined) resumed.push(p.resumedFrom);
    });
    const [rec] = await server.deploy({ artifact, service: 'big', version: '1', kind: 'blob', category: 'latency-single', to: ['crash-dev'], wait: false });

    await dev.wait((l) => l.event === 'progress' && l.nextOffset! >= 8 << 20);
    dev.child.kill('SIGKILL');
    killed = true;
    expect(await dev.exited).toBe('SIGKILL');

    // What the killed device left: its partial file (every acknowledged chunk but at most the last
    // write batch was written to it) and the checkpoint of what was synced.
    const part = join(deviceDir, 'artifacts', 'partial', `${rec!.id}.part`);
    const onDisk = statSync(part).size;
    const ckpt = JSON.parse(readFileSync(join(deviceDir, 'artifacts', 'partial', `${rec!.id}.ckpt`), 'utf8')) as { offset: number };
    expect(onDisk).toBeGreaterThan(0);
    expect(onDisk).toBeLessThan(artifact.length);
    expect(onDisk).toBeGreaterThan(ackedBeforeKill - WRITE_BATCH);
    expect(ckpt.offset).toBeLessThanOrEqual(onDisk);
    // The file holds exactly the artifact's first bytes: nothing half-written is kept.
    expect(Buffer.compare(readFileSync(part), Buffer.from(artifact.subarray(0, onDisk)))).toBe(0);

    dev = startDevice(port, 'crash-dev', key, deviceDir);
    await dev.wait((l) => l.event === 'deployed' && l.state === 'ready', 120_000);
    const [after] = await server.waitSettled([rec!.id], 60_000);
    expect(after!.state).toBe('ready');
    // The resume started from the committed offset (same boot: the file's length), not from 0
    // and not past it.
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]).toBe(onDisk);
    const stored = readdirFind(join(deviceDir, 'artifacts'), (p) => p.endsWith('.blob'));
    expect(stored).toBeDefined();
    expect(createHash('sha256').update(readFileSync(stored!)).digest('hex')).toBe(createHash('sha256').update(artifact).digest('hex'));
    expect(existsSync(part)).toBe(false);
  }, 180_000);
});

function readdirFind(root: string, pred: (p: string) => boolean): string | undefined {
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) {
      const hit = readdirFind(p, pred);
      if (hit) return hit;
    } else if (pred(p)) return p;
  }
  return undefined;
}
