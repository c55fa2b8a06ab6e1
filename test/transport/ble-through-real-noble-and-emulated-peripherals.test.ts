import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LinkError } from '../../src/errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { connectBle, loadNoble, type NobleLike } from '../../src/transport/ble.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { sendArtifact } from './helpers/send-artifact.js';
import { EmulatedBleBindings, EmulatedPeripheral, type EmulatedPeripheralSpec } from '../../firmware-sims/links/ble-peripheral-bindings.js';
import { ChunkSink } from '../../firmware-sims/links/chunk-sink.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

// The real library: noble's own Noble/Peripheral/Characteristic code runs against our bindings.
const withBindings = createRequire(import.meta.url)('@abandonware/noble/with-bindings') as (b: unknown) => NobleLike;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number): Uint8Array => {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => r.int(256));
};

function setup(spec: EmulatedPeripheralSpec, adapterState?: 'poweredOn' | 'unsupported' | 'unauthorized', realTime = false) {
  const clock = new VirtualClock();
  const peripheral = new EmulatedPeripheral(spec);
  const bindings = new EmulatedBleBindings({ peripherals: [peripheral], clock: realTime ? undefined : clock, adapterState });
  const noble = withBindings(bindings);
  // What the device firmware receives, chunk by chunk (one chunk = one ATT write).
  const deviceChunks: number[] = [];
  let deviceStream: ByteStream | undefined;
  peripheral.on('connection', (s) => {
    deviceStream = s;
    s.on('data', (c) => deviceChunks.push(c.length));
  });
  return { clock, peripheral, bindings, noble, deviceChunks, device: () => deviceStream };
}

describe.each([
  { profile: 'nus' as const, attMtu: 247, connIntervalMs: 7.5 },
  { profile: 'hm10' as const, attMtu: 23, connIntervalMs: 30 },
])('BLE $profile via real noble + emulated peripheral (ATT MTU $attMtu)', ({ profile, attMtu, connIntervalMs }) => {
  it('finds the peripheral, splits writes to MTU − 3, reassembles notifications, and carries a frame transfer', async () => {
    const t = setup({ address: 'C0:FF:EE:00:00:01', name: `epara-${profile}`, profile, radio: { attMtu, connIntervalMs } });
    const central = (await t.clock.run(connectBle({ noble: t.noble, name: `epara-${profile}`, service: profile })))!;
    expect(central.kind).toBe('ble');
    expect(central.description).toBe(`ble:c0:ff:ee:00:00:01 (epara-${profile}) ${profile} mtu=${attMtu}`);
    const deviceLink = new FrameLink(t.device()!, { clock: t.clock });
    const link = new FrameLink(central, { clock: t.clock });
    // Notifications: the device answers with a PONG of 64 bytes, larger than an HM-10 packet.
    const pong = await t.clock.run(link.request({ type: 'PING', data: bytes(64, 1) }));
    expect(pong).toEqual({ type: 'PONG', data: bytes(64, 1) });
    // Writes: a 16 KiB transfer in 500-byte frames must reach the device in ≤ MTU − 3 pieces.
    const data = bytes(16 * 1024, 2);
    const sink = new ChunkSink(3, data.length);
    sink.attach(deviceLink);
    await t.clock.run(sendArtifact(link, { deploymentId: 3, data, window: 4 }));
    expect(sha(sink.data)).toBe(sha(data));
    expect(Math.max(...t.deviceChunks)).toBe(attMtu - 3);
    expect(t.deviceChunks.every((n) => n <= attMtu - 3)).toBe(true);
    expect(t.peripheral.radio!.packetsPerEvent).toBeGreaterThan(0);
    await t.clock.run(link.close());
  });
});

