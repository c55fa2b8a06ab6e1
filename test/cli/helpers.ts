import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';
import type { CliContext } from '../../src/cli/context.js';
import { expect } from 'vitest';

export const here = dirname(fileURLToPath(import.meta.url));
export const fakeBin = join(here, 'fake-bin');
export const transcripts = join(fakeBin, 'transcripts');
export const repoRoot = join(here, '..', '..');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

/** A sandbox: temp data dir, a PATH holding only the fake tools and `node`, a call log. */
export interface Sandbox {
  root: string;
  dataDir: string;
  log: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function sandbox(opts: { fakeTools?: boolean; scenario?: string } = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'epara-cli-'));
  const nodeDir = join(root, 'node-bin');
  mkdirSync(nodeDir);
  // Only `node` and the fakes are on PATH, so a real openFPGALoader/bluez on the machine can never answer.
  symlinkSync(process.execPath, join(nodeDir, 'node'));
  const dataDir = join(root, 'data');
  const log = join(root, 'calls.jsonl');
  const env: NodeJS.ProcessEnv = {
    PATH: [opts.fakeTools === false ? undefined : fakeBin, nodeDir].filter(Boolean).join(':'),
    HOME: join(root, 'home'),
    FAKE_BIN_LOG: log,
    ...(opts.scenario ? { FAKE_SCENARIO: join(transcripts, opts.scenario) } : {}),
  };
  return { root, dataDir, log, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Run `epara <args>` in-process with capture streams. */
export async function epara(args: string[], o: { env?: NodeJS.ProcessEnv; tty?: boolean; cwd?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
  const mk = () => {
    const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
    s.isTTY = o.tty ?? false;
    s.columns = 100;
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('utf8')));
    return { s, text: () => text };
  };
  const out = mk();
  const err = mk();
  const ctx: CliContext = { stdout: out.s, stderr: err.s, stdin: new PassThrough(), env: o.env ?? {}, cwd: o.cwd ?? process.cwd(), signal: o.signal };
  const code = await runCli(args, ctx);
  await new Promise((r) => setImmediate(r));
  const stdout = out.text();
  return { code, stdout, stderr: err.text(), json: <T>() => JSON.parse(stdout) as T };
}

/** A scripted HC-05 behind a kernel pty (socat), as if on a USB-UART adapter. */
export async function startHc05(dir: string, responderArgs: string[] = []): Promise<{ path: string; stop(): Promise<void>; proc: ChildProcess }> {
  const path = join(dir, `ttyUSB-hc05-${Math.random().toString(16).slice(2, 8)}`);
  const responder = join(fakeBin, 'hc05-responder.mjs');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${path}`, `EXEC:${process.execPath} ${responder} ${responderArgs.join(' ')}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(path)) throw new Error('socat did not create the pty');
  return {
    path,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await done;
      }
    },
  };
}

export function calls(log: string): Array<{ tool: string; args: string[]; input: string[] }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l: string) => JSON.parse(l));
}

/** Polls `fn` every 100 ms until it returns something other than undefined; fails naming `what`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `epara devices show ID --json` against a data dir (`dd` = ['--data-dir', dir]). */
export async function deviceShown<T extends { state: string } = { state: string; remote?: string; status?: string }>(dd: string[], env: NodeJS.ProcessEnv, id: string): Promise<T> {
  return (await epara([...dd, 'devices', 'show', id, '--json'], { env })).json<T>();
}

/** Deploys the fixture MLP classifier to one device and infers once: both must succeed, on that device. */
export async function deployClassifierAndInfer(dd: string[], env: NodeJS.ProcessEnv, deviceId: string): Promise<void> {
  const dep = await epara([...dd, 'deploy', join(repoRoot, 'fixtures/models/mlp-classifier.onnx'), '--service', 'classifier', '--category', 'latency-single', '--to', deviceId, '--json'], { env });
  expect(dep.code).toBe(0);
  expect(dep.json<{ deployments: Array<{ state: string }> }>().deployments[0]!.state).toBe('ready');
  const inf = await epara([...dd, 'infer', 'classifier', '--input', JSON.stringify([Array(16).fill(0.5)]), '--json'], { env });
  expect(inf.code).toBe(0);
  expect(inf.json<{ deviceId: string }>().deviceId).toBe(deviceId);
}
