import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epara, repoRoot, sandbox, until, type RunResult, type Sandbox } from './helpers.js';

// One server and one emulated fleet for the whole file, each run as `epara serve` / `epara fleet`
// in-process (stopped through the abort signal that stands in for Ctrl-C).
let sb: Sandbox;
let dd: string[];
let stopServe: AbortController;
let stopFleet: AbortController;
let serveRun: Promise<RunResult>;
let fleetRun: Promise<RunResult>;
const MODEL = join(repoRoot, 'fixtures', 'models', 'mlp-classifier.onnx');
const INPUT = JSON.stringify([Array.from({ length: 16 }, (_, i) => i / 10)]);


type Dev = { id: string; state: string; status: string; deviceClass: string };

beforeAll(async () => {
  sb = sandbox({ fakeTools: false });
  dd = ['--data-dir', sb.dataDir];
  // Offline first: no server yet, register goes straight to the registry in the data dir.
  const offline = await epara([...dd, 'register', 'fpga-01', '--class', 'fpga', '--name', 'Basys 3', '--init', '--json'], { env: sb.env });
  expect(offline.code).toBe(0);
  expect(offline.json()).toMatchObject({ id: 'fpga-01', deviceClass: 'fpga', via: 'registry' });
  stopServe = new AbortController();
  serveRun = epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--heartbeat', '500'], { env: sb.env, signal: stopServe.signal, tty: true });
  await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
  stopFleet = new AbortController();
  fleetRun = epara([...dd, 'fleet', '--devices', '2', '--profile', 'microcomputer', '--time-scale', '0', '--seed', '3'], { env: sb.env, signal: stopFleet.signal });
  await until('two active emulated devices', async () => {
    const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
    const list = r.code === 0 ? r.json<Dev[]>() : [];
    return list.filter((d) => d.state === 'active').length === 2 ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  stopFleet?.abort();
  await fleetRun?.catch(() => undefined);
  stopServe?.abort();
  await serveRun?.catch(() => undefined);
  sb?.cleanup();
});

describe('epara serve + register + devices + deploy + infer + undeploy against an emulated fleet', () => {
  it('serve writes serve.json and a 0600 token; devices lists registry and live sessions', async () => {
    const rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { http: string; links: string[] };
    expect(rt.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(rt.links[0]).toMatch(/^tcp 127\.0\.0\.1:\d+$/);
    expect(statSync(join(sb.dataDir, 'http-token')).mode & 0o777).toBe(0o600);
    const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
    const list = r.json<Dev[]>();
    expect(list.map((d) => d.id).sort()).toEqual(['fpga-01', 'microcomputer-1', 'microcomputer-2']);
    expect(list.find((d) => d.id === 'fpga-01')).toMatchObject({ state: 'offline', status: 'active' });
    const table = await epara([...dd, 'devices'], { env: sb.env });
    expect(table.stdout).toMatch(/^ID\s+CLASS\s+NAME\s+STATUS\s+SESSION\s+LAST SEEN\s+LINK$/m);
    expect(table.stdout).toMatch(/^microcomputer-1\s+microcomputer\s+.*active\s+active\s+now\s+127\.0\.0\.1:\d+$/m);
  });

  it('register through the running server prints the key once; a duplicate id is a typed error', async () => {
    const r = await epara([...dd, 'register', 'pi-01', '--class', 'microcomputer', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    const res = r.json<{ key: string; via: string; uri: string }>();
    expect(res.via).toBe('server');
    expect(res.key).toMatch(/^[0-9a-f]{64}$/);
    expect(res.uri).toBe(`epara://device?id=pi-01&class=microcomputer&key=${res.key}`);
    const human = await epara([...dd, 'register', 'pi-02', '--class', 'microcomputer', '--qr'], { env: sb.env });
    expect(human.stdout).toMatch(/key: [0-9a-f]{64}/);
    expect(human.stdout).toContain('▄'); // the QR code
    expect(human.stdout).toContain('key=<key>'); // the URI under the QR code does not repeat the key
    const dup = await epara([...dd, 'register', 'pi-01', '--class', 'microcomputer', '--json'], { env: sb.env });
    expect(dup.code).toBe(1);
    expect(dup.json<{ error: { code: string } }>().error.code).toBe('registry.duplicate');
    const badClass = await epara([...dd, 'register', 'x-1', '--class', 'toaster'], { env: sb.env });
    expect(badClass.code).toBe(2);
  });

  it('deploy sends the ONNX model to every microcomputer and reports a summary', async () => {
    const r = await epara([...dd, 'deploy', MODEL, '--service', 'classifier', '--category', 'latency-single', '--to', 'microcomputer', '--version', '1.0.0', '--json'], { env: sb.env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const res = r.json<{ deployments: Array<{ deviceId: string; state: string; bytes: number; size: number }> }>();
    const live = res.deployments.filter((d) => d.deviceId.startsWith('microcomputer-'));
    expect(live.map((d) => d.state)).toEqual(['ready', 'ready']);
    for (const d of live) expect(d.bytes).toBe(d.size);
    // pi-01/pi-02 never connected: their deployments wait for them.
    // One name for the state (issue 21, defect 8): `offered`, as `epara deployments` says.
    expect(res.deployments.filter((d) => d.deviceId.startsWith('pi-')).map((d) => d.state)).toEqual(['offered', 'offered']);
  });

  it('deploy on a terminal draws a progress bar per device', async () => {
    const r = await epara([...dd, 'deploy', MODEL, '--service', 'classifier2', '--category', 'latency-single', '--to', 'microcomputer-1,microcomputer-2'], { env: sb.env, tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/microcomputer-1 .*█+.*100% \| 3\.1 KiB\/3\.1 KiB/);
    expect(r.stderr).toMatch(/microcomputer-2 .*█+.*100%/);
    expect(r.stdout).toMatch(/2\/2 ready/);
    // Before the first bytes there is no rate, so no ETA either (it printed `ETA NFs`).
    expect(r.stderr).not.toMatch(/NFs|NaN|Infinity/);
    expect(r.stderr).toMatch(/ETA - \|/);
  });

  it('deploy prints the reason and hint of a failure; a text file as onnx is refused before anything is sent', async () => {
    const broken = join(repoRoot, 'fixtures', 'models', 'broken.onnx');
    const r = await epara([...dd, 'deploy', broken, '--service', 'brk', '--category', 'latency-single', '--to', 'microcomputer-1', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const d = r.json<{ deployments: Array<{ state: string; error: { code: string; reason: string; hint: string } }> }>().deployments[0]!;
    expect(d.state).toBe('failed');
    expect(d.error.code).toBe('deploy.load_failed');
    expect(d.error.reason.length).toBeGreaterThan(10);
    expect(d.error.hint.length).toBeGreaterThan(10);
    const table = await epara([...dd, 'deploy', broken, '--service', 'brk2', '--category', 'latency-single', '--to', 'microcomputer-1'], { env: sb.env });
    expect(table.stdout).toContain(`deploy.load_failed: ${d.error.reason}`);
    expect(table.stdout).toContain(`microcomputer-1 hint: ${d.error.hint}`);
    const readme = join(sb.root, 'README.onnx');
    writeFileSync(readme, readFileSync(join(repoRoot, 'README.md')));
    const text = await epara([...dd, 'deploy', readme, '--service', 'txt', '--category', 'latency-single', '--to', 'microcomputer-1', '--json'], { env: sb.env });
    expect(text.code).toBe(1);
    expect(text.json<{ error: { code: string; reason: string } }>().error).toMatchObject({ code: 'deploy.bad_artifact' });
    const list = await epara([...dd, 'deployments', '--service', 'txt', '--json'], { env: sb.env });
    expect(list.json()).toEqual([]);
  });

  it('infer prints outputs and timing; the class output is the argmax of the logits', async () => {
    const r = await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--deadline', '5000', '--json'], { env: sb.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = r.json<{ deviceId: string; outputs: Array<{ name: string; values: number[]; argmax?: number }>; timing: { roundTripMs: number } }>();
    expect(res.deviceId).toMatch(/^microcomputer-[12]$/);
    const logits = res.outputs.find((o) => o.name === 'logits')!;
    const cls = res.outputs.find((o) => o.name === 'class')!;
    expect(logits.values).toHaveLength(4);
    expect(cls.values[0]).toBe(logits.argmax);
    expect(res.timing.roundTripMs).toBeGreaterThan(0);
    const human = await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--repeat', '5', '--device', 'microcomputer-2'], { env: sb.env });
    expect(human.stdout).toMatch(/^logits float32\[1,4\] \[/m);
    expect(human.stdout).toMatch(/5 requests: p50 [\d.]+ ms.*by device microcomputer-2=5/);
  });

  it('infer --flow streams frames at a target FPS through the gateway and reports their attainment', async () => {
    const r = await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--flow', '--fps', '40', '--frames', '20', '--deadline', '2000', '--json'], { env: sb.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const f = r.json<{ offered: number; onTime: number; sent: number; droppedAtGateway: number; attainment: number; achievedFps: number; targetFps: number; devices: Record<string, number> }>();
    expect(f).toMatchObject({ offered: 20, targetFps: 40 });
    expect(f.sent + f.droppedAtGateway).toBe(20);
    expect(f.attainment).toBeCloseTo(f.onTime / 20, 9);
    expect(f.onTime).toBeGreaterThan(0);
    expect(Object.keys(f.devices).every((d) => /^microcomputer-[12]$/.test(d))).toBe(true);
    const human = await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--flow', '--fps', '20', '--frames', '5'], { env: sb.env });
    expect(human.stdout).toMatch(/^flow \d+ classifier: 5 frames at 20 fps/m);
    expect(human.stdout).toMatch(/attainment [\d.]+% \(\d+ on time, \d+ late, \d+ dropped at the gateway/);
    expect((await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--flow'], { env: sb.env })).code).toBe(2);
    expect((await epara([...dd, 'infer', 'classifier', '--input', INPUT, '--fps', '5'], { env: sb.env })).code).toBe(2);
  });

  it('infer errors: bad input is a usage error; an unknown service is the server\'s typed error', async () => {
    expect((await epara([...dd, 'infer', 'classifier', '--input', '[[1, "x"]]'], { env: sb.env })).code).toBe(2);
    expect((await epara([...dd, 'infer', 'classifier', '--input', '{not json'], { env: sb.env })).code).toBe(2);
    const r = await epara([...dd, 'infer', 'nosuch', '--input', INPUT, '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.json<{ error: { code: string } }>().error.code).toMatch(/^infer\./);
  });

  it('deployments lists the records, filterable by service and state', async () => {
    const r = await epara([...dd, 'deployments', '--service', 'classifier', '--state', 'ready', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    const list = r.json<Array<{ deviceId: string; service: string; state: string; version: string }>>();
    expect(list.map((d) => d.deviceId).sort()).toEqual(['microcomputer-1', 'microcomputer-2']);
    expect(list.every((d) => d.service === 'classifier' && d.state === 'ready' && d.version === '1.0.0')).toBe(true);
    const table = await epara([...dd, 'deployments'], { env: sb.env });
    expect(table.stdout).toMatch(/^\s*ID\s+DEVICE\s+SERVICE\s+VERSION\s+STATE\s+BYTES\s+UPDATED\s+ERROR$/m);
    expect(table.stdout).toMatch(/pi-01\s+classifier\s+1\.0\.0\s+offered/);
  });

  it('undeploy unloads the service from the devices running it', async () => {
    const r = await epara([...dd, 'undeploy', 'classifier2', '--json'], { env: sb.env });
    expect(r.code).toBe(0);
    const res = r.json<{ results: Array<{ deviceId: string; ok: boolean }> }>();
    expect(res.results.map((x) => x.deviceId).sort()).toEqual(['microcomputer-1', 'microcomputer-2']);
    expect(res.results.every((x) => x.ok)).toBe(true);
    const again = await epara([...dd, 'undeploy', 'classifier2'], { env: sb.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('deploy.unknown');
  });

  it('devices show / rm: a revoked device says so', async () => {
    const show = await epara([...dd, 'devices', 'show', 'fpga-01', '--json'], { env: sb.env });
    expect(show.json()).toMatchObject({ id: 'fpga-01', name: 'Basys 3', deviceClass: 'fpga' });
    const rm = await epara([...dd, 'devices', 'rm', 'fpga-01'], { env: sb.env });
    expect(rm.code).toBe(0);
    const after = await epara([...dd, 'devices', 'show', 'fpga-01', '--json'], { env: sb.env });
    expect(after.json()).toMatchObject({ status: 'revoked' });
    const missing = await epara([...dd, 'devices', 'show', 'nope'], { env: sb.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('registry.unknown_device');
  });

  it('a wrong token is refused with a hint; a missing artifact is a typed error', async () => {
    const rt = JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { http: string };
    const r = await epara(['devices', '--server', rt.http, '--token', 'x'.repeat(32)], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.server_token');
    const m = await epara([...dd, 'deploy', join(sb.root, 'missing.onnx'), '--service', 's', '--category', 'latency-single', '--to', 'all'], { env: sb.env });
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('does not exist');
  });

  it('fleet with a stale key for a registered id fails with the wrong-key hint', async () => {
    await epara([...dd, 'register', 'stale-microcomputer-1', '--class', 'microcomputer'], { env: sb.env });
    const keysFile = join(sb.dataDir, 'fleet', 'keys.json');
    const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string>;
    keys['stale-microcomputer-1'] = '00'.repeat(32);
    writeFileSync(keysFile, JSON.stringify(keys));
    const r = await epara([...dd, 'fleet', '--devices', '1', '--profile', 'microcomputer', '--id-prefix', 'stale-', '--json'], { env: sb.env });
    expect(r.code).toBe(1);
    const e = r.json<{ error: { code: string; hint: string } }>().error;
    expect(e.code).toMatch(/^auth\./);
    expect(e.hint).toContain('keys.json');
  });

  it('the status line and event log of serve went to stderr', async () => {
    stopFleet.abort();
    const fleet = await fleetRun;
    expect(fleet.code).toBe(0);
    expect(fleet.stderr).toContain('fleet stopped');
    stopServe.abort();
    const serve = await serveRun;
    expect(serve.code).toBe(0);
    expect(serve.stderr).toMatch(/devices online/);
    expect(serve.stderr).toMatch(/stopped after \d\d:\d\d:\d\d; [1-9]\d* inference requests served/);
    expect(serve.stderr).toMatch(/deploy\.ready microcomputer-1/);
    expect(serve.stderr).toContain('stopped');
    expect(existsSync(join(sb.dataDir, 'serve.json'))).toBe(false);
    // With no server, server-only commands say how to start one.
    const r = await epara([...dd, 'infer', 'classifier', '--input', INPUT], { env: sb.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cli.server_not_running');
    expect(r.stderr).toContain('epara serve');
  });
});

describe('epara serve as a process', () => {
  it('stops cleanly on SIGTERM (exit 0, serve.json removed)', async () => {
    const s = sandbox({ fakeTools: false });
    let child: ReturnType<typeof spawn> | undefined;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), '--data-dir', s.dataDir, 'serve', '--tcp', '127.0.0.1:0'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until('serve.json', () => (existsSync(join(s.dataDir, 'serve.json')) ? true : undefined));
      const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(err).toContain('SIGTERM: stopping');
      expect(existsSync(join(s.dataDir, 'serve.json'))).toBe(false);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      s.cleanup();
    }
  });
});
