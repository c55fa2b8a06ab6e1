/**
 * Builds device-c/ with its Makefile for a test file, each file into its own output directory
 * (test files run in parallel workers: one shared build directory would race), and spawns the
 * POSIX example device.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const DEVICE_C_DIR = fileURLToPath(new URL('../../device-c', import.meta.url));
export const VECTORS_DIR = fileURLToPath(new URL('../../protocol/vectors', import.meta.url));

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Why the C tests cannot run here, or undefined when cc and make are installed. */
export function missingCompiler(): string | undefined {
  const missing = ['cc', 'make'].filter((t) => !have(t));
  if (missing.length === 0) return undefined;
  const why = `${missing.join(', ')} not installed (apt-get install -y gcc make; .ci/run installs them)`;
  console.warn(`[device-c] SKIPPED: ${why}`);
  return why;
}

/** `make <targets>` with OUT=build/<name>; returns the output directory. Throws with make's output on failure. */
export function makeDeviceC(name: string, targets: string[]): string {
  const out = join('build', name);
  const r = spawnSync('make', ['-s', `OUT=${out}`, ...targets], { cwd: DEVICE_C_DIR, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`make ${targets.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return join(DEVICE_C_DIR, out);
}

export interface RunningDevice {
  proc: ChildProcess;
  log(): string;
  /** Resolves once the device logged this text (or rejects after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startDevice(binary: string, args: string[]): RunningDevice {
  const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const waiters: Array<() => void> = [];
  proc.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    proc,
    log: () => log,
    waitFor(text, timeoutMs = 20_000) {
      const hit = () => (typeof text === 'string' ? log.includes(text) : text.test(log));
      return new Promise((resolve, reject) => {
        if (hit()) return resolve();
        const timer = setTimeout(() => reject(new Error(`device never logged ${String(text)}; log:\n${log}`)), timeoutMs);
        const check = () => {
          if (hit()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        waiters.push(check);
      });
    },
    stop(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      });
    },
  };
}
