import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { stripAnsi } from '../../src/cli/output.js';
import { repoRoot } from './helpers.js';

/**
 * `epara` in a real terminal: a kernel pty made by util-linux `script`, so the command sees a TTY
 * on stdin/stdout/stderr, Ctrl-C (\x03) becomes SIGINT through the line discipline, and scripted
 * answers arrive as typed keys. node-pty would need a native build; `script` is in every Debian.
 */
export interface PtyRun {
  proc: ChildProcess;
  /** Everything the terminal showed so far, escapes removed. */
  text(): string;
  /** Raw terminal bytes (escapes kept). */
  raw(): string;
  type(keys: string): void;
  /** Resolves when `re` appears in the text after `from` (default 0); fails naming it after `ms`. */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<string>;
  exit: Promise<number>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function hasScript(): boolean {
  return spawnOk('script', ['--version']);
}

function spawnOk(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

export function eparaInPty(args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; cols?: number } = {}): PtyRun {
  // stty gives the pty a size (script leaves 0x0 when its own stdin is not a terminal).
  // script and stty come from this process's PATH; the command gets the PATH it was given.
  const path = o.env?.PATH !== undefined ? `PATH=${quote(o.env.PATH)} ` : '';
  const cmd = `stty cols ${o.cols ?? 100} rows 30; ${path}exec ${quote(process.execPath)} --import tsx ${quote(`${repoRoot}/src/cli/main.ts`)} ${args.map(quote).join(' ')}`;
  const proc = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: o.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: undefined, TERM: 'xterm', ...o.env, PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    raw += d.toString('utf8');
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<number>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
  return {
    proc,
    raw: () => raw,
    text: () => stripAnsi(raw),
    type: (keys) => proc.stdin!.write(keys),
    exit,
    waitFor: (re, ms = 30_000, from = 0) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const m = stripAnsi(raw).slice(from).match(re);
          if (m) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(m[0]);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in the terminal; it shows:\n${stripAnsi(raw).slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}
