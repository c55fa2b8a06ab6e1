import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import type { DeploymentProgress } from '../../src/device-mgmt/deployment/deployer.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { until } from './helpers/raw-device.js';

const MODEL = readFileSync(new URL('../../fixtures/models/mlp-classifier.onnx', import.meta.url));
const MLP_INPUT = [tensorFrom('input', new Float32Array(16).fill(0.25), [1, 16])];
const BROKEN = readFileSync(new URL('../../fixtures/models/broken.onnx', import.meta.url));

let dir: string;
let server: EparaServer;
let port: number;
const devices: EparaDevice[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epara-dep-'));
  server = new EparaServer({ dataDir: join(dir, 'server'), periods: { heartbeatMs: 500, stateSyncMs: 200 }, rttProbeMs: 0 });
  await server.start();
  port = (await server.listenTcp({ port: 0 })).port;
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A real EparaDevice over TCP; `streams` collects every stream it opened so a test can cut one. */
async function device(id: string, extra: Partial<Parameters<typeof EparaDevice.connect>[0]> = {}, provision = true) {
  const key = provision ? server.provision({ id, deviceClass: 'microcomputer' }).key : (extra.key as string);
  const streams: ByteStream[] = [];
  const d = await EparaDevice.connect({
    id,
    key,
    deviceClass: 'microcomputer',
    dataDir: join(dir, id),
    connector: async () => {
      const s = await connectTcp({ host: '127.0.0.1', port });
      streams.push(s);
      return s;
    },
    reconnect: { initialMs: 20, maxMs: 200 },
    ...extra,
  });
  devices.push(d);
  return { d, streams, key };
}

function input(seed: number): Float32Array {
  const x = new Float32Array(16);
  for (let i = 0; i < 16; i++) x[i] = Math.sin(seed + i);
  return x;
}

async function reference(x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(MODEL);
  const out = await s.run({ input: new ort.Tensor('float32', x, [1, 16]) });
  await s.release();
  return out.logits!.data as Float32Array;
}

describe('deploy, infer, undeploy with a real device and a real ONNX model', () => {
  it('deploys the model, infers through the server, then undeploys', async () => {
    await device('pi-a');
    const progress: DeploymentProgress[] = [];
    server.on('deployment-progress', (p: DeploymentProgress) => progress.push(p));
    const [rec] = await server.deploy({ artifact: MODEL, service: 'mlp', version: '1.0.0', kind: 'onnx', category: 'latency-single', to: ['pi-a'], timeoutMs: 20_000 });
    expect(rec).toMatchObject({ state: 'ready', offset: MODEL.length, deviceId: 'pi-a' });
    const states = progress.map((p) => p.state);
    expect(states[0]).toBe('offered');
    expect(states).toContain('transferring');
    expect(states.at(-1)).toBe('ready');
    const offsets = progress.filter((p) => p.state === 'transferring').map((p) => p.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));

    const x = input(3);
    const r = await server.infer('mlp', [tensorFrom('input', x, [1, 16])], { deadlineMs: 5000 });
    expect(r.deviceId).toBe('pi-a');
    const logits = r.outputs.find((t) => t.name === 'logits')!;
    expect(logits.shape).toEqual([1, 4]);
    const want = await reference(x);
    const got = tensorValues(logits) as Float32Array;
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);

    const res = await server.undeploy('mlp');
    expect(res).toEqual([{ deviceId: 'pi-a', ok: true }]);
    expect(server.deployment(rec!.id)!.state).toBe('undeployed');
    await expect(server.infer('mlp', [tensorFrom('input', x, [1, 16])])).rejects.toMatchObject({ code: 'infer.no_device' });
    await expect(server.undeploy('mlp')).rejects.toMatchObject({ code: 'deploy.unknown' });
  });

  it('a model that fails to load settles as failed with the device error code', async () => {
    await device('pi-b');
    const [rec] = await server.deploy({ artifact: BROKEN, service: 'bad', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-b'], timeoutMs: 20_000 });
    expect(['failed', 'rolled-back']).toContain(rec!.state);
    expect(rec!.errorCode).toMatch(/^deploy\./);
    expect(server.auditLog({ deviceId: 'pi-b' }).map((e) => e.event)).toContain(`deploy.${rec!.state}`);
  });

  it('rolls back to the previous version when the new one fails to load', async () => {
    await device('pi-r');
    await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-r'] });
    const [rec] = await server.deploy({ artifact: BROKEN, service: 'mlp', version: '2', kind: 'onnx', category: 'latency-single', to: ['pi-r'] });
    expect(rec).toMatchObject({ state: 'rolled-back', activeVersion: '1' });
    const r = await server.infer('mlp', [tensorFrom('input', input(1), [1, 16])]);
    expect(r.outputs.length).toBeGreaterThan(0);
  });

  it('go-back-N recovers from chunks the device drops, and the bytes arrive intact', async () => {
    let n = 0;
    await device('pi-lossy', { maxFrame: 256, hooks: { acceptChunk: () => n++ % 7 !== 3 } });
    const [rec] = await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-lossy'] });
    expect(rec).toMatchObject({ state: 'ready' });
    expect(Number(await server.metrics.deploymentBytes.get().then((m) => m.values[0]!.value))).toBeGreaterThan(MODEL.length);
  });

  it('resumes a transfer after the link drops, from the offset the device persisted', async () => {
    let cut = false;
    let streams: ByteStream[] = [];
    const dev = await device('pi-drop', {
      maxFrame: 1024,
      hooks: {
        chunkStored: (i) => {
          if (!cut && i.nextOffset > i.size / 2) {
            cut = true;
            void streams[0]!.close();
          }
        },
      },
    });
    streams = dev.streams;
    const progress: DeploymentProgress[] = [];
    server.on('deployment-progress', (p: DeploymentProgress) => progress.push(p));
    const [rec] = await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi-drop'], timeoutMs: 30_000 });
    expect(rec).toMatchObject({ state: 'ready' });
    expect(progress.some((p) => p.interrupted)).toBe(true);
    const resumed = progress.find((p) => (p.resumedFrom ?? 0) > 0);
    expect(resumed?.resumedFrom).toBeGreaterThan(MODEL.length / 2);
    expect(streams.length).toBeGreaterThanOrEqual(2);
  });

  it('deploys to a device that is offline when it connects, and routes infer to the least-loaded ready device', async () => {
    server.provision({ id: 'late', deviceClass: 'microcomputer' });
    await device('pi-c');
    const recs = await server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: 'microcomputer', wait: false });
    expect(recs.map((r) => r.deviceId).sort()).toEqual(['late', 'pi-c']);
    await until(() => server.deployments({ deviceId: 'pi-c' })[0]!.state === 'ready');
    expect(server.deployments({ deviceId: 'late' })[0]!.state).toBe('offered');
    const r = await server.infer('mlp', [tensorFrom('input', input(2), [1, 16])]);
    expect(r.deviceId).toBe('pi-c');
  });
});

