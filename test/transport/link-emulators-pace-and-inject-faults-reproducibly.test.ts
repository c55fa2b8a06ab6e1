import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/protocol/index.js';
import { LINK_WIRE } from '../../src/transport/link-errors.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { BleRadio, defaultPacketsPerEvent } from '../../firmware-sims/links/ble-link.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { emulatedSerialPair, type SerialLinkOptions } from '../../firmware-sims/links/serial-link.js';
import { VirtualClock } from '../../firmware-sims/links/virtual-clock.js';

const arrivals = (s: ByteStream, clock: VirtualClock): Array<{ at: number; bytes: Uint8Array }> => {
  const out: Array<{ at: number; bytes: Uint8Array }> = [];
  s.on('data', (c) => out.push({ at: clock.now(), bytes: Uint8Array.from(c) }));
  return out;
};
const join = (xs: Array<{ bytes: Uint8Array }>): Uint8Array => Uint8Array.from(xs.flatMap((x) => [...x.bytes]));

async function carry(opts: SerialLinkOptions, data: Uint8Array) {
  const clock = new VirtualClock();
  const [a, b, ctl] = emulatedSerialPair({ ...opts, clock });
  const got = arrivals(b, clock);
  await clock.run(a.write(data));
  await clock.run();
  return { got, ctl, clock };
}

describe('emulated serial link', () => {
  it('paces at 10 bit times per byte (8N1) and adds latency, batching bytes per timer', async () => {
    const data = Uint8Array.from({ length: 960 }, (_, i) => i & 0xff);
    const { got, clock } = await carry({ baud: 9600, latencyMs: 25, tickMs: 10 }, data);
    expect(join(got)).toEqual(data);
    // 960 bytes at 960 B/s take 1000 ms of line time, then 25 ms of latency.
    expect(got.at(-1)!.at).toBeCloseTo(1025, 6);
    expect(clock.now()).toBeCloseTo(1025, 6);
    // Batched: one delivery per 10 ms tick (9 whole byte times fit in it), not one per byte.
    expect(got.length).toBe(Math.ceil(960 / 9));
  });

  it('is reproducible from its seed, and different seeds give different faults', async () => {
    const data = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff);
    const f = { baud: 1_000_000, lossRate: 0.01, bitFlipRate: 0.005, duplicateRate: 0.002, jitterMs: 3 };
    const r1 = await carry({ ...f, seed: 42 }, data);
    const r2 = await carry({ ...f, seed: 42 }, data);
    const r3 = await carry({ ...f, seed: 43 }, data);
    expect(join(r1.got)).toEqual(join(r2.got));
    expect(r1.ctl.counters).toEqual(r2.ctl.counters);
    expect(join(r1.got)).not.toEqual(join(r3.got));
    const c = r1.ctl.counters;
    // 1% of 20,000 bytes lost, within a generous band; flips and duplicates happened too.
    expect(c.bytesLost).toBeGreaterThan(120);
    expect(c.bytesLost).toBeLessThan(290);
    expect(c.bitsFlipped).toBeGreaterThan(40);
    expect(c.bytesDuplicated).toBeGreaterThan(10);
    expect(join(r1.got).length).toBe(data.length - c.bytesLost + c.bytesDuplicated);
  });

  it('truncates writes at the configured rate', async () => {
    const clock = new VirtualClock();
    const [a, b, ctl] = emulatedSerialPair({ baud: 1_000_000, truncateRate: 0.5, seed: 3, clock });
    const got = arrivals(b, clock);
    for (let i = 0; i < 40; i++) await clock.run(a.write(new Uint8Array(50).fill(i + 1)));
    await clock.run();
    expect(ctl.counters.writesTruncated).toBeGreaterThan(10);
    expect(ctl.counters.writesTruncated).toBeLessThan(30);
    expect(join(got).length).toBeLessThan(2000);
  });

  it('makes writers wait for drain once bufferBytes are queued, so memory stays bounded', async () => {
    const clock = new VirtualClock();
    const [a] = emulatedSerialPair({ baud: 9600, bufferBytes: 1000, clock });
    let resolved = 0;
    const writes = [0, 1, 2, 3].map(() => a.write(new Uint8Array(600)).then(() => resolved++));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(1); // 600 < 1000 queued; the second write pushed it over
    await clock.run(Promise.all(writes));
    expect(resolved).toBe(4);
  });

  it('disconnects after the configured byte count: both ends close with link.closed and writes fail typed', async () => {
    const clock = new VirtualClock();
    const [a, b, ctl] = emulatedSerialPair({ baud: 115200, disconnectAfterBytes: 500, clock });
    const closes: Array<string | undefined> = [];
    a.on('close', (e) => closes.push(e?.code));
    b.on('close', (e) => closes.push(e?.code));
    await clock.run(a.write(new Uint8Array(2000)).catch(() => undefined));
    await clock.run();
    expect(closes).toEqual(['link.closed', 'link.closed']);
    expect(ctl.counters.bytesCarried).toBeGreaterThanOrEqual(500);
    expect(ctl.counters.bytesCarried).toBeLessThan(700);
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'link.closed' });
  });

  it('changes fault rates mid-run', async () => {
    const clock = new VirtualClock();
    const [a, b, ctl] = emulatedSerialPair({ baud: 1_000_000, clock });
    const got = arrivals(b, clock);
    await clock.run(a.write(new Uint8Array(100).fill(1)));
    await clock.run();
    ctl.setFaults({ lossRate: 1 });
    await clock.run(a.write(new Uint8Array(100).fill(2)));
    await clock.run();
    expect(join(got)).toEqual(new Uint8Array(100).fill(1));
    expect(ctl.counters.bytesLost).toBe(100);
    expect(() => ctl.setFaults({ bitFlipRate: -1 })).toThrow(/bitFlipRate/);
  });

  it('rejects nonsense options with config errors', () => {
    expect(() => emulatedSerialPair({ baud: 0 })).toThrow(/baud=0/);
    expect(() => emulatedSerialPair({ lossRate: 1.5 })).toThrow(/lossRate/);
  });
});

