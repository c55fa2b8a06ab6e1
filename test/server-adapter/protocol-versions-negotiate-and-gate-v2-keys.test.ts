/**
 * Spec 1.1 versioning (SPEC §8) between the real EparaServer and real devices over TCP on
 * loopback: a spec 1.0 device (proto [1, 1]) keeps working end to end, a spec 1.1 device
 * negotiates version 2 and its new STATE keys reach the server's state view, and the server
 * never puts a version-2 key on the wire to a version-1 peer (checked on the raw bytes, decoded
 * with a version-2 decoder, so a v1 receiver's ignoring them cannot hide it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { FrameDecoder, ProtocolError, tensorFrom, type Frame, type PlacementOp } from '../../src/protocol/index.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { RawDevice, until } from './helpers/raw-device.js';
import { keyFromHex } from '../../src/device-mgmt/identity.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-proto-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
async function startServer() {
  const server = new EparaServer({ dataDir: tmp(), periods: { stateSyncMs: 150, heartbeatMs: 1000 } });
  await server.start();
  cleanups.push(() => server.close({ drainMs: 0 }));
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  return { server, port };
}
async function device(server: EparaServer, port: number, id: string, protocolVersions?: [number, number]) {
  const { key } = server.provision({ id, deviceClass: 'microcomputer' });
  const d = await EparaDevice.connect({ connector: () => connectTcp({ host: '127.0.0.1', port }), id, key, deviceClass: 'microcomputer', dataDir: tmp(), protocolVersions });
  cleanups.push(() => d.close());
  return d;
}
const MODEL = join(fixturesDir(), 'mlp-classifier.onnx');
const viewOf = (server: EparaServer, id: string, service: string) => server.device(id)?.view?.services.find((s) => s.name === service);
const input = () => [tensorFrom('input', new Float32Array(16).fill(0.25), [1, 16])];

const STAGE: PlacementOp = {
  action: 'configure',
  service: 'cls',
  settings: { batch: 2 },
  pipeline: { index: 0, count: 2, inputNames: ['input'], outputNames: ['/fc1/Relu_output_0'] },
};

/** Every frame the server sent to a raw device, decoded as a version-2 receiver would. */
function captureFromServer(raw: RawDevice): Frame[] {
  const frames: Frame[] = [];
  const dec = new FrameDecoder({ maxFrame: 65535, protocolVersion: 2 });
  raw.link.stream.on('data', (chunk: Uint8Array) => {
    for (const f of dec.push(chunk)) if (!(f instanceof ProtocolError)) frames.push(f);
  });
  return frames;
}