describe('BLE failures', () => {
  it('recovers from lost notifications: the transfer through cumulative acks, requests through retransmission', async () => {
    const t = setup({ address: 'C0:FF:EE:00:00:02', name: 'lossy', profile: 'nus', radio: { attMtu: 247, connIntervalMs: 7.5, notifyLossRate: 0.05, seed: 3 } });
    const central = (await t.clock.run(connectBle({ noble: t.noble, address: 'c0:ff:ee:00:00:02' })))!;
    const sink = new ChunkSink(4, 8192);
    sink.attach(new FrameLink(t.device()!, { clock: t.clock }));
    const link = new FrameLink(central, { clock: t.clock, retries: 20 });
    const data = bytes(8192, 4);
    await t.clock.run(sendArtifact(link, { deploymentId: 4, data, window: 4 }));
    expect(sha(sink.data)).toBe(sha(data));
    expect(t.peripheral.radio!.counters.notificationsLost).toBeGreaterThan(0);
    expect(new Set(sink.executedSeqs).size).toBe(sink.executedSeqs.length);
    // A lost ack of a chunk is covered by the next one (the sender abandons the request); a
    // request with no later answer to stand in for it is retransmitted until answered.
    const lostBefore = t.peripheral.radio!.counters.notificationsLost;
    for (let i = 0; i < 60; i++) expect(await t.clock.run(link.request({ type: 'PING', data: bytes(8, i) }))).toEqual({ type: 'PONG', data: bytes(8, i) });
    expect(t.peripheral.radio!.counters.notificationsLost).toBeGreaterThan(lostBefore);
    expect(link.stats.retries).toBeGreaterThan(0);
  });

  it('a dropped connection closes the stream with link.closed and fails outstanding requests', async () => {
    const t = setup({ address: 'C0:FF:EE:00:00:03', name: 'dropper', profile: 'nus' });
    const central = (await t.clock.run(connectBle({ noble: t.noble, name: 'dropper' })))!;
    new FrameLink(t.device()!, { clock: t.clock }).on('request', () => undefined); // never answers
    const link = new FrameLink(central, { clock: t.clock, requestTimeoutMs: 10_000 });
    const closed = new Promise<LinkError | undefined>((r) => central.once('close', r));
    const pending = link.request({ type: 'HEARTBEAT', uptimeMs: 1 }).catch((e: unknown) => e);
    t.clock.setTimeout(() => t.bindings.dropConnection(t.peripheral.id), 100);
    const err = (await t.clock.run(pending)) as LinkError;
    expect(err.code).toBe('link.closed');
    expect((await closed)?.code).toBe('link.closed');
  });

  it('an adapter without BLE gives link.unavailable with a hint, through real noble', async () => {
    for (const state of ['unsupported', 'unauthorized'] as const) {
      const t = setup({ address: 'C0:FF:EE:00:00:04', name: 'x', profile: 'nus' }, state);
      const err = (await t.clock.run(connectBle({ noble: t.noble }).catch((e: unknown) => e))) as LinkError;
      expect(err).toBeInstanceOf(LinkError);
      expect(err.code).toBe('link.unavailable');
      expect(err.hint).toMatch(state === 'unauthorized' ? /setcap|root/ : /bluetoothctl/);
    }
  });

  it('no matching peripheral is a scan timeout that says what was looked for', async () => {
    const t = setup({ address: 'C0:FF:EE:00:00:05', name: 'present', profile: 'hm10' }, 'poweredOn', true);
    const err = (await connectBle({ noble: t.noble, name: 'absent', service: 'hm10', timeoutMs: 300 }).catch((e: unknown) => e)) as LinkError;
    expect(err.code).toBe('link.timeout');
    expect(err.reason).toMatch(/name "absent"/);
    expect(err.details).toMatchObject({ timer: 'scan' });
  });

  it('loading noble where there is no Bluetooth fails typed, never with a raw exception', async () => {
    const r = await loadNoble().then(
      () => 'loaded',
      (e: unknown) => e,
    );
    if (r !== 'loaded') {
      expect(r).toBeInstanceOf(LinkError);
      expect((r as LinkError).code).toBe('link.unavailable');
      expect((r as LinkError).hint.length).toBeGreaterThan(10);
    }
  });
});