describe('emulated BLE radio', () => {
  it('moves at most packetsPerEvent packets per connection interval, each ≤ MTU − 3', async () => {
    const clock = new VirtualClock();
    const radio = new BleRadio({ attMtu: 247, connIntervalMs: 30, packetsPerEvent: 4, clock });
    const at: number[] = [];
    radio.onPeripheralRx = () => at.push(clock.now());
    await clock.run(Promise.all(Array.from({ length: 10 }, () => radio.sendToPeripheral(new Uint8Array(244)))));
    await clock.run();
    expect(at).toEqual([30, 30, 30, 30, 60, 60, 60, 60, 90, 90]);
    await expect(radio.sendToPeripheral(new Uint8Array(245))).rejects.toMatchObject({ code: 'link.open_failed' });
  });

  it('loses notifications at the configured rate, reproducibly', async () => {
    const run = async (seed: number) => {
      const clock = new VirtualClock();
      const radio = new BleRadio({ attMtu: 23, connIntervalMs: 7.5, notifyLossRate: 0.2, seed, clock, queuePackets: 1000 });
      const got: number[] = [];
      radio.onCentralRx = (p) => got.push(p[0]!);
      for (let i = 0; i < 500; i++) void radio.sendToCentral(Uint8Array.of(i & 0xff));
      await clock.run();
      return got;
    };
    const g1 = await run(1);
    expect(g1).toEqual(await run(1));
    expect(500 - g1.length).toBeGreaterThan(60);
    expect(500 - g1.length).toBeLessThan(140);
  });

  it('derives packets per event from the PHY timing', () => {
    expect(defaultPacketsPerEvent(247, 7.5)).toBe(3);
    expect(defaultPacketsPerEvent(247, 30)).toBe(12);
    expect(defaultPacketsPerEvent(23, 30)).toBeGreaterThan(12);
  });
});

describe('building blocks', () => {
  it('mulberry32 is deterministic and roughly uniform', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('the link wire codes match the protocol error table', () => {
    for (const [name, wire] of Object.entries(LINK_WIRE)) {
      expect(ERROR_CODES.find((e) => e.name === name)?.wire).toBe(wire);
    }
  });

  it('a virtual clock reports a deadlock instead of hanging', async () => {
    const clock = new VirtualClock();
    await expect(clock.run(new Promise(() => undefined))).rejects.toThrow(/deadlock/);
  });
});
