import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice, type EparaDeviceOptions } from '../../src/client/device.js';
import { tensorFrom, tensorValues, type Message, type Tensor } from '../../src/protocol/index.js';
import { AuthError, ConfigError, InferError } from '../../src/errors.js';
import { fixturesDir } from '../../scripts/gen-models.js';
import { mlpReference, readWeights } from './reference-nets.js';
import { ScriptedServer } from './scripted-server.js';

const key = randomBytes(32);
const model = (n: string) => new Uint8Array(readFileSync(join(fixturesDir(), `${n}.onnx`)));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-dev-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function start(server: ScriptedServer, over: Partial<EparaDeviceOptions> = {}): Promise<EparaDevice> {
  const dev = await EparaDevice.connect({ connector: server.connector(), id: 'dev-1', key, deviceClass: 'microcomputer', dataDir: over.dataDir ?? tmp(), reconnect: { initialMs: 10, maxMs: 50 }, ...over });
  cleanups.push(() => dev.close());
  return dev;
}

const mlpInput = (seed: number) => Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.7 + seed));
function expectOk<T extends Message['type']>(m: Message, type: T): Extract<Message, { type: T }> {
  if (m.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(m)}`);
  return m as Extract<Message, { type: T }>;
}

describe('EparaDevice against a scripted SPEC server', () => {
  it('handshakes with HMAC both ways, reports detected capabilities, heartbeats and sends STATE', async () => {
    const server = new ScriptedServer({ key, heartbeatMs: 100, stateMs: 100 });
    const dev = await start(server, { caps: { gpuCount: 1, accelerators: ['npu'] } });
    expect(dev.state).toBe('ready');
    const hello = server.hellos[0]!;
    expect(hello.caps.cpuCores).toBe(availableParallelism());
    expect(hello.caps.memoryKiB).toBeGreaterThan(0);
    expect(hello.caps.gpuCount).toBe(1);
    expect(hello.caps.accelerators).toEqual(['npu']);
    expect(hello.resume).toBeUndefined();
    await server.waitFor('state', () => server.states.length >= 2);
    while (server.heartbeats < 2) await new Promise((r) => setTimeout(r, 20));
    expect(server.states[0]!.services).toEqual([]);
    expect(server.states[server.states.length - 1]!.uptimeMs).toBeGreaterThan(0);
  });

  it('refuses to connect with a wrong key (auth.bad_mac) and to an impostor server (auth.server_mac)', async () => {
    const wrong = EparaDevice.connect({ connector: new ScriptedServer({ key }).connector(), id: 'dev-1', key: randomBytes(32), deviceClass: 'mcu', dataDir: tmp() });
    await expect(wrong).rejects.toBeInstanceOf(AuthError);
    await expect(wrong).rejects.toMatchObject({ code: 'auth.bad_mac' });
    const impostor = EparaDevice.connect({ connector: new ScriptedServer({ key, impostor: true }).connector(), id: 'dev-1', key, deviceClass: 'mcu', dataDir: tmp() });
    await expect(impostor).rejects.toMatchObject({ code: 'auth.server_mac', wire: 208 });
  });

  it('validates its options with typed errors and never puts the key in a message', async () => {
    const server = new ScriptedServer({ key });
    const base = { connector: server.connector(), id: 'dev-1', key, deviceClass: 'mcu' as const, dataDir: tmp() };
    await expect(EparaDevice.connect({ ...base, id: 'bad id!' })).rejects.toBeInstanceOf(ConfigError);
    const e = await EparaDevice.connect({ ...base, key: 'abcd' }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(JSON.stringify(e.toJSON())).not.toContain('abcd');
    await expect(EparaDevice.connect({ ...base, maxFrame: 10 })).rejects.toMatchObject({ code: 'config.range' });
  });

  it('reconnects by itself after the link drops and resumes its session', async () => {
    const server = new ScriptedServer({ key, heartbeatMs: 1000, stateMs: 1000 });
    const dev = await start(server);
    const first = dev.sessionId;
    const lost = new Promise((r) => dev.once('link-lost', r));
    const again = new Promise<{ resumed: boolean; sessionId: string }>((r) => dev.once('registered', r));
    await server.drop();
    await lost;
    const info = await again;
    expect(info.resumed).toBe(true);
    expect(info.sessionId).toBe(first);
    expect(Buffer.from(server.hellos[1]!.resume!).toString('hex')).toBe(first);
    expect(dev.session.history.map((h) => h.to)).toEqual(expect.arrayContaining(['backoff', 'connecting', 'hello', 'auth', 'ready']));
  });

  it('receives a real ONNX model, loads it, and answers INFER with the reference result; STATE counts it', async () => {
    const server = new ScriptedServer({ key, stateMs: 50 });
    const dev = await start(server);
    const { result } = await server.deploy(model('mlp-classifier'), { deploymentId: 1, service: 'cls', version: 'v1' });
    expect(expectOk(result, 'DEPLOY_RESULT')).toMatchObject({ state: 'ready', activeVersion: 'v1' });
    expect(server.results.map((r) => r.state)).toEqual(expect.arrayContaining(['verifying', 'loading']));
    const w = readWeights(join(fixturesDir(), 'mlp-classifier.onnx'));
    for (let s = 0; s < 3; s++) {
      const x = mlpInput(s);
      const rsp = expectOk(await server.infer('cls', [tensorFrom('input', Float32Array.from(x), [1, 16])]), 'INFER_RESPONSE');
      expect(Number((tensorValues(rsp.outputs.find((o) => o.name === 'class')!) as BigInt64Array)[0])).toBe(mlpReference(w, x).cls);
      expect(rsp.computeUs).toBeGreaterThanOrEqual(0);
    }
    const st = await server.waitFor('state', (s) => s.services.some((x: { served: number }) => x.served > 0));
    expect(st.services[0]).toMatchObject({ name: 'cls', version: 'v1', status: 'ready' });
    expect(dev.serviceInfo()).toEqual([{ name: 'cls', version: 'v1', status: 'ready', kind: 'onnx' }]);
    // Wrong inputs come back as a typed ERROR, not a dropped request.
    await expect(server.infer('cls', [tensorFrom('input', new Float32Array(3), [1, 3])])).rejects.toMatchObject({ code: 'infer.bad_input' });
    await expect(server.infer('nope', [tensorFrom('input', new Float32Array(16), [1, 16])])).rejects.toBeInstanceOf(InferError);
  });

  it('completes a deployment when every third chunk is discarded (go-back-N)', async () => {
    const server = new ScriptedServer({ key });
    // Kept to 8 chunks: src/device-mgmt/deployment/sender.ts (at the time of writing) only resets its
    // stall counter inside a go-back, so periodic drops over a long transfer add up to a false "stalled".
    await start(server, { hooks: { acceptChunk: (_c, i) => i % 3 !== 2 } });
    const r = await server.deploy(model('mlp-classifier'), { deploymentId: 2, service: 'cls', version: 'v1', chunkSize: 400 });
    expect(expectOk(r.result, 'DEPLOY_RESULT').state).toBe('ready');
    expect(r.goBacks).toBeGreaterThan(0);
  });

  it('resumes a deployment after the device reboots mid-transfer', async () => {
    const server = new ScriptedServer({ key });
    const dataDir = tmp();
    const bytes = model('token-decoder');
    let stored = 0;
    const dev1 = await EparaDevice.connect({ connector: server.connector(), id: 'dev-1', key, deviceClass: 'microcomputer', dataDir, hooks: { chunkStored: (i) => void (stored = i.nextOffset) } });
    expectOk(await server.offer(bytes, { deploymentId: 5, service: 'llm', version: 'v1' }), 'DEPLOY_ACCEPT');
    for (let off = 0; off < 4096; off += 256) expectOk(await server.chunk(5, off, bytes.subarray(off, off + 256)), 'DEPLOY_CHUNK_ACK');
    expect(stored).toBe(4096);
    await dev1.close({ graceful: false }); // power cut
    const dev2 = await start(server, { dataDir });
    const r = await server.deploy(bytes, { deploymentId: 5, service: 'llm', version: 'v1' });
    expect(r.startOffset).toBe(4096);
    expect(expectOk(r.result, 'DEPLOY_RESULT').state).toBe('ready');
    const ctx = BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    const rsp = expectOk(await server.infer('llm', [tensorFrom('tokens', ctx, [1, 8])]), 'INFER_RESPONSE');
    expect(rsp.outputs.map((o) => o.name)).toEqual(['logits', 'next_token']);
    expect(dev2.serviceInfo()[0]!.status).toBe('ready');
  });

  it('keeps serving v1 and reports rolled-back when v2 fails to load; a first deploy that fails is failed', async () => {
    const server = new ScriptedServer({ key });
    const dataDir = tmp();
    const dev = await start(server, { dataDir });
    expectOk((await server.deploy(model('mlp-classifier'), { deploymentId: 1, service: 'cls', version: 'v1' })).result, 'DEPLOY_RESULT');
    const bad = expectOk((await server.deploy(model('broken'), { deploymentId: 2, service: 'cls', version: 'v2' })).result, 'DEPLOY_RESULT');
    expect(bad).toMatchObject({ state: 'rolled-back', code: 404, activeVersion: 'v1' });
    expectOk(await server.infer('cls', [tensorFrom('input', new Float32Array(16), [1, 16])]), 'INFER_RESPONSE');
    expect((await dev.store.active('cls')).current?.version).toBe('v1');
    const fresh = expectOk((await server.deploy(model('broken'), { deploymentId: 3, service: 'seg', version: 'v1' })).result, 'DEPLOY_RESULT');
    expect(fresh).toMatchObject({ state: 'failed', code: 404 });
    expect(dev.serviceInfo().find((s) => s.name === 'seg')?.status).toBe('failed');
  });

  it('serves what it had after a restart, without redeploying', async () => {
    const server = new ScriptedServer({ key });
    const dataDir = tmp();
    const dev1 = await EparaDevice.connect({ connector: server.connector(), id: 'dev-1', key, deviceClass: 'microcomputer', dataDir });
    await server.deploy(model('conv-segmenter'), { deploymentId: 1, service: 'seg', version: 'v3' });
    await dev1.close();
    await start(server, { dataDir });
    const rsp = expectOk(await server.infer('seg', [tensorFrom('image', new Float32Array(64).fill(0.5), [1, 1, 8, 8])]), 'INFER_RESPONSE');
    expect(rsp.outputs[1]).toMatchObject({ name: 'mask', dtype: 'uint8', shape: [1, 8, 8] });
  });

  it('answers deadline expiry, cancellation and batching over the wire', async () => {
    const server = new ScriptedServer({ key, stateMs: 100_000 });
    const dev = await start(server);
    const gates: Array<() => void> = [];
    const batches: number[] = [];
    const echo = (inputs: Tensor[]) => [tensorFrom('y', Float32Array.from(tensorValues(inputs[0]!) as Float32Array), inputs[0]!.shape)];
    dev.registerHandler('slow', async (inputs, ctx) => {
      await new Promise<void>((r) => gates.push(r));
      batches.push(ctx.batch);
      return echo(inputs);
    }, {
      batchHandler: async (batch, ctx) => {
        await new Promise<void>((r) => gates.push(r));
        batches.push(ctx.batch);
        return batch.map(echo);
      },
    });
    const x = (v: number) => [tensorFrom('x', new Float32Array([v]), [1, 1])];
    // Deadline: the handler never finishes in time.
    await expect(server.infer('slow', x(1), { deadlineUs: 30_000 })).rejects.toMatchObject({ code: 'infer.deadline', wire: 501 });
    gates.splice(0).forEach((g) => g());
    // Cancellation of a running request.
    const p = server.infer('slow', x(2), { requestId: 77 });
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 5));
    await server.cancel(77);
    await expect(p).rejects.toMatchObject({ code: 'infer.cancelled', wire: 503 });
    gates.splice(0).forEach((g) => g());
    // Batching once PLACEMENT asks for batch 4.
    const ack = expectOk(await server.placement(1, [{ action: 'configure', service: 'slow', settings: { batch: 4 } }]), 'PLACEMENT_ACK');
    expect(ack.results).toEqual([{ service: 'slow', code: 0 }]);
    const first = server.infer('slow', x(10));
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 5));
    const rest = [11, 12, 13].map((v) => server.infer('slow', x(v)));
    while (dev.buildState().services[0]!.queueLen < 4) await new Promise((r) => setTimeout(r, 5));
    gates.shift()!();
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 5));
    gates.shift()!();
    const outs = await Promise.all([first, ...rest]);
    expect(outs.map((o) => (tensorValues(expectOk(o, 'INFER_RESPONSE').outputs[0]!) as Float32Array)[0])).toEqual([10, 11, 12, 13]);
    expect(batches.slice(-2)).toEqual([1, 3]);
  });

  it('applies PLACEMENT load/unload/configure, refuses stale plans and unknown services', async () => {
    const server = new ScriptedServer({ key });
    const dev = await start(server);
    await server.deploy(model('mlp-classifier'), { deploymentId: 1, service: 'cls', version: 'v1' });
    let ack = expectOk(await server.placement(3, [{ action: 'unload', service: 'cls' }, { action: 'load', service: 'ghost' }]), 'PLACEMENT_ACK');
    expect(ack.results).toEqual([{ service: 'cls', code: 0 }, { service: 'ghost', code: 601 }]);
    expect(dev.serviceInfo()[0]!.status).toBe('unloaded');
    await expect(server.infer('cls', [tensorFrom('input', new Float32Array(16), [1, 16])])).rejects.toMatchObject({ code: 'infer.unknown_service' });
    ack = expectOk(await server.placement(2, [{ action: 'load', service: 'cls' }]), 'PLACEMENT_ACK');
    expect(ack.results[0]!.code).toBe(602);
    ack = expectOk(await server.placement(4, [{ action: 'load', service: 'cls', version: 'v1', settings: { batch: 2, maxQueue: 8 } }]), 'PLACEMENT_ACK');
    expect(ack.results[0]!.code).toBe(0);
    expect(dev.buildState().services[0]).toMatchObject({ status: 'ready', batch: 2 });
    expectOk(await server.infer('cls', [tensorFrom('input', new Float32Array(16), [1, 16])]), 'INFER_RESPONSE');
  });

  it('refuses artifact kinds it has no runtime for with deploy.unsupported_kind', async () => {
    const server = new ScriptedServer({ key });
    await start(server);
    await expect(server.deploy(new Uint8Array(100), { deploymentId: 9, service: 'fc', version: 'v1', kind: 'int8-fc-weights' })).rejects.toMatchObject({ code: 'deploy.unsupported_kind', wire: 403 });
  });

  it('fits STATE into a small negotiated frame by reporting fewer services rather than none', async () => {
    const server = new ScriptedServer({ key, maxFrame: 160, stateMs: 50 });
    const dev = await start(server);
    for (let i = 0; i < 12; i++) dev.registerHandler(`service-number-${i}`, (inputs) => inputs);
    const st = await server.waitFor('state', (m) => m.services.length > 0);
    expect(st.services.length).toBeGreaterThan(0);
    expect(st.services.length).toBeLessThan(12);
    expect(st.link).toBeUndefined();
  });

  it('answers hostile PLACEMENT settings with a code instead of failing, and works over a single stream', async () => {
    const server = new ScriptedServer({ key });
    const { memoryPair } = await import('../../src/transport/memory.js');
    const [devEnd, srvEnd] = memoryPair();
    server.attach(srvEnd);
    const dev = await EparaDevice.connect({ stream: devEnd, id: 'dev-1', key, deviceClass: 'mcu', dataDir: tmp() });
    cleanups.push(() => dev.close());
    dev.registerHandler('h', (inputs) => inputs);
    const ack = expectOk(await server.placement(1, [{ action: 'configure', service: 'h', settings: { batch: 100_000 } }]), 'PLACEMENT_ACK');
    expect(ack.results).toEqual([{ service: 'h', code: 113 }]);
    expect(dev.buildState().services[0]!.batch).toBe(1);
    // The single stream drops: no connector to reconnect with, so the device closes.
    const closed = new Promise((r) => dev.on('state', (s) => s === 'closed' && r(s)));
    await server.drop();
    await closed;
    expect(dev.state).toBe('closed');
  });

  it('on boot, rolls back to the previous version when the active artifact no longer loads', async () => {
    const server = new ScriptedServer({ key });
    const dataDir = tmp();
    const dev1 = await EparaDevice.connect({ connector: server.connector(), id: 'dev-1', key, deviceClass: 'microcomputer', dataDir });
    await server.deploy(model('mlp-classifier'), { deploymentId: 1, service: 'cls', version: 'v1' });
    await server.deploy(model('conv-segmenter'), { deploymentId: 2, service: 'cls', version: 'v2' });
    const { current } = await dev1.store.active('cls');
    expect(current?.version).toBe('v2');
    await dev1.close();
    // The v2 file is damaged while the device is off (bad flash, full disk…).
    const { writeFileSync } = await import('node:fs');
    writeFileSync(current!.path, model('broken'));
    const dev2 = await start(server, { dataDir });
    expect(dev2.serviceInfo()).toEqual([{ name: 'cls', version: 'v1', status: 'ready', kind: 'onnx' }]);
    expect((await dev2.store.active('cls')).current?.version).toBe('v1');
    expectOk(await server.infer('cls', [tensorFrom('input', new Float32Array(16), [1, 16])]), 'INFER_RESPONSE');
  });
});
