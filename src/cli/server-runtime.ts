import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './cli-error.js';

/**
 * How the other commands find a running `epara serve`: it writes <data dir>/serve.json (pid and
 * the HTTP API's URL) while it runs, and keeps the API's bearer token in <data dir>/http-token
 * (mode 0600). `register`, `devices`, `deploy`, `undeploy` and `infer` read both.
 */
export interface ServeRuntime {
  pid: number;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:40213 */
  http: string;
  links: string[];
  startedAt: number;
}

export const RUNTIME_FILE = 'serve.json';
export const TOKEN_FILE = 'http-token';

export function writeRuntime(dataDir: string, r: ServeRuntime): void {
  writeFileSync(join(dataDir, RUNTIME_FILE), JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
}

export function removeRuntime(dataDir: string, pid: number): void {
  const r = readRuntime(dataDir);
  // Only remove our own file: a second server on the same dir must not lose its pointer.
  if (r && r.pid === pid) rmSync(join(dataDir, RUNTIME_FILE), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running server for this data dir, or undefined (no file, or its process is gone). */
export function readRuntime(dataDir: string): ServeRuntime | undefined {
  const path = join(dataDir, RUNTIME_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as ServeRuntime;
    if (typeof r.pid !== 'number' || typeof r.http !== 'string') return undefined;
    return alive(r.pid) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTP token: the one given, else the stored one, else a new CSPRNG token stored 0600. */
export function loadOrCreateToken(dataDir: string, given: string | undefined): string {
  if (given !== undefined) {
    if (given.length < 16) throw new CliError({ code: 'cli.usage', reason: '--http-token must be at least 16 characters', hint: 'leave it out and one is generated in <data dir>/http-token', field: 'http-token', usage: true });
    return given;
  }
  const path = join(dataDir, TOKEN_FILE);
  if (existsSync(path)) {
    const t = readFileSync(path, 'utf8').trim();
    if (t.length >= 16) return t;
  }
  const t = randomBytes(24).toString('hex');
  writeFileSync(path, t + '\n', { mode: 0o600 });
  return t;
}

export function readToken(dataDir: string): string | undefined {
  try {
    const t = readFileSync(join(dataDir, TOKEN_FILE), 'utf8').trim();
    return t.length >= 16 ? t : undefined;
  } catch {
    return undefined;
  }
}
