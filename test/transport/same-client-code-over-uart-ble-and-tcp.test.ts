import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { connectBle, type NobleLike } from '../../src/transport/ble.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { openSerial } from '../../src/transport/serial.js';
import { connectTcp, listenTcp } from '../../src/transport/tcp.js';
import { sendArtifact } from './helpers/send-artifact.js';
import { EmulatedBleBindings, EmulatedPeripheral } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { ChunkSink } from '../../firmware-sims/links/chunk-sink.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { haveSocat, ptyPair } from './helpers/socat.js';

const withBindings = createRequire(import.meta.url)('@abandonware/noble/with-bindings') as (b: unknown) => NobleLike;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The client code under test: identical for every transport. */
async function exercise(hostStream: ByteStream, deviceStream: ByteStream): Promise<void> {
  const device = new FrameLink(deviceStream);
  const sink = new ChunkSink(5, 24 * 1024);
  sink.attach(device);
  const host = new FrameLink(hostStream);
  const pong = await host.request({ type: 'PING', data: Uint8Array.of(1, 2, 3) });
  expect(pong).toEqual({ type: 'PONG', data: Uint8Array.of(1, 2, 3) });
  const r = mulberry32(hostStream.kind.length);
  const data = Uint8Array.from({ length: sink.data.length }, () => r.int(256));
  await sendArtifact(host, { deploymentId: 5, data, window: 4 });
  expect(sha(sink.data)).toBe(sha(data));
  expect(host.stats.timeouts).toBe(0);
  await host.close();
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('one client code path, three real transports', () => {
  it.skipIf(!haveSocat)('UART over a kernel pty pair', async () => {
    const pair = await ptyPair();
    cleanups.push(() => pair.kill());
    const host = await openSerial({ path: pair.a, baudRate: 115200 });
    const dev = await openSerial({ path: pair.b, baudRate: 115200 });
    cleanups.push(() => dev.close());
    await exercise(host, dev);
  });

  it('BLE NUS through real noble and an emulated peripheral', async () => {
    const peripheral = new EmulatedPeripheral({ address: 'C0:FF:EE:00:20:01', name: 'same-code', profile: 'nus', radio: { attMtu: 247, connIntervalMs: 7.5 } });
    const noble = withBindings(new EmulatedBleBindings({ peripherals: [peripheral] }));
    const dev = new Promise<ByteStream>((r) => peripheral.once('connection', r));
    const host = await connectBle({ noble, name: 'same-code', timeoutMs: 5000 });
    await exercise(host, await dev);
  });

  it('TCP over loopback', async () => {
    const l = await listenTcp({ port: 0 });
    cleanups.push(() => l.close());
    const dev = new Promise<ByteStream>((r) => l.on('connection', r));
    const host = await connectTcp({ host: '127.0.0.1', port: l.port });
    await exercise(host, await dev);
  });
});
