import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { PROFILES, serviceTimeMs } from '../../firmware-sims/profiles.js';
import { findFixtureModels } from '../../firmware-sims/demo.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { ConfigError } from '../../src/errors.js';
import type { EparaServer } from '../../src/server-adapter/server.js';
import { cleanupList, startServer, tmpDir, until } from './helpers.js';

const cleanups = cleanupList();
afterEach(() => cleanups.run());
const models = findFixtureModels();
const input = () => [tensorFrom('input', Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), [1, 16])];

async function emulate(server: EparaServer, port: number, id: string, profile: 'microcomputer' | 'gpu-server' | 'mcu', extra: Partial<Parameters<typeof EmulatedDevice.start>[0]> = {}) {
  const { key } = server.provision({ id, deviceClass: profile });
  const d = await EmulatedDevice.start({ profile, id, key, connector: () => connectTcp({ host: '127.0.0.1', port }), dataDir: tmpDir(cleanups), seed: 5, timeScale: 0, ...extra });
  cleanups.add(() => d.close());
  return d;
}

async function deployMlp(server: EparaServer, to: string[], file = 'mlp-classifier.onnx', service = 'cls') {
  return server.deploy({ artifact: join(models, file), service, version: '1', kind: 'onnx', category: 'latency-single', to, timeoutMs: 30_000 });
}

describe('emulated devices against the real server', () => {
  it('default behaviour: registers with the profile capabilities, deploys and serves', async () => {
    const server = await startServer(cleanups, { deploy: { chunkSize: 512 } });
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const d = await emulate(server, port, 'jetson-1', 'microcomputer');
    expect(server.device('jetson-1')?.caps).toMatchObject({ cpuCores: PROFILES.microcomputer.caps.cpuCores, computeMops: PROFILES.microcomputer.caps.computeMops });
    expect((await deployMlp(server, ['jetson-1']))[0]!.state).toBe('ready');
    await until(() => server.candidates('cls').length === 1);
    const r = await server.infer('cls', input(), { deadlineMs: 5000 });
    expect(r.deviceId).toBe(d.id);
  });

  it('drops every third chunk and the deployment still completes through go-back-N', async () => {
    const server = await startServer(cleanups, { deploy: { chunkSize: 512 } });
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const d = await emulate(server, port, 'lossy-1', 'microcomputer', { behaviour: { dropEveryNthChunk: 3 } });
    const progress: number[] = [];
    server.on('deployment-progress', (p) => progress.push(p.offset));
    const recs = await deployMlp(server, ['lossy-1']);
    expect(recs[0]).toMatchObject({ state: 'ready' });
    // The acknowledged offset stalls at the dropped chunks but always recovers to the full size.
    expect(Math.max(...progress)).toBe(3134);
    expect(d.chunksDropped).toBe(2); // 7 chunks: the 3rd and 6th first arrivals
    expect(server.device('lossy-1')?.state).toMatch(/active|registered/);
  });

  it('reboots mid-deployment and the transfer resumes from the persisted offset', async () => {
    const server = await startServer(cleanups, { deploy: { chunkSize: 1024 } });
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const d = await emulate(server, port, 'rebooter-1', 'microcomputer', { behaviour: { rebootAfterBytes: 5000, rebootDowntimeMs: 50 } });
    const cuts: number[] = [];
    d.on('power-cut', (i) => cuts.push(i.afterBytes));
    const resumed: number[] = [];
    server.on('deployment-progress', (p) => p.resumedFrom && resumed.push(p.resumedFrom));
    const recs = await deployMlp(server, ['rebooter-1'], 'token-decoder.onnx', 'llm');
    await d.settled();
    expect(recs[0]!.state).toBe('ready');
    expect(cuts.length).toBe(1);
    expect(d.boots).toBe(2);
    expect(resumed.length).toBeGreaterThan(0);
    expect(Math.min(...resumed)).toBeGreaterThanOrEqual(5000);
    await until(() => server.candidates('llm').length === 1);
    const r = await server.infer('llm', [tensorFrom('tokens', BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]), [1, 8])], { deadlineMs: 5000 });
    expect(r.outputs.map((o) => o.name)).toEqual(['logits', 'next_token']);
  });

  it('answers late: a deadline shorter than the delay fails with infer.deadline, a longer one succeeds', async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    await emulate(server, port, 'slow-1', 'microcomputer', { behaviour: { answerLateMs: (m) => (m.type === 'INFER_REQUEST' ? 300 : 0) } });
    await deployMlp(server, ['slow-1']);
    await until(() => server.candidates('cls').length === 1);
    await expect(server.infer('cls', input(), { deadlineMs: 100 })).rejects.toMatchObject({ code: 'infer.deadline' });
    const ok = await server.infer('cls', input(), { deadlineMs: 3000 });
    expect(ok.deviceId).toBe('slow-1');
  });

  it('sends garbage on the link and keeps working; lies about its capabilities', async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const d = await emulate(server, port, 'noisy-1', 'mcu', { behaviour: { garbageEveryMs: 20, lieAboutCaps: { gpuCount: 8, memoryKiB: 64 * 1024 * 1024 } } });
    expect(server.device('noisy-1')?.caps).toMatchObject({ gpuCount: 8, memoryKiB: 64 * 1024 * 1024 });
    await deployMlp(server, ['noisy-1']);
    await until(() => server.candidates('cls').length === 1);
    // Garbage must really have crossed the link before the requests that prove it did no harm;
    // on a fast run the deployment can finish inside the first burst interval.
    await until(() => d.garbageBursts > 0);
    for (let i = 0; i < 5; i++) await server.infer('cls', input(), { deadlineMs: 3000 });
    expect(d.garbageBursts).toBeGreaterThan(0);
    expect(server.device('noisy-1')?.state).toMatch(/active|registered/);
  });

  it('paces requests to the profile service-time model', async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    // timeScale 40 stretches the Pi's modelled ~5 ms to ~200 ms: far above the real sub-ms compute.
    await emulate(server, port, 'paced-1', 'microcomputer', { timeScale: 40 });
    await deployMlp(server, ['paced-1']);
    await until(() => server.candidates('cls').length === 1);
    const r = await server.infer('cls', input(), { deadlineMs: 5000 });
    expect(r.computeUs!).toBeGreaterThanOrEqual(serviceTimeMs('microcomputer', 'cls') * 40 * 1000 * 0.95);
    expect(Number((tensorValues(r.outputs[1]!) as BigInt64Array)[0])).toBeGreaterThanOrEqual(0);
  });

  it('rejects nonsense behaviour settings with a ConfigError', async () => {
    await expect(EmulatedDevice.start({ profile: 'mcu', id: 'x', key: 'aa'.repeat(16), connector: async () => { throw new Error('unused'); }, dataDir: tmpDir(cleanups), behaviour: { dropEveryNthChunk: 1 } })).rejects.toBeInstanceOf(ConfigError);
  });
});
