import type { ByteStream, LinkKind } from '../../src/transport/byte-stream.js';
import { BaseByteStream } from '../../src/transport/base-stream.js';
import { realClock, type Clock, type TimerHandle } from '../../src/transport/clock.js';
import { closedError, linkError } from '../../src/transport/link-errors.js';
import { resolveNumber, resolveNumbers, type NumberOptionSpec } from '../../src/options.js';
import { mulberry32, type Prng } from './prng.js';

/**
 * A byte-stream link emulator: two ByteStreams joined by a simulated UART (or SPP, or any serial
 * line). Each direction serialises bytes at 8N1 pacing (10 bit times per byte), then delivers them
 * after a latency plus jitter, injecting faults from a seeded PRNG so a failing run can be replayed.
 *
 * Timers are batched: one timer per transmitted batch (at most `tickMs` of line time), never one per byte.
 */
export interface SerialLinkOptions {
  /** Line rate in bit/s (8N1: 10 bits per byte). */
  baud?: number;
  /** One-way latency added after serialisation, ms. */
  latencyMs?: number;
  /** Extra uniform random latency 0..jitterMs per batch (order is preserved, like a real wire). */
  jitterMs?: number;
  /** Probability that a byte is lost. */
  lossRate?: number;
  /** Probability that a byte has one bit flipped. */
  bitFlipRate?: number;
  /** Bit error rate: every bit is flipped independently with this probability (a byte can take several). */
  bitErrorRate?: number;
  /** Probability that a byte is delivered twice. */
  duplicateRate?: number;
  /** Probability that a write() loses a random-length tail (a truncated frame). */
  truncateRate?: number;
  /** Drop the link after this many bytes have been carried in total (both directions). 0 = never. */
  disconnectAfterBytes?: number;
  /** Bytes a writer may queue before write() waits for drain (a UART driver's buffer). */
  bufferBytes?: number;
  /** Line time per timer batch, ms. */
  tickMs?: number;
  seed?: number;
  clock?: Clock;
  kind?: LinkKind;
  name?: string;
}

export const SERIAL_LINK_OPTIONS: Record<
  'baud' | 'latencyMs' | 'jitterMs' | 'lossRate' | 'bitFlipRate' | 'bitErrorRate' | 'duplicateRate' | 'truncateRate' | 'disconnectAfterBytes' | 'bufferBytes' | 'tickMs' | 'seed',
  NumberOptionSpec
> = {
  baud: { default: 115200, min: 300, max: 1_000_000_000, unit: 'bit/s' },
  latencyMs: { default: 0, min: 0, max: 60_000, unit: 'ms' },
  jitterMs: { default: 0, min: 0, max: 60_000, unit: 'ms' },
  lossRate: { default: 0, min: 0, max: 1 },
  bitFlipRate: { default: 0, min: 0, max: 1 },
  bitErrorRate: { default: 0, min: 0, max: 0.5 },
  duplicateRate: { default: 0, min: 0, max: 1 },
  truncateRate: { default: 0, min: 0, max: 1 },
  disconnectAfterBytes: { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, unit: 'bytes' },
  bufferBytes: { default: 4096, min: 1, max: 1 << 30, integer: true, unit: 'bytes' },
  tickMs: { default: 4, min: 0.01, max: 1000, unit: 'ms' },
  seed: { default: 1, min: 0, max: 0xffffffff, integer: true },
};

export interface LinkCounters {
  bytesCarried: number;
  bytesLost: number;
  bitsFlipped: number;
  bytesDuplicated: number;
  writesTruncated: number;
}

/** Controls shared by both ends of an emulated link. */
export interface LinkControl {
  /** Drops the link now: both ends close with link.closed. */
  disconnect(): void;
  readonly counters: LinkCounters;
  /** Changes fault rates mid-run (e.g. a clean handshake, then a noisy transfer). */
  setFaults(f: Partial<Pick<SerialLinkOptions, 'lossRate' | 'bitFlipRate' | 'bitErrorRate' | 'duplicateRate' | 'truncateRate'>>): void;
}

type Faults = { lossRate: number; bitFlipRate: number; bitErrorRate: number; duplicateRate: number; truncateRate: number };

