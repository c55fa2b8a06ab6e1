import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EparaDevice } from '../../src/client/device.js';
import { EparaServer } from '../../src/server-adapter/server.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { haveOpenssl, makeTestPki } from '../transport/helpers/certs.js';
import { until } from './helpers/raw-device.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveOpenssl)('device links over TLS', () => {
  it('registers a device over mutual TLS; a client without a CA-signed certificate never reaches the handshake', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epara-tls-'));
    const pki = makeTestPki();
    const server = new EparaServer({ dataDir: join(dir, 'srv'), rttProbeMs: 0 });
    await server.start();
    const { port, description } = await server.listenTcp({ port: 0, tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true } });
    expect(description).toMatch(/^tls:/);
    const { key } = server.provision({ id: 'edge-1', deviceClass: 'gpu-server' });
    const device = await EparaDevice.connect({
      id: 'edge-1',
      key,
      deviceClass: 'gpu-server',
      dataDir: join(dir, 'dev'),
      connector: () => connectTcp({ host: '127.0.0.1', port, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
    });
    await until(() => server.device('edge-1')?.state === 'active');
    const rogue = await connectTcp({ host: '127.0.0.1', port, tls: { ca: pki.ca, cert: pki.rogueClientCert, key: pki.rogueClientKey } }).catch((e: { code: string }) => e);
    expect((rogue as { code?: string }).code).toMatch(/^link\./);
    expect(server.device('edge-1')!.state).toBe('active');
    await device.close();
    await server.close();
  });
});
