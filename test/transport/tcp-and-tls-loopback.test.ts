import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LinkError } from '../../src/errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { connectTcp, listenTcp } from '../../src/transport/tcp.js';
import { haveOpenssl, makeTestPki, type TestPki } from './helpers/certs.js';

const accept = (l: Awaited<ReturnType<typeof listenTcp>>): Promise<ByteStream> => new Promise((r) => l.on('connection', r));
const readN = (s: ByteStream, n: number): Promise<Buffer> =>
  new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const on = (c: Uint8Array): void => {
      parts.push(Buffer.from(c));
      got += c.length;
      if (got >= n) {
        s.off('data', on);
        resolve(Buffer.concat(parts));
      }
    };
    s.on('data', on);
  });

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('TCP over loopback', () => {
  it('binds 127.0.0.1 by default and carries 4 MiB both ways with drain backpressure', async () => {
    const l = await listenTcp({ port: 0 });
    cleanups.push(() => l.close());
    expect(l.description).toBe(`tcp://127.0.0.1:${l.port}`);
    const [server, client] = await Promise.all([accept(l), connectTcp({ host: '127.0.0.1', port: l.port })]);
    cleanups.push(() => client.close());
    expect(client.kind).toBe('tcp');
    const data = randomBytes(4 * 1024 * 1024);
    const got = readN(server, data.length);
    for (let off = 0; off < data.length; off += 65536) await client.write(data.subarray(off, off + 65536));
    const h = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(h((await got).subarray(0, data.length))).toBe(h(data));
    const back = readN(client, 3);
    await server.write(Uint8Array.from([1, 2, 3]));
    expect([...(await back)]).toEqual([1, 2, 3]);
  });

  it('refused connection is link.open_failed with a hint', async () => {
    const l = await listenTcp({ port: 0 });
    const port = l.port;
    await l.close();
    const err = (await connectTcp({ host: '127.0.0.1', port }).catch((e: unknown) => e)) as LinkError;
    expect(err).toBeInstanceOf(LinkError);
    expect(err.code).toBe('link.open_failed');
    expect(err.hint).toMatch(/gateway running/);
  });

  it('a peer hanging up closes the stream with link.closed and fails later writes', async () => {
    const l = await listenTcp({ port: 0 });
    cleanups.push(() => l.close());
    const [server, client] = await Promise.all([accept(l), connectTcp({ host: '127.0.0.1', port: l.port })]);
    const closed = new Promise<LinkError | undefined>((r) => client.once('close', r));
    await server.close();
    expect((await closed)?.code).toBe('link.closed');
    expect(((await client.write(Uint8Array.of(1)).catch((e: unknown) => e)) as LinkError).code).toBe('link.closed');
  });

  it('a port in use is link.busy; a bad port option is a config error', async () => {
    const l = await listenTcp({ port: 0 });
    cleanups.push(() => l.close());
    expect(((await listenTcp({ port: l.port }).catch((e: unknown) => e)) as LinkError).code).toBe('link.busy');
    await expect(connectTcp({ host: '127.0.0.1', port: 70000 })).rejects.toMatchObject({ code: 'config.range' });
  });
});

describe.skipIf(!haveOpenssl)('TLS over loopback', () => {
  let pki: TestPki;
  afterAll(() => pki?.cleanup());
  const getPki = (): TestPki => (pki ??= makeTestPki());

  it('connects with server and client certificates and carries bytes', async () => {
    const p = getPki();
    const l = await listenTcp({ port: 0, tls: { cert: p.serverCert, key: p.serverKey, ca: p.ca, requestCert: true } });
    cleanups.push(() => l.close());
    const [server, client] = await Promise.all([accept(l), connectTcp({ host: '127.0.0.1', port: l.port, tls: { ca: p.ca, cert: p.clientCert, key: p.clientKey } })]);
    cleanups.push(() => client.close());
    expect(client.kind).toBe('tls');
    expect(server.kind).toBe('tls');
    const got = readN(server, 5);
    await client.write(Uint8Array.from([9, 8, 7, 6, 0]));
    expect([...(await got)]).toEqual([9, 8, 7, 6, 0]);
  });

  it('refuses a server certificate from a CA the client does not trust (link.tls)', async () => {
    const p = getPki();
    const l = await listenTcp({ port: 0, tls: { cert: p.serverCert, key: p.serverKey } });
    cleanups.push(() => l.close());
    const err = (await connectTcp({ host: '127.0.0.1', port: l.port, tls: { ca: p.rogueCa } }).catch((e: unknown) => e)) as LinkError;
    expect(err).toBeInstanceOf(LinkError);
    expect(err.code).toBe('link.tls');
    expect(err.wire).toBe(308);
    expect(err.hint).toMatch(/tls\.ca/);
  });

  it('refuses a client certificate signed by the wrong CA on both sides, and keeps listening', async () => {
    const p = getPki();
    const l = await listenTcp({ port: 0, tls: { cert: p.serverCert, key: p.serverKey, ca: p.ca, requestCert: true } });
    cleanups.push(() => l.close());
    const serverSide = new Promise<LinkError>((r) => l.on('client-error', r));
    const err = (await connectTcp({ host: '127.0.0.1', port: l.port, tls: { ca: p.ca, cert: p.rogueClientCert, key: p.rogueClientKey } }).catch((e: unknown) => e)) as LinkError;
    expect(err).toBeInstanceOf(LinkError);
    expect(err.code).toBe('link.tls');
    expect((await serverSide).code).toBe('link.tls');
    // The listener survived: a good client still gets in.
    const good = await connectTcp({ host: '127.0.0.1', port: l.port, tls: { ca: p.ca, cert: p.clientCert, key: p.clientKey } });
    cleanups.push(() => good.close());
    expect(good.isOpen).toBe(true);
  });
});
