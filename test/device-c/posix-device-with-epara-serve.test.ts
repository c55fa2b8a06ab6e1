/**
 * The C library's POSIX example device with the real command line, as an operator would run it
 * (issue 23 §3: "registers, deploys and infers with a real `epara serve`"): `epara register`
 * prints its key, `epara serve` listens on TCP 127.0.0.1, the device connects with that key,
 * `epara devices` shows it active, `epara deploy weights.i8` sends it int8-fc weights and
 * `epara infer` gets the scores the bit-exact model computes. The library-level twin with the
 * pty path and a restart is posix-device-registers-deploys-and-infers.test.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Int8FcModel, int8FcArtifact } from '../../src/conformance/int8-fc-model.js';
import { epara, sandbox, until, type RunResult, type Sandbox } from '../cli/helpers.js';
import { makeDeviceC, missingCompiler, startDevice, type RunningDevice } from './device-c-build.js';

const noCompiler = missingCompiler();

describe.skipIf(noCompiler !== undefined)('device-c POSIX example with epara register / serve / deploy / infer', () => {
  let sb: Sandbox;
  let dd: string[];
  let stopServe: AbortController;
  let serveRun: Promise<RunResult>;
  let device: RunningDevice | undefined;
  let bin: string;

  beforeAll(async () => {
    bin = join(makeDeviceC('with-serve', ['example']), 'posix-device');
    sb = sandbox({ fakeTools: false });
    dd = ['--data-dir', sb.dataDir];
    stopServe = new AbortController();
    serveRun = epara([...dd, 'serve', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--heartbeat', '500'], { env: sb.env, signal: stopServe.signal });
    await until('serve.json', () => (existsSync(join(sb.dataDir, 'serve.json')) ? true : undefined));
  }, 240_000);

  afterAll(async () => {
    await device?.stop('SIGKILL');
    stopServe?.abort();
    await serveRun?.catch(() => undefined);
    sb?.cleanup();
  });

  it('registers with the key epara register printed, takes a deployment and answers epara infer bit-exactly', async () => {
    const reg = await epara([...dd, 'register', 'mcu-c-cli', '--class', 'mcu', '--json'], { env: sb.env });
    expect(reg.code, reg.stderr).toBe(0);
    const { key } = reg.json<{ key: string }>();
    const keyFile = join(sb.root, 'mcu-c-cli.key');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const links = (JSON.parse(readFileSync(join(sb.dataDir, 'serve.json'), 'utf8')) as { links: string[] }).links;
    const tcp = links.find((l) => l.startsWith('tcp '))!.slice(4);
    device = startDevice(bin, ['--id', 'mcu-c-cli', '--key-file', keyFile, '--tcp', tcp, '--data-dir', join(sb.root, 'mcu-c-cli')]);
    await device.waitFor('registered as mcu-c-cli');
    await until('mcu-c-cli active in epara devices', async () => {
      const r = await epara([...dd, 'devices', '--json'], { env: sb.env });
      return r.code === 0 && r.json<Array<{ id: string; state: string; deviceClass: string }>>().some((d) => d.id === 'mcu-c-cli' && d.state === 'active' && d.deviceClass === 'mcu') ? true : undefined;
    });

    // int8-fc weights, as the FPGA and this library run them (16 -> 4)
    let s = 0x2323;
    const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
    const artifact = int8FcArtifact(Int8Array.from({ length: 64 }, () => r() - 128), Int32Array.from({ length: 4 }, () => (r() << 6) - 8000));
    const file = join(sb.root, 'weights.i8');
    writeFileSync(file, artifact);
    const dep = await epara([...dd, 'deploy', file, '--service', 'fc16', '--category', 'latency-single', '--to', 'mcu-c-cli', '--version', 'w1', '--json'], { env: sb.env });
    expect(dep.code, dep.stderr).toBe(0);
    expect(dep.json<{ deployments: Array<{ deviceId: string; state: string; bytes: number; size: number }> }>().deployments).toEqual([
      expect.objectContaining({ deviceId: 'mcu-c-cli', state: 'ready', bytes: artifact.length, size: artifact.length }),
    ]);

    const model = new Int8FcModel(artifact);
    for (const x of [Int8Array.from({ length: 16 }, (_, i) => i * 9 - 70), Int8Array.from({ length: 16 }, () => r() - 128)]) {
      const input = JSON.stringify({ name: 'x', dtype: 'int8', shape: [16], values: Array.from(x) });
      const inf = await epara([...dd, 'infer', 'fc16', '--input', input, '--device', 'mcu-c-cli', '--json'], { env: sb.env });
      expect(inf.code, inf.stderr).toBe(0);
      const res = inf.json<{ deviceId: string; outputs: Array<{ name: string; values: number[] }> }>();
      const want = model.infer(x);
      expect(res.deviceId).toBe('mcu-c-cli');
      expect(res.outputs.find((o) => o.name === 'scores')?.values).toEqual(Array.from(want.scores));
      expect(res.outputs.find((o) => o.name === 'class')?.values).toEqual([want.classIndex]);
    }
    expect(device.log()).toContain('deployment finished: ready');
  }, 60_000);
});
