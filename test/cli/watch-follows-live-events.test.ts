import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliContext } from '../../src/cli/context.js';
import { epara, repoRoot, sandbox, until, type RunResult, type Sandbox } from './helpers.js';
import { eparaInPty, hasScript } from './pty.js';

// Issue 20 §1: `epara devices --watch` and `epara deployments --watch` print the table, then one
// line per live event from GET /events, reconnect (resuming with Last-Event-ID) when the server
// goes away and comes back, and stop cleanly on Ctrl-C. Against a real `epara serve` and
// `epara fleet`, in-process like server-e2e.test.ts.

/** `epara …` running until `stop()`, its stdout and stderr readable while it runs. */
function live(args: string[], env: NodeJS.ProcessEnv) {
  const ac = new AbortController();
  const mk = () => {
    const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
    s.isTTY = false;
    s.columns = 120;
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('utf8')));
    return { s, text: () => text };
  };
  const out = mk();
  const err = mk();
  const ctx: CliContext = { stdout: out.s, stderr: err.s, stdin: new PassThrough(), env, cwd: process.cwd(), signal: ac.signal };
  const code = runCli(args, ctx);
  return {
    stdout: out.text,
    stderr: err.text,
    /** Resolves when stdout (or stderr) matches. */
    waitFor: (re: RegExp, where: 'stdout' | 'stderr' = 'stdout') => until(`${re} in ${where} of epara ${args.join(' ')}`, () => (re.test(where === 'stdout' ? out.text() : err.text()) ? true : undefined)),
    stop: async () => {
      ac.abort();
      return code;
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let sb: Sandbox;
let dd: string[];
let tcpPort: number;
let serve: { ac: AbortController; run: Promise<RunResult> } | undefined;
const MODEL = join(repoRoot, 'fixtures', 'models', 'mlp-classifier.onnx');

async function startServe(): Promise<void> {
  const ac = new AbortController();
  const run = epara([...dd, 'serve', '--tcp', `127.0.0.1:${tcpPort}`, '--http', '127.0.0.1:0', '--heartbeat-ms', '500', '--state-sync-ms', '200'], { env: sb.env, signal: ac.signal });
  serve = { ac, run };
  await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
}
async function stopServe(): Promise<void> {
  serve?.ac.abort();
  await serve?.run;
  serve = undefined;
}

beforeAll(async () => {
  sb = sandbox({ fakeTools: false });
  dd = ['--data-dir', sb.dataDir];
  tcpPort = await freePort();
  await startServe();
}, 30_000);

afterAll(async () => {
  await stopServe();
  sb?.cleanup();
});

describe('--watch follows GET /events of a running epara serve', () => {
  it('devices --watch: the table, then fleet devices registering and their STATE; deployments --watch: progress and the result; both resume after a server restart and stop cleanly', async () => {
    const devices = live([...dd, 'devices', '--watch'], sb.env);
    await devices.waitFor(/no devices yet/);
    await devices.waitFor(/watching live events; Ctrl-C stops/, 'stderr');

    const fleetStop = new AbortController();
    const fleet = epara([...dd, 'fleet', '--devices', '2', '--profile', 'microcomputer', '--time-scale', '0', '--seed', '4'], { env: sb.env, signal: fleetStop.signal });
    try {
      // Live lines, as the fleet connects: registered, then STATE summaries.
      await devices.waitFor(/\d\d:\d\d:\d\d {2}microcomputer-1 {2}registered microcomputer from 127\.0\.0\.1:\d+/);
      await devices.waitFor(/microcomputer-2 {2}registered/);
      await devices.waitFor(/microcomputer-1 {2}load \d+% {2}mem free/);

      const deployments = live([...dd, 'deployments', '--watch'], sb.env);
      await deployments.waitFor(/no deployments/);
      await deployments.waitFor(/watching live events/, 'stderr');
      const dep = await epara([...dd, 'deploy', MODEL, '--service', 'classifier', '--version', '1', '--category', 'latency-single', '--to', 'microcomputer-1', '--json'], { env: sb.env });
      expect(dep.code, dep.stderr).toBe(0);
      await deployments.waitFor(/microcomputer-1 {2}#\d+ classifier@1 ready/);
      expect(deployments.stdout()).toMatch(/#\d+ classifier@1 (offered|transferring|verifying|loading) /);
      // Device lines stay out of deployments --watch, and deployment lines out of devices --watch.
      expect(deployments.stdout()).not.toMatch(/registered/);
      expect(devices.stdout()).not.toMatch(/classifier@1/);

      // The server restarts: both reconnect, resuming with their Last-Event-ID; the new server
      // cannot serve it (another run), says so with a gap, and the table is printed afresh.
      await stopServe();
      await devices.waitFor(/event stream interrupted/, 'stderr');
      await startServe();
      await devices.waitFor(/event stream resumed/, 'stderr');
      await devices.waitFor(/missed events \(restart\); current state follows/);
      await deployments.waitFor(/missed events \(restart\)/);
      await until('the device table again after the gap', () => (/missed events \(restart\)[^]*\nID\s+CLASS\s+NAME\s+STATUS/.test(devices.stdout()) ? true : undefined));
      await until('the deployments table again after the gap', () => (/missed events \(restart\)[^]*\n\s*ID\s+DEVICE\s+SERVICE/.test(deployments.stdout()) ? true : undefined));
      // The fleet comes back to the same port and the watch shows it.
      await devices.waitFor(/missed events \(restart\)[^]*microcomputer-1 {2}registered/);

      // Ctrl-C (the abort that stands in for it in-process): exit 0, no error.
      expect(await devices.stop()).toBe(0);
      expect(await deployments.stop()).toBe(0);
      expect(devices.stderr()).not.toMatch(/^error /m);
    } finally {
      fleetStop.abort();
      await fleet.catch(() => undefined);
    }
  }, 90_000);

  it('--json prints one event per line; a wrong token is a typed error, not a retry loop', async () => {
    const j = live([...dd, 'devices', '--watch', '--json'], sb.env);
    await j.waitFor(/watching live events/, 'stderr');
    const r = await epara([...dd, 'register', 'pi-w', '--class', 'microcomputer', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    await j.waitFor(/device\.provisioned.*pi-w|pi-w.*device\.provisioned/);
    expect(await j.stop()).toBe(0);
    const lines = j.stdout().trim().split('\n');
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ id: expect.stringMatching(/^[0-9a-z]+-\d+$/), kind: expect.any(String) });
    const bad = await epara([...dd, 'devices', '--watch', '--token', 'not-the-token'], { env: sb.env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cli\.server_token/);
    // No server at all: said at once, not waited for.
    const none = await epara(['--data-dir', join(sb.root, 'empty'), 'deployments', '--watch'], { env: sb.env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/cli\.server_not_running/);
  });
});

describe.skipIf(!hasScript())('Ctrl-C on epara devices --watch in a terminal', () => {
  it('exits 0', async () => {
    const w = eparaInPty([...dd, 'devices', '--watch'], { env: { HOME: sb.env.HOME } });
    await w.waitFor(/watching live events; Ctrl-C stops/);
    w.type('\x03');
    expect(await w.exit).toBe(0);
    expect(w.text()).not.toMatch(/^error /m);
  }, 30_000);
});

