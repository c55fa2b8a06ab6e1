import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Servers and devices in child processes speaking JSON lines, for the crash tests: each can be
 * SIGKILLed at a chosen moment and started again on the same data directory.
 */
const SERVER_SCRIPT = fileURLToPath(new URL('./server-process.ts', import.meta.url));
const DEVICE_SCRIPT = fileURLToPath(new URL('./device-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type Line = { event: string; [k: string]: unknown };

/** A child process speaking JSON lines on stdout, taking JSON commands on stdin. */
export class JsonProcess {
  readonly lines: Line[] = [];
  private waiters: Array<{ pred: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  private listeners: Array<(l: Line) => void> = [];
  exited: Promise<NodeJS.Signals | number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        return;
      }
      this.lines.push(l);
      for (const f of this.listeners) f(l);
      this.waiters = this.waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  }

  /** Every line from now on (for a test that acts the moment a line arrives). */
  onLine(f: (l: Line) => void): void {
    this.listeners.push(f);
  }

  wait(pred: (l: Line) => boolean, capMs = 30_000, after = 0): Promise<Line> {
    const hit = this.lines.slice(after).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child process did not say it within ${capMs} ms`)), capMs);
      this.waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  }

  /** Sends a command and waits for the next line with the answering event. */
  async ask(cmd: { op: string; [k: string]: unknown }, event: string, capMs = 30_000): Promise<Line> {
    const from = this.lines.length;
    this.send(cmd);
    return this.wait((l) => l.event === event, capMs, from);
  }

  send(cmd: object): void {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function startServerProcess(dataDir: string, port: number, batchIntervalMs?: number): JsonProcess {
  const args = ['--import', 'tsx', SERVER_SCRIPT, dataDir, String(port), ...(batchIntervalMs !== undefined ? [String(batchIntervalMs)] : [])];
  return new JsonProcess(spawn(process.execPath, args, { cwd: ROOT, stdio: 'pipe' }));
}

export interface DeviceProcessConfig {
  id: string;
  key: string;
  dataDir: string;
  port: number;
  maxFrame?: number;
  loadDelayMs?: number;
  heartbeatMs?: number;
  /** Through an emulated lossy serial line (firmware-sims/links/serial-link.ts) instead of plain TCP. */
  lossy?: { lossRate: number; baud: number; seed: number };
}

export function startDeviceProcess(cfg: DeviceProcessConfig): JsonProcess {
  return new JsonProcess(spawn(process.execPath, ['--import', 'tsx', DEVICE_SCRIPT, JSON.stringify(cfg)], { cwd: ROOT, stdio: 'pipe' }));
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
