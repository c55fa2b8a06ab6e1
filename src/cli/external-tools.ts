import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { CliError } from './cli-error.js';

/** The external programs the CLI drives, and how a Debian/Ubuntu user gets each one. */
export const TOOLS = {
  bluetoothctl: { pkg: 'bluez', why: 'pairs the HC-05 (scan, pair with the PIN, trust)' },
  rfcomm: { pkg: 'bluez', why: 'binds the paired HC-05 to /dev/rfcommN' },
  openFPGALoader: { pkg: 'openfpgaloader', why: 'programs the Basys 3 over its FTDI JTAG' },
} as const;

export type ToolName = keyof typeof TOOLS;

/** Look a program up on PATH the way a shell does (first executable regular file wins). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function toolMissing(name: ToolName): CliError {
  const t = TOOLS[name];
  return new CliError({
    code: 'cli.tool_missing',
    reason: `${name} is not installed or not on PATH (it ${t.why})`,
    hint: `install it with: sudo apt-get install ${t.pkg}   (Debian/Ubuntu/Raspberry Pi OS), then run the command again`,
    details: { tool: name, package: t.pkg },
  });
}

/** Resolve a tool or throw the install hint. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv): string {
  const path = findOnPath(name, env);
  if (!path) throw toolMissing(name);
  return path;
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a tool to completion. Output is capped (a misbehaving tool must not eat memory) and a
 * timeout kills it, so the CLI never hangs on a stuck USB cable.
 */
export function runTool(
  path: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; timeoutMs: number; onStderr?: (chunk: string) => void; onStdout?: (chunk: string) => void },
): Promise<ToolResult> {
  const cap = 1 << 20;
  return new Promise((resolvePromise, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(path, [...args], { env: opts.env, stdio: 'pipe' });
    } catch (cause) {
      reject(spawnFailed(path, cause));
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < cap) stdout += d;
      opts.onStdout?.(d);
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < cap) stderr += d;
      opts.onStderr?.(d);
    });
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(spawnFailed(path, cause));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export function spawnFailed(path: string, cause: unknown): CliError {
  return new CliError({
    code: 'cli.tool_failed',
    reason: `could not start ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
    hint: 'check that the file is executable and not a broken link',
    cause,
  });
}
