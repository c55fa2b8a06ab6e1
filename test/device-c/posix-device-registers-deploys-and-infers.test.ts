/**
 * The C library's POSIX example device against a real EparaServer: over TCP on 127.0.0.1 and
 * over a kernel pty pair made by socat (what a microcontroller's UART looks like to the
 * gateway). It registers (HMAC-SHA256 both ways, in C), takes an int8-fc-weights deployment
 * (chunks, SHA-256 in C, stored in its data directory), and answers INFER bit-exactly with the
 * TypeScript path: the same artifact deployed to a TypeScript EparaDevice running the
 * firmware-sims int8-fc runtime, and the behavioural model itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EparaServer } from '../../src/server-adapter/server.js';
import { EparaDevice } from '../../src/client/device.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { openSerial } from '../../src/transport/serial.js';
import { tensorFrom, tensorValues, type Tensor } from '../../src/protocol/index.js';
import { Int8FcModel, int8FcArtifact } from '../../src/conformance/int8-fc-model.js';
import { int8FcLoader } from '../../firmware-sims/int8-fc-runtime.js';
import { haveSocat, ptyPair, type PtyPair } from '../transport/helpers/socat.js';
import { makeDeviceC, missingCompiler, startDevice, type RunningDevice } from './device-c-build.js';

const noCompiler = missingCompiler();
if (!haveSocat) console.warn('[device-c] SKIPPED the pty half: socat is not installed (apt-get install socat; .ci/run installs it)');

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

function artifactFor(seed: number) {
  const r = lcg(seed);
  return int8FcArtifact(Int8Array.from({ length: 64 }, () => r() - 128), Int32Array.from({ length: 4 }, () => (r() << 6) - 8000));
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const values = (outs: Tensor[], name: string) => Array.from(tensorValues(outs.find((t) => t.name === name)!) as ArrayLike<number>);

describe.skipIf(noCompiler !== undefined)('device-c POSIX example with a real EparaServer', () => {
  let dir: string;
  let server: EparaServer;
  let port: number;
  let bin: string;
  const devices: RunningDevice[] = [];
  let ts: EparaDevice | undefined;
  let pty: PtyPair | undefined;

  beforeAll(async () => {
    bin = join(makeDeviceC('e2e', ['example']), 'posix-device');
    dir = mkdtempSync(join(tmpdir(), 'epara-device-c-'));
    server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 1000, stateSyncMs: 500 }, rttProbeMs: 0 });
    await server.start();
    port = (await server.listenTcp({ port: 0, host: '127.0.0.1' })).port;
  }, 240_000);

  afterAll(async () => {
    for (const d of devices) await d.stop();
    await ts?.close().catch(() => undefined);
    await server?.close();
    await pty?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function register(id: string, link: string[], provision = true): Promise<{ device: RunningDevice; info: unknown }> {
    const keyFile = join(dir, `${id}.key`);
    if (provision) writeFileSync(keyFile, `${server.provision({ id, deviceClass: 'mcu' }).key}\n`, { mode: 0o600 });
    const registered = new Promise<unknown>((resolve) => {
      const on = (info: { id: string }) => {
        if (info.id !== id) return;
        server.off('device-registered', on);
        resolve(info);
      };
      server.on('device-registered', on);
    });
    const device = startDevice(bin, ['--id', id, '--key-file', keyFile, ...link, '--data-dir', join(dir, id)]);
    devices.push(device);
    return registered.then((info) => ({ device, info }));
  }

  it('registers over TCP, deploys int8-fc weights, and infers bit-exactly with the TypeScript device and model', async () => {
    const { device, info } = await register('mcu-c-tcp', ['--tcp', `127.0.0.1:${port}`]);
    expect(info).toMatchObject({ id: 'mcu-c-tcp', deviceClass: 'mcu', caps: { runtimes: ['int8-fc'], formats: ['int8-fc-weights'] } });
    await device.waitFor('registered as mcu-c-tcp');

    // the TypeScript path: an EparaDevice with the firmware-sims int8-fc runtime
    const { key } = server.provision({ id: 'mcu-ts', deviceClass: 'mcu' });
    ts = await EparaDevice.connect({
      id: 'mcu-ts', key, deviceClass: 'mcu', dataDir: join(dir, 'mcu-ts'),
      connector: () => connectTcp({ host: '127.0.0.1', port }),
      runtimes: { 'int8-fc-weights': int8FcLoader() },
    });

    const artifact = artifactFor(0x5eed);
    const model = new Int8FcModel(artifact);
    for (const to of ['mcu-c-tcp', 'mcu-ts']) {
      const records = await server.deploy({ artifact, service: 'fc16', version: 'w1', kind: 'int8-fc-weights', category: 'latency-single', to: [to], timeoutMs: 30_000 });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ deviceId: to, state: 'ready', activeVersion: 'w1' });
    }
    const r = lcg(7);
    for (let k = 0; k < 12; k++) {
      const x = Int8Array.from({ length: 16 }, () => r() - 128);
      const want = model.infer(x);
      const answers = await Promise.all(
        ['mcu-c-tcp', 'mcu-ts'].map((to) => server.infer('fc16', [tensorFrom('x', x, [16])], { deadlineMs: 10_000, deviceId: to })),
      );
      const [c, t] = answers;
      expect(c!.deviceId).toBe('mcu-c-tcp');
      expect(values(c!.outputs, 'scores')).toEqual(Array.from(want.scores));
      expect(values(c!.outputs, 'class')).toEqual([want.classIndex]);
      expect(values(c!.outputs, 'scores')).toEqual(values(t!.outputs, 'scores'));
      expect(values(c!.outputs, 'class')).toEqual(values(t!.outputs, 'class'));
    }
    // STATE told the server what the C device serves, and its heartbeats keep the session active
    await until(() => server.device('mcu-c-tcp')?.view?.services.some((s) => s.name === 'fc16' && s.version === 'w1' && s.status === 'ready') === true);
    expect(server.device('mcu-c-tcp')?.state).toBe('active');
    expect(device.log()).toContain('deployment finished: ready');
    expect(device.log()).not.toMatch(/rejected|refused|lost/);

    // killed and started again: it registers anew and still serves the deployed weights from its data directory
    await device.stop('SIGKILL');
    const again = await register('mcu-c-tcp', ['--tcp', `127.0.0.1:${port}`], false);
    await again.device.waitFor('registered as mcu-c-tcp');
    const x = Int8Array.from({ length: 16 }, (_, i) => i * 9 - 70);
    const got = await server.infer('fc16', [tensorFrom('x', x, [16])], { deadlineMs: 10_000, deviceId: 'mcu-c-tcp' });
    expect(values(got.outputs, 'scores')).toEqual(Array.from(model.infer(x).scores));
  }, 120_000);

  it.skipIf(!haveSocat)('registers over a socat pty (the UART path), deploys and infers bit-exactly', async () => {
    pty = await ptyPair();
    const registered = register('mcu-c-uart', ['--serial', pty.a, '--baud', '115200']);
    server.attachStream(await openSerial({ path: pty.b, baudRate: 115200 }));
    const { info, device } = await registered;
    expect(info).toMatchObject({ id: 'mcu-c-uart', deviceClass: 'mcu', caps: { transports: ['uart'] } });
    const artifact = artifactFor(0xbeef);
    const model = new Int8FcModel(artifact);
    const records = await server.deploy({ artifact, service: 'fc16u', version: 'u1', kind: 'int8-fc-weights', category: 'latency-single', to: ['mcu-c-uart'], timeoutMs: 30_000 });
    expect(records[0]).toMatchObject({ deviceId: 'mcu-c-uart', state: 'ready', activeVersion: 'u1' });
    const r = lcg(11);
    for (let k = 0; k < 8; k++) {
      const x = Int8Array.from({ length: 16 }, () => r() - 128);
      const got = await server.infer('fc16u', [tensorFrom('x', x, [16])], { deadlineMs: 10_000, deviceId: 'mcu-c-uart' });
      const want = model.infer(x);
      expect(values(got.outputs, 'scores')).toEqual(Array.from(want.scores));
      expect(values(got.outputs, 'class')).toEqual([want.classIndex]);
    }
    // a wrong shape is refused by the library's signature check before the model runs
    await expect(server.infer('fc16u', [tensorFrom('x', new Int8Array(8), [8])], { deadlineMs: 10_000, deviceId: 'mcu-c-uart' })).rejects.toMatchObject({ code: 'infer.bad_input' });
    expect(device.log()).toContain('registered as mcu-c-uart');
  }, 120_000);
});