/** One direction of the line: a bounded transmit queue, a pacer, and a delivery schedule. */
class Direction {
  private queue: Uint8Array[] = [];
  private head = 0; // read offset into queue[0]
  queued = 0;
  private pacing?: TimerHandle;
  private lastDeliveryAt = 0;
  private drainWaiters: Array<() => void> = [];
  private timers = new Set<TimerHandle>();
  /** Bits until the next independent bit error (bitErrorRate), drawn geometrically. */
  private bitsToError = -1;

  constructor(
    private readonly o: ReturnType<typeof resolveNumbers<keyof typeof SERIAL_LINK_OPTIONS>>,
    private readonly faults: Faults,
    private readonly clock: Clock,
    private readonly rng: Prng,
    private readonly counters: LinkCounters,
    private readonly deliver: (chunk: Uint8Array) => void,
    private readonly onCarried: (n: number) => void,
  ) {}

  enqueue(bytes: Uint8Array): Promise<void> {
    let b = Uint8Array.from(bytes);
    if (b.length > 1 && this.rng.chance(this.faults.truncateRate)) {
      b = b.subarray(0, this.rng.int(b.length));
      this.counters.writesTruncated++;
    }
    if (b.length > 0) {
      this.queue.push(b);
      this.queued += b.length;
    }
    if (!this.pacing) this.startBatch();
    if (this.queued < this.o.bufferBytes) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private startBatch(): void {
    if (this.queued === 0) {
      this.pacing = undefined;
      return;
    }
    const byteMs = 10_000 / this.o.baud;
    const n = Math.min(this.queued, Math.max(1, Math.floor(this.o.tickMs / byteMs)));
    const batch = this.take(n);
    this.pacing = this.clock.setTimeout(() => this.finishBatch(batch), n * byteMs);
  }

  private finishBatch(batch: Uint8Array): void {
    this.onCarried(batch.length);
    const out = this.applyFaults(batch);
    const jitter = this.o.jitterMs > 0 ? this.rng.next() * this.o.jitterMs : 0;
    const at = Math.max(this.lastDeliveryAt, this.clock.now() + this.o.latencyMs + jitter);
    this.lastDeliveryAt = at;
    if (out.length > 0) {
      const delay = at - this.clock.now();
      if (delay <= 0) this.deliver(out);
      else {
        const h: TimerHandle = this.clock.setTimeout(() => {
          this.timers.delete(h);
          this.deliver(out);
        }, delay);
        this.timers.add(h);
      }
    }
    if (this.queued < this.o.bufferBytes) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const r of w) r();
    }
    this.startBatch();
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const first = this.queue[0]!;
      const k = Math.min(n - filled, first.length - this.head);
      out.set(first.subarray(this.head, this.head + k), filled);
      filled += k;
      this.head += k;
      if (this.head === first.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    this.queued -= n;
    return out;
  }

  private applyFaults(batch: Uint8Array): Uint8Array {
    const f = this.faults;
    if (f.lossRate === 0 && f.bitFlipRate === 0 && f.bitErrorRate === 0 && f.duplicateRate === 0) return batch;
    const out: number[] = [];
    for (const byte of batch) {
      if (this.rng.chance(f.lossRate)) {
        this.counters.bytesLost++;
        continue;
      }
      let v = byte;
      if (this.rng.chance(f.bitFlipRate)) {
        v ^= 1 << this.rng.int(8);
        this.counters.bitsFlipped++;
      }
      if (f.bitErrorRate > 0) v = this.bitErrors(v, f.bitErrorRate);
      out.push(v);
      if (this.rng.chance(f.duplicateRate)) {
        out.push(v);
        this.counters.bytesDuplicated++;
      }
    }
    return Uint8Array.from(out);
  }

