import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { tensorFrom } from '../../src/protocol/index.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { until } from './helpers/raw-device.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('graceful shutdown', () => {
  it('drains an in-flight inference, says BYE, and refuses new work with a typed error', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-shut-'));
    const server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0 });
    await server.start();
    const { port } = await server.listenTcp({ port: 0 });
    const { key } = server.provision({ id: 'gpu', deviceClass: 'gpu-server' });
    const device = await EparaDevice.connect({ id: 'gpu', key, deviceClass: 'gpu-server', dataDir: join(dir, 'dev'), connector: () => connectTcp({ host: '127.0.0.1', port }), reconnect: { initialMs: 5000, maxMs: 5000 } });
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      device.registerHandler('slow', async (inputs) => {
        resolve();
        await new Promise<void>((r) => (release = r));
        return inputs;
      });
    });
    await until(() => server.candidates('slow').length === 1);
    const call = server.infer('slow', [tensorFrom('x', new Float32Array([1, 2]), [2])], { deadlineMs: 20_000 });
    await started;
    const closing = server.close({ drainMs: 20_000 });
    // The in-flight call is still waited for while the server drains.
    setTimeout(() => release(), 50);
    const r = await call;
    expect(r.deviceId).toBe('gpu');
    await closing;
    await until(() => device.state !== 'ready');
    expect(() => server.devices()).toThrowError(expect.objectContaining({ code: 'config.closed' }));
    await device.close();
  });

  it('answers a deploy() still waiting for an offline device when the server closes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-shut-'));
    const server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0 });
    await server.start();
    server.provision({ id: 'away', deviceClass: 'mcu' });
    const pending = server.deploy({ artifact: new Uint8Array([1, 2, 3]), service: 's', version: '1', kind: 'blob', category: 'latency-single', to: ['away'] });
    await server.close();
    const [rec] = await pending;
    expect(rec).toMatchObject({ deviceId: 'away', state: 'offered' });
  });
});