const deployMlp = () => server.deploy({ artifact: MODEL, service: 'mlp', version: '1', kind: 'onnx', category: 'latency-single', to: ['pi'], timeoutMs: 20_000 });

/**
 * Issue 15, defect 3: deploy → undeploy → deploy of the same artifact to the same device used to
 * end `failed deploy.unknown` (the device held the verified file, answered ACCEPT with `size`,
 * and then could not find a partial to commit). Redeploying works, and deploying what is already
 * ready is a no-op that says so.
 */
describe('the same artifact deployed again', () => {
  it('deploy → undeploy → deploy ends ready and serves; deploying it once more is an unchanged no-op', async () => {
    const { d } = await device('pi');
    const [first] = await deployMlp();
    expect(first).toMatchObject({ state: 'ready' });
    expect((await server.infer('mlp', MLP_INPUT)).deviceId).toBe('pi');

    expect(await server.undeploy('mlp')).toEqual([{ deviceId: 'pi', ok: true }]);
    expect(server.deployment(first!.id)!.state).toBe('undeployed');
    await expect(server.infer('mlp', MLP_INPUT)).rejects.toMatchObject({ code: 'infer.no_device' });

    const [second] = await deployMlp();
    expect(second).toMatchObject({ state: 'ready', activeVersion: '1' });
    expect(second!.errorCode).toBeUndefined();
    expect(second!.id).not.toBe(first!.id);
    expect(second!.unchanged).toBeUndefined();
    await until(() => server.candidates('mlp').length === 1);
    expect((await server.infer('mlp', MLP_INPUT)).deviceId).toBe('pi');
    expect(d.serviceInfo().find((s) => s.name === 'mlp')).toMatchObject({ status: 'ready', version: '1' });

    // Already ready there: nothing is recorded or sent, and the answer says so.
    const before = server.deployments().length;
    const [third] = await deployMlp();
    expect(third).toMatchObject({ id: second!.id, state: 'ready', unchanged: true });
    expect(server.deployments()).toHaveLength(before);
    expect(server.auditLog({ event: 'deploy.unchanged' })).toHaveLength(1);
    expect((await server.infer('mlp', MLP_INPUT)).deviceId).toBe('pi');
  });

  it('an undeployed service stays unloaded across a device restart, and deploys again after it', async () => {
    let { d, key } = await device('pi');
    await deployMlp();
    expect(await server.undeploy('mlp')).toEqual([{ deviceId: 'pi', ok: true }]);
    await d.close();
    devices.splice(devices.indexOf(d), 1);
    ({ d } = await device('pi', { key }, false));
    // The operator removed it: a reboot does not bring it back.
    expect(d.serviceInfo().find((s) => s.name === 'mlp')?.status).toBe('unloaded');
    const [again] = await deployMlp();
    expect(again).toMatchObject({ state: 'ready' });
    expect(d.serviceInfo().find((s) => s.name === 'mlp')?.status).toBe('ready');
    await until(() => server.candidates('mlp').length === 1);
    expect((await server.infer('mlp', MLP_INPUT)).deviceId).toBe('pi');
  });
});