  /** Flips each of the byte's 8 bits independently with probability `ber` (geometric skips between errors). */
  private bitErrors(v: number, ber: number): number {
    let bit = 0;
    for (;;) {
      if (this.bitsToError < 0) this.bitsToError = Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - ber));
      if (bit + this.bitsToError >= 8) {
        this.bitsToError -= 8 - bit;
        return v;
      }
      bit += this.bitsToError;
      v ^= 1 << bit;
      this.counters.bitsFlipped++;
      bit++;
      this.bitsToError = -1;
      if (bit >= 8) return v;
    }
  }

  /** Stops everything; bytes still on the wire are lost, as on a real disconnect. */
  stop(): void {
    this.clock.clearTimeout(this.pacing);
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.queue = [];
    this.queued = 0;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
  }
}

class EmulatedSerialEnd extends BaseByteStream {
  constructor(
    readonly kind: LinkKind,
    readonly description: string,
    readonly baudRate: number,
    private readonly tx: () => Direction | undefined,
    private readonly onClose: () => void,
  ) {
    super();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const d = this.tx();
    if (!this.isOpen || !d) throw closedError(this.description);
    await d.enqueue(bytes);
    if (!this.isOpen) throw closedError(this.description);
  }

  async close(): Promise<void> {
    this.onClose();
  }

  receive(chunk: Uint8Array): void {
    this.emitData(chunk);
  }

  drop(error?: ReturnType<typeof closedError>): void {
    this.markClosed(error);
  }
}

/** Creates the two ends of an emulated serial line, plus its fault controls. */
export function emulatedSerialPair(opts: SerialLinkOptions = {}): [ByteStream, ByteStream, LinkControl] {
  const o = resolveNumbers(SERIAL_LINK_OPTIONS, opts as Record<string, unknown>);
  if (opts.clock !== undefined && typeof opts.clock.setTimeout !== 'function') {
    throw linkError('link.open_failed', 'option clock is not a Clock', 'pass realClock or a VirtualClock', { field: 'clock' });
  }
  const clock = opts.clock ?? realClock;
  const kind = opts.kind ?? 'emulated';
  const name = opts.name ?? `emulated-${kind}@${o.baud}`;
  const faults: Faults = {
    lossRate: o.lossRate,
    bitFlipRate: o.bitFlipRate,
    bitErrorRate: o.bitErrorRate,
    duplicateRate: o.duplicateRate,
    truncateRate: o.truncateRate,
  };
  const counters: LinkCounters = { bytesCarried: 0, bytesLost: 0, bitsFlipped: 0, bytesDuplicated: 0, writesTruncated: 0 };
  let alive = true;
  let a!: EmulatedSerialEnd;
  let b!: EmulatedSerialEnd;
  const onCarried = (n: number): void => {
    counters.bytesCarried += n;
    if (o.disconnectAfterBytes > 0 && counters.bytesCarried >= o.disconnectAfterBytes) drop();
  };
  // Separate PRNG streams per direction: faults on one side do not shift the other's pattern.
  const ab = new Direction(o, faults, clock, mulberry32(o.seed), counters, (c) => b.receive(c), onCarried);
  const ba = new Direction(o, faults, clock, mulberry32(o.seed ^ 0x9e3779b9), counters, (c) => a.receive(c), onCarried);
  const drop = (): void => {
    if (!alive) return;
    alive = false;
    ab.stop();
    ba.stop();
    a.drop(closedError(a.description));
    b.drop(closedError(b.description));
  };
  // Closing one end is a clean close for it and a dropped link for the peer.
  const closeFrom = (self: EmulatedSerialEnd, peer: EmulatedSerialEnd) => (): void => {
    if (!alive) return;
    alive = false;
    ab.stop();
    ba.stop();
    self.drop();
    peer.drop(closedError(peer.description));
  };
  a = new EmulatedSerialEnd(kind, `${name}:a`, o.baud, () => (alive ? ab : undefined), () => closeFrom(a, b)());
  b = new EmulatedSerialEnd(kind, `${name}:b`, o.baud, () => (alive ? ba : undefined), () => closeFrom(b, a)());
  const control: LinkControl = {
    disconnect: drop,
    counters,
    setFaults(f) {
      for (const k of ['lossRate', 'bitFlipRate', 'bitErrorRate', 'duplicateRate', 'truncateRate'] as const) {
        if (f[k] !== undefined) faults[k] = resolveNumber(k, f[k], SERIAL_LINK_OPTIONS[k]);
      }
    },
  };
  return [a, b, control];
}