describe('protocol versions 1 and 2 (spec 1.1) between the real server and devices', () => {
  it('a spec 1.0 device (proto [1, 1]) registers at version 1, deploys, infers and reports STATE without the v2 keys', async () => {
    const { server, port } = await startServer();
    const d = await device(server, port, 'old-1', [1, 1]);
    expect(d.protocolVersion).toBe(1);
    expect(server.device('old-1')?.protocolVersion).toBe(1);
    const [dep] = await server.deploy({ artifact: MODEL, service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: ['old-1'], timeoutMs: 20_000 });
    expect(dep!.state).toBe('ready');
    for (let i = 0; i < 3; i++) {
      const r = await server.infer('cls', input(), { deadlineMs: 5000 });
      expect(r.outputs[0]!.shape).toEqual([1, 4]);
    }
    // the device has the figures, but a version-1 session carries none of them
    expect(d.buildState().services[0]!.memKiB).toBeGreaterThan(0);
    await until(() => (viewOf(server, 'old-1', 'cls')?.servedPerSec ?? 0) > 0);
    const v = viewOf(server, 'old-1', 'cls')!;
    expect(v.status).toBe('ready');
    expect(v.memKiB).toBeUndefined();
    expect(v.busyUsPerServed).toBeUndefined();
    // the placement still reaches it (without the stage, which version 1 cannot carry)
    expect(await server.sendPlacement('old-1', [STAGE], 5)).toEqual([{ service: 'cls', code: 0 }]);
  });

  it('a spec 1.1 device negotiates version 2 and its memKiB and busyUs reach the state view', async () => {
    const { server, port } = await startServer();
    const d = await device(server, port, 'new-1');
    expect(d.protocolVersion).toBe(2);
    expect(server.device('new-1')?.protocolVersion).toBe(2);
    const [dep] = await server.deploy({ artifact: MODEL, service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: ['new-1'], timeoutMs: 20_000 });
    expect(dep!.state).toBe('ready');
    for (let i = 0; i < 5; i++) await server.infer('cls', input(), { deadlineMs: 5000 });
    await until(() => viewOf(server, 'new-1', 'cls')?.busyUsPerServed !== undefined);
    const v = viewOf(server, 'new-1', 'cls')!;
    // the artifact's size, rounded up to KiB
    expect(v.memKiB).toBe(Math.ceil(dep!.size / 1024));
    expect(v.busyUsPerServed).toBeGreaterThan(0);
  });

  it('the server sends the pipeline stage to a version-2 peer and no version-2 key to a version-1 peer', async () => {
    const { server, port } = await startServer();
    const seen: Record<number, Frame[]> = {};
    for (const version of [1, 2]) {
      const id = `raw-v${version}`;
      const { key } = server.provision({ id, deviceClass: 'microcomputer' });
      const raw = await RawDevice.connect(port);
      cleanups.push(() => raw.close());
      seen[version] = captureFromServer(raw);
      const w = await raw.register(id, keyFromHex(key), { proto: [1, version] });
      raw.link.setNegotiated({ protocolVersion: raw.challenge!.version });
      expect(w.type).toBe('WELCOME');
      expect(raw.challenge!.version).toBe(version);
      expect(await server.sendPlacement(id, [STAGE], 7)).toEqual([{ service: 'cls', code: 0 }]);
    }
    const placements = (v: number) => seen[v]!.filter((f) => f.message.type === 'PLACEMENT').map((f) => f.message);
    expect(placements(2)).toEqual([{ type: 'PLACEMENT', planVersion: 7, ops: [STAGE] }]);
    const { pipeline: _, ...v1op } = STAGE;
    expect(placements(1)).toEqual([{ type: 'PLACEMENT', planVersion: 7, ops: [v1op] }]);
  });

  it('a version-1 STATE from a raw peer is accepted, and v2 keys a version-1 peer sends anyway are ignored', async () => {
    const { server, port } = await startServer();
    const { key } = server.provision({ id: 'raw-old', deviceClass: 'microcomputer' });
    const raw = await RawDevice.connect(port);
    cleanups.push(() => raw.close());
    await raw.register('raw-old', keyFromHex(key), { proto: [1, 1] });
    const svc = { name: 'x', version: '1', status: 'ready' as const, queueLen: 0, served: 2, violations: 0 };
    await raw.state({ services: [svc], uptimeMs: 1000 });
    await until(() => viewOf(server, 'raw-old', 'x') !== undefined);
    // this link is at version 1 too, so it would strip them: send the v2 keys with a v2 encoder
    raw.link.setNegotiated({ protocolVersion: 2 });
    await raw.state({ services: [{ ...svc, memKiB: 64, busyUs: 1000 }], uptimeMs: 2000 });
    await until(() => (server.device('raw-old')?.view?.reports ?? 0) >= 2);
    expect(viewOf(server, 'raw-old', 'x')!.memKiB).toBeUndefined();
    expect(viewOf(server, 'raw-old', 'x')!.busyUsPerServed).toBeUndefined();
  });

  it('refuses a protocolVersions option outside 1..2 with a typed error', async () => {
    const { server, port } = await startServer();
    await expect(device(server, port, 'bad-1', [2, 3])).rejects.toMatchObject({ code: 'config.value', field: 'protocolVersions' });
    await expect(device(server, port, 'bad-2', [2, 1])).rejects.toMatchObject({ code: 'config.value', field: 'protocolVersions' });
  });
});
