/**
 * `epara conform` end to end, in-process: usage errors exit 2 with a hint, --list names every
 * check with its SPEC section, a conforming emulator exits 0 with a table / --json / JUnit XML,
 * and a device holding another key exits 1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliContext } from '../../src/cli/context.js';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { allChecks } from '../../src/conformance/index.js';
import { epara } from '../cli/helpers.js';
import { EMULATOR_DEVICE, newKey, tmpDir } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Run `epara conform …`; once it prints the port it listens on, start an emulator pointed at it. */
async function conformWithDevice(args: string[], device: { id: string; key: string }, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  let dev: EmulatedDevice | undefined;
  let started = false;
  cleanups.push(async () => dev?.close({ graceful: false }));
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(err);
    if (m && !started) {
      const port = Number(m[1]);
      started = true;
      void EmulatedDevice.start({ profile: 'mcu', id: device.id, key: device.key, dataDir: tmpDir(cleanups), timeScale: 0, connector: () => connectTcp({ host: '127.0.0.1', port }), device: EMULATOR_DEVICE }).then((d) => (dev = d), () => undefined);
    }
  });
  const ctx: CliContext = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd };
  const code = await runCli(['conform', 'tcp://127.0.0.1:0', ...args], ctx);
  return { code, stdout: out, stderr: err };
}

describe('epara conform (CLI)', () => {
  it('refuses a bad command line with exit 2 and a hint', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['conform'], /no target given/],
      [['conform', 'udp://x:1', '--id', 'a', '--key', 'ab'], /cannot read the target/],
      [['conform', 'tcp://127.0.0.1:99999', '--id', 'a', '--key', 'ab'], /above 65535/],
      [['conform', 'serial:/dev/ttyUSB0@7', '--id', 'a', '--key', 'ab'], /baud rate/],
      [['conform', 'tcp://127.0.0.1:0', '--key', 'ab'], /--id is required/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a'], /--key or --key-file is required/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a', '--key', 'zz'], /not hex/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a', '--key', '00'.repeat(32), '--skip', 'nope'], /not a check family/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a', '--key', '00'.repeat(32), '--timeout', '0'], /--timeout 0 must be/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a', '--key', '00'.repeat(32), '--class', 'toaster'], /not a device class/],
      [['conform', 'tcp://127.0.0.1:0', '--id', 'a', '--key', '00'.repeat(32), '--artifact', 'm.onnx'], /--artifact needs --kind/],
    ];
    for (const [args, want] of cases) {
      const r = await epara(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(want);
      expect(r.stderr, args.join(' ')).toMatch(/hint:/);
    }
    // --json: the error as JSON on stdout
    const j = await epara(['conform', 'udp://x:1', '--id', 'a', '--key', 'ab', '--json']);
    expect(j.json<{ error: { code: string } }>().error.code).toBe('conform.target');
  });

  it('--list names every check with the SPEC section it enforces', async () => {
    const r = await epara(['conform', '--list', '--json']);
    expect(r.code).toBe(0);
    const list = r.json<Array<{ id: string; spec: string; family: string }>>();
    expect(list.map((c) => c.id)).toEqual(allChecks().map((c) => c.id));
    expect(list.every((c) => /§\d/.test(c.spec))).toBe(true);
    expect(list.filter((c) => c.id.startsWith('vector.')).length).toBe(JSON.parse(readFileSync(join(__dirname, '../../protocol/vectors/invalid.json'), 'utf8')).vectors.length);
    const human = await epara(['conform', '--list']);
    expect(human.stdout).toMatch(/^auth\.server-mac\s+§7\.1 step 5, §9/m);
  });

  it('a conforming device: exit 0, a table, --json and a JUnit file', async () => {
    const dir = tmpDir(cleanups);
    const key = newKey();
    const junit = join(dir, 'conform.xml');
    const r = await conformWithDevice(['--id', 'cli-mcu', '--key', key, '--class', 'mcu', '--timeout', '2000', '--heartbeat-ms', '500', '--state-ms', '500', '--junit', 'conform.xml', '--json'], { id: 'cli-mcu', key }, dir);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { ok: boolean; summary: { total: number; failed: number }; results: Array<{ id: string; status: string }> };
    expect(rep.ok).toBe(true);
    expect(rep.summary.failed).toBe(0);
    expect(r.stderr).not.toContain(key);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites /);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(rep.summary.total);
    expect(xml).not.toContain('<failure');
    expect(xml).toContain('classname="epara.conform.vectors" name="vector.nondet-tag-1"');
    expect(xml).toMatch(/<skipped message="the kit cannot restart the device by itself/);
    expect(xml).not.toContain(key);
  }, 60_000);

  it('a device with another key: exit 1, the table says why', async () => {
    const dir = tmpDir(cleanups);
    const r = await conformWithDevice(['--id', 'cli-bad', '--key', newKey(), '--timeout', '2000', '--wait', '10000'], { id: 'cli-bad', key: newKey() }, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+handshake\.welcome\s+§5\.2–§5\.4, §7\.1\s+the AUTH MAC does not verify/);
    expect(r.stdout).toMatch(/DOES NOT CONFORM/);
    expect(r.stdout).toMatch(/skip\s+ping\.registered .*no session \(handshake\.welcome failed\)/);
  }, 30_000);
});
