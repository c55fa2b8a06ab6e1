/**
 * Deployment failure handling and request serving between EparaDevice and the real EparaServer:
 * rollback on a model that does not load, deadline expiry, batching set by PLACEMENT, and the
 * STATE figures (queue length, SLO violations) the server's scheduler reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { tensorFrom, tensorValues, type Tensor } from '../../src/protocol/index.js';
import { fixturesDir } from '../../scripts/gen-models.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'epara-serve-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function setup(id = 'dev-1') {
  const server = new EparaServer({ dataDir: tmp(), periods: { stateSyncMs: 150, heartbeatMs: 1000 } });
  await server.start();
  cleanups.push(() => server.close({ drainMs: 0 }));
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  const { key } = server.provision({ id, deviceClass: 'embedded-gpu' });
  const device = await EparaDevice.connect({ connector: () => connectTcp({ host: '127.0.0.1', port }), id, key, deviceClass: 'embedded-gpu', dataDir: tmp() });
  cleanups.push(() => device.close());
  return { server, device, id };
}
const model = (n: string) => join(fixturesDir(), `${n}.onnx`);
const viewOf = (server: EparaServer, id: string, service: string) => server.device(id)?.view?.services.find((s) => s.name === service);

describe('serving through the real server', () => {
  it('rolls back to the previous version when the new model fails to load, and keeps serving it', async () => {
    const { server, device, id } = await setup();
    const [v1] = await server.deploy({ artifact: model('mlp-classifier'), service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    expect(v1!.state).toBe('ready');
    const [v2] = await server.deploy({ artifact: model('broken'), service: 'cls', version: '2', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    expect(v2).toMatchObject({ state: 'rolled-back', errorCode: 'deploy.load_failed' });
    expect(device.serviceInfo()).toEqual([{ name: 'cls', version: '1', status: 'ready', kind: 'onnx' }]);
    await until(() => viewOf(server, id, 'cls')?.status === 'ready');
    expect(viewOf(server, id, 'cls')?.version).toBe('1');
    const r = await server.infer('cls', [tensorFrom('input', new Float32Array(16).fill(0.3), [1, 16])], { deadlineMs: 5000 });
    expect(r.outputs[0]!.shape).toEqual([1, 4]);
    // A first deployment that fails leaves nothing to roll back to.
    const [seg] = await server.deploy({ artifact: model('broken'), service: 'seg', version: '1', kind: 'onnx', category: 'latency-single', to: [id], timeoutMs: 20_000 });
    expect(seg).toMatchObject({ state: 'failed', errorCode: 'deploy.load_failed' });
  });

  it('expires requests at their deadline, stops the handler, and reports the violation in STATE', async () => {
    const { server, device, id } = await setup();
    const aborted: string[] = [];
    device.registerHandler('slow', async (inputs, ctx) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          aborted.push(String((ctx.signal.reason as { code?: string })?.code));
          resolve();
        });
      });
      return inputs;
    });
    await until(() => server.candidates('slow').length === 1);
    await expect(server.infer('slow', [tensorFrom('x', new Float32Array([1]), [1])], { deadlineMs: 100 })).rejects.toMatchObject({ code: 'infer.deadline' });
    await until(() => aborted.length === 1);
    expect(aborted[0]).toMatch(/infer\.(deadline|cancelled)/);
    // The device's deadline runs from receipt, the server's from sending: on a loaded machine the
    // server's INFER_CANCEL can arrive first, and a request the device saw cancelled is not a
    // deadline violation of the device (the full suite in a fresh clone met that once). When the
    // device's own deadline fired, its STATE must report it.
    if (aborted[0] === 'infer.deadline') await until(() => (viewOf(server, id, 'slow')?.violationRate ?? 0) > 0);
  });

  it('batches concurrent requests once PLACEMENT sets batch 4, answering each request with its own output', async () => {
    const { server, device, id } = await setup();
    const batches: number[] = [];
    const double = (inputs: Tensor[]) => [tensorFrom('y', Float32Array.from(tensorValues(inputs[0]!) as Float32Array, (v) => v * 2), inputs[0]!.shape)];
    device.registerHandler('dbl', async (inputs) => {
      batches.push(1);
      await new Promise((r) => setTimeout(r, 40));
      return double(inputs);
    }, {
      batchHandler: async (batch) => {
        batches.push(batch.length);
        await new Promise((r) => setTimeout(r, 40));
        return batch.map(double);
      },
    });
    await until(() => server.candidates('dbl').length === 1);
    const codes = await server.sendPlacement(id, [{ action: 'configure', service: 'dbl', settings: { batch: 4 } }], 1);
    expect(codes).toEqual([{ service: 'dbl', code: 0 }]);
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => server.infer('dbl', [tensorFrom('x', new Float32Array([i]), [1])], { deadlineMs: 5000 })));
    expect(results.map((r) => (tensorValues(r.outputs[0]!) as Float32Array)[0])).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(9);
    await until(() => viewOf(server, id, 'dbl')?.batch === 4);
  });
});
