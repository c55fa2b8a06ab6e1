import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { mlpReference, readWeights } from './reference-nets.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-e2e-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('EparaDevice against the real EparaServer over TCP', () => {
  it('registers, receives the MLP, answers inference with the reference result, and is seen in STATE', async () => {
    const server = new EparaServer({ dataDir: tmp(), periods: { stateSyncMs: 200, heartbeatMs: 500 } });
    await server.start();
    cleanups.push(() => server.close({ drainMs: 0 }));
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const { id, key } = server.provision({ id: 'pi-1', deviceClass: 'microcomputer' });
    const registered = new Promise((r) => server.once('device-registered', r));
    const dev = await EparaDevice.connect({ connector: () => connectTcp({ host: '127.0.0.1', port }), id, key, deviceClass: 'microcomputer', dataDir: tmp() });
    cleanups.push(() => dev.close());
    await registered;
    const recs = await server.deploy({ artifact: join(fixturesDir(), 'mlp-classifier.onnx'), service: 'cls', version: '1.0.0', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    expect(recs.map((r) => r.state)).toEqual(['ready']);
    expect(dev.serviceInfo()).toEqual([{ name: 'cls', version: '1.0.0', status: 'ready', kind: 'onnx' }]);
    // The server routes only to devices whose STATE says the service is ready.
    while (server.candidates('cls').length === 0) await new Promise((r) => setTimeout(r, 50));
    const w = readWeights(join(fixturesDir(), 'mlp-classifier.onnx'));
    const x = Array.from({ length: 16 }, (_, i) => Math.cos(i * 1.3));
    const r = await server.infer('cls', [tensorFrom('input', Float32Array.from(x), [1, 16])], { deadlineMs: 5000 });
    expect(r.deviceId).toBe(id);
    expect(Number((tensorValues(r.outputs[1]!) as BigInt64Array)[0])).toBe(mlpReference(w, x).cls);
  });
});

describe('reconnect against the real EparaServer', () => {
  it('comes back by itself after the TCP connection is cut, resuming its session, and serves again', async () => {
    const server = new EparaServer({ dataDir: tmp(), periods: { stateSyncMs: 200, heartbeatMs: 500 } });
    await server.start();
    cleanups.push(() => server.close({ drainMs: 0 }));
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const { id, key } = server.provision({ id: 'pi-2', deviceClass: 'microcomputer' });
    let current: Awaited<ReturnType<typeof connectTcp>> | undefined;
    const connector = async () => (current = await connectTcp({ host: '127.0.0.1', port }));
    const dev = await EparaDevice.connect({ connector, id, key, deviceClass: 'microcomputer', dataDir: tmp(), reconnect: { initialMs: 20, maxMs: 200 } });
    cleanups.push(() => dev.close());
    await server.deploy({ artifact: join(fixturesDir(), 'mlp-classifier.onnx'), service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    const registrations: boolean[] = [];
    server.on('device-registered', (d) => registrations.push(d.resumed));
    const back = new Promise<{ resumed: boolean }>((r) => dev.once('registered', r));
    await current!.close(); // the cable is pulled
    expect((await back).resumed).toBe(true);
    expect(registrations).toEqual([true]);
    while (server.candidates('cls').length === 0) await new Promise((r) => setTimeout(r, 50));
    const r = await server.infer('cls', [tensorFrom('input', new Float32Array(16), [1, 16])], { deadlineMs: 5000 });
    expect(r.deviceId).toBe(id);
  });
});
