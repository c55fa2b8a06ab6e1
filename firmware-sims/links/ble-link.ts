import { resolveNumbers, type NumberOptionSpec } from '../../src/options.js';
import { realClock, type Clock, type TimerHandle } from '../../src/transport/clock.js';
import { linkError } from '../../src/transport/link-errors.js';
import { mulberry32, type Prng } from './prng.js';

/**
 * A BLE connection emulator at the granularity that decides throughput: connection events. Every
 * `connIntervalMs` the two sides exchange up to `packetsPerEvent` ATT packets in each direction,
 * each at most ATT_MTU − 3 bytes of payload. Idle links schedule no timers. Notifications
 * (peripheral → central) can be lost at `notifyLossRate` — a stand-in for a peripheral whose
 * notification queue overflows — while writes without response are carried reliably, as the link
 * layer acknowledges them.
 */
export interface BleRadioOptions {
  /** Negotiated ATT MTU (23 is the BLE 4.0 default; 247 fills one 251-byte LL PDU with DLE). */
  attMtu?: number;
  connIntervalMs?: number;
  /**
   * ATT packets per direction per connection event. Default: what fits in the interval at 1M PHY
   * with data length extension — each exchange is one full PDU ((MTU+4+10)·8 µs) plus an empty
   * reply (80 µs) and two 150 µs inter-frame spaces.
   */
  packetsPerEvent?: number;
  notifyLossRate?: number;
  /** Packets a side may queue before its writes wait (a controller's TX buffers). */
  queuePackets?: number;
  seed?: number;
  clock?: Clock;
}

export const BLE_RADIO_OPTIONS: Record<'attMtu' | 'connIntervalMs' | 'packetsPerEvent' | 'notifyLossRate' | 'queuePackets' | 'seed', NumberOptionSpec> = {
  attMtu: { default: 247, min: 23, max: 517, integer: true, unit: 'bytes' },
  connIntervalMs: { default: 30, min: 7.5, max: 4000, unit: 'ms' },
  packetsPerEvent: { default: 0, min: 0, max: 64, integer: true },
  notifyLossRate: { default: 0, min: 0, max: 1 },
  queuePackets: { default: 16, min: 1, max: 4096, integer: true },
  seed: { default: 1, min: 0, max: 0xffffffff, integer: true },
};

export function defaultPacketsPerEvent(attMtu: number, connIntervalMs: number): number {
  const exchangeUs = (Math.min(attMtu, 247) + 4 + 10) * 8 + 80 + 300;
  return Math.max(1, Math.floor((connIntervalMs * 1000) / exchangeUs));
}

class Queue {
  packets: Uint8Array[] = [];
  waiters: Array<() => void> = [];
}

export class BleRadio {
  readonly attMtu: number;
  readonly connIntervalMs: number;
  readonly packetsPerEvent: number;
  readonly counters = { toPeripheral: 0, toCentral: 0, notificationsLost: 0, events: 0 };
  /** Called with each packet that arrives at the peripheral / at the central. */
  onPeripheralRx: (pdu: Uint8Array) => void = () => undefined;
  onCentralRx: (pdu: Uint8Array) => void = () => undefined;
  private readonly o: Record<keyof typeof BLE_RADIO_OPTIONS, number>;
  private readonly clock: Clock;
  private readonly rng: Prng;
  private readonly up = new Queue(); // central → peripheral
  private readonly down = new Queue(); // peripheral → central
  private timer?: TimerHandle;
  private stopped = false;

  constructor(opts: BleRadioOptions = {}) {
    this.o = resolveNumbers(BLE_RADIO_OPTIONS, opts as Record<string, unknown>);
    this.clock = opts.clock ?? realClock;
    this.rng = mulberry32(this.o.seed);
    this.attMtu = this.o.attMtu;
    this.connIntervalMs = this.o.connIntervalMs;
    this.packetsPerEvent = this.o.packetsPerEvent || defaultPacketsPerEvent(this.attMtu, this.connIntervalMs);
  }

  /** ATT payload per packet. */
  get payload(): number {
    return this.attMtu - 3;
  }

  sendToPeripheral(pdu: Uint8Array): Promise<void> {
    return this.enqueue(this.up, pdu);
  }
  sendToCentral(pdu: Uint8Array): Promise<void> {
    return this.enqueue(this.down, pdu);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    for (const q of [this.up, this.down]) {
      q.packets = [];
      for (const w of q.waiters.splice(0)) w();
    }
  }

  private enqueue(q: Queue, pdu: Uint8Array): Promise<void> {
    if (this.stopped) return Promise.reject(linkError('link.closed', 'BLE connection is down', 'reconnect to the peripheral'));
    if (pdu.length > this.payload) {
      // What a real stack does with a write larger than the MTU allows: refuse it.
      return Promise.reject(linkError('link.open_failed', `ATT packet of ${pdu.length} bytes exceeds ATT_MTU ${this.attMtu} − 3`, 'split writes to ATT_MTU − 3 bytes'));
    }
    q.packets.push(Uint8Array.from(pdu));
    this.schedule();
    if (q.packets.length <= this.o.queuePackets) return Promise.resolve();
    return new Promise((r) => q.waiters.push(r));
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    const now = this.clock.now();
    const next = Math.floor(now / this.connIntervalMs + 1) * this.connIntervalMs;
    this.timer = this.clock.setTimeout(() => this.event(), next - now);
  }

  private event(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.counters.events++;
    for (let i = 0; i < this.packetsPerEvent && this.up.packets.length > 0; i++) {
      this.counters.toPeripheral++;
      this.onPeripheralRx(this.up.packets.shift()!);
    }
    for (let i = 0; i < this.packetsPerEvent && this.down.packets.length > 0; i++) {
      const p = this.down.packets.shift()!;
      if (this.rng.chance(this.o.notifyLossRate)) {
        this.counters.notificationsLost++;
        continue;
      }
      this.counters.toCentral++;
      this.onCentralRx(p);
    }
    for (const q of [this.up, this.down]) {
      while (q.waiters.length > 0 && q.packets.length <= this.o.queuePackets) q.waiters.shift()!();
    }
    if (this.up.packets.length > 0 || this.down.packets.length > 0) this.schedule();
  }
}
