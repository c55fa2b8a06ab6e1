/**
 * The kit's end of one link to the device under test: raw frames in and out, nothing hidden.
 * Unlike FrameLink it never retransmits, never answers on its own unless told to (HEARTBEAT and
 * PING, so a device stays registered while a check looks elsewhere), and lets a check put any
 * bytes on the wire: a chosen `seq`, the RTX flag, a hand-made body, a corrupt frame.
 */
import { EventEmitter } from 'node:events';
import { cobsEncode } from '../protocol/cobs.js';
import { FLAG_RSP, FLAG_RTX, MAX_MAX_FRAME, PROTOCOL_MAX, PROTOCOL_MIN } from '../protocol/constants.js';
import { buildFrame, encodeFrame, type Frame } from '../protocol/frame.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import type { Message, MessageName } from '../protocol/messages/types.js';
import type { ProtocolError } from '../errors.js';
import type { ByteStream } from '../transport/byte-stream.js';

/** One thing heard from the device: a frame, or a piece that did not decode. */
export interface Heard {
  /** ms since the peer was created */
  at: number;
  frame?: Frame;
  error?: ProtocolError;
}

export interface SendOptions {
  rsp?: boolean;
  corr?: number;
  rtx?: boolean;
  /** Reuse this seq (a retransmission); otherwise the next one is taken. */
  seq?: number;
}

export interface AutoAnswer {
  /** Answer the device's HEARTBEAT with HEARTBEAT_ACK granting this lease (0 = stay silent). */
  heartbeatLeaseMs: number;
  /** Answer the device's PING with PONG. */
  ping: boolean;
}

export class Peer extends EventEmitter {
  readonly heard: Heard[] = [];
  readonly t0 = performance.now();
  closed = false;
  closedAt = -1;
  /** Frames and bytes the kit sent (for the report). */
  sentFrames = 0;
  auto: AutoAnswer = { heartbeatLeaseMs: 60_000, ping: true };
  /**
   * The protocol version the kit encodes at (SPEC §8): 1 until a CHALLENGE names the session's
   * version, so nothing a later version added ever reaches a version-1 device.
   */
  version = PROTOCOL_MIN;
  private nextSeq: number;
  /**
   * Decodes every key the kit knows whatever the session's version: a version-2 key that a device
   * sends in a version-1 session is seen (and fails version.v1-session) instead of being dropped
   * as unknown.
   */
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, protocolVersion: PROTOCOL_MAX });
  private waiters = new Set<() => void>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly stream: ByteStream,
    firstSeq = 0,
  ) {
    super();
    this.nextSeq = firstSeq & 0xffff;
    stream.on('data', (chunk) => {
      for (const item of this.decoder.push(chunk)) {
        const h: Heard = item instanceof Error ? { at: this.now(), error: item as ProtocolError } : { at: this.now(), frame: item };
        this.heard.push(h);
        if (h.frame) this.autoAnswer(h.frame);
      }
      this.wake();
    });
    stream.once('close', () => {
      this.closed = true;
      this.closedAt = this.now();
      this.wake();
      this.emit('close');
    });
  }

  get description(): string {
    return this.stream.description;
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** Index of the next thing heard: pass it to waitFor to look only at what comes after. */
  mark(): number {
    return this.heard.length;
  }

  takeSeq(): number {
    const s = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    return s;
  }

  async send(msg: Message, o: SendOptions = {}): Promise<number> {
    const seq = o.seq ?? this.takeSeq();
    await this.write(encodeFrame(msg, { seq, corr: o.corr ?? 0, rsp: o.rsp ?? false, rtx: o.rtx ?? false, maxFrame: MAX_MAX_FRAME, protocolVersion: this.version }));
    return seq;
  }

  /** A frame with a hand-made body (valid CRC): for bodies the codec refuses to encode. */
  async sendBody(type: number, body: Uint8Array, o: SendOptions & { flags?: number } = {}): Promise<number> {
    const seq = o.seq ?? this.takeSeq();
    const flags = o.flags ?? ((o.rsp ? FLAG_RSP : 0) | (o.rtx ? FLAG_RTX : 0));
    await this.write(wireOf(buildFrame(type, flags, seq, o.corr ?? 0, body)));
    return seq;
  }

  /** Bytes exactly as given (garbage, corrupt frames, vectors). */
  write(bytes: Uint8Array): Promise<void> {
    return this.writePieces([bytes], 0);
  }

  /**
   * Bytes in several writes `gapMs` apart (a frame split across reads). Writes are serialised, so
   * an automatic answer never lands inside a split frame and corrupts both.
   */
  writePieces(pieces: Uint8Array[], gapMs: number): Promise<void> {
    const run = async (): Promise<void> => {
      for (let i = 0; i < pieces.length; i++) {
        if (this.closed) return;
        if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        await this.stream.write(pieces[i]!).catch(() => undefined);
      }
      this.sentFrames++;
    };
    const next = this.writing.then(run);
    this.writing = next;
    return next;
  }

  /** The first thing heard at or after `from` that matches, or undefined after `timeoutMs`. */
  async waitFor(pred: (h: Heard) => boolean, timeoutMs: number, from = 0): Promise<Heard | undefined> {
    const end = performance.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.heard.length; i++) if (pred(this.heard[i]!)) return this.heard[i];
      const left = end - performance.now();
      if (left <= 0 || this.closed) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /** A frame of this type (and, for responses, answering `corr`) heard at or after `from`. */
  waitType(type: MessageName, timeoutMs: number, from = 0): Promise<Heard | undefined> {
    return this.waitFor((h) => h.frame?.message.type === type, timeoutMs, from);
  }

  /** The answer (RSP set, corr = seq) to our request `seq`. */
  waitAnswer(seq: number, timeoutMs: number, from = 0): Promise<Heard | undefined> {
    return this.waitFor((h) => !!h.frame && (h.frame.header.flags & FLAG_RSP) !== 0 && h.frame.header.corr === seq, timeoutMs, from);
  }

  /** Send a request and wait for its answer (a response or an ERROR). */
  async request(msg: Message, timeoutMs: number): Promise<{ seq: number; answer?: Frame }> {
    const from = this.mark();
    const seq = await this.send(msg);
    return { seq, answer: (await this.waitAnswer(seq, timeoutMs, from))?.frame };
  }

  /** Wait until the link closes (true) or `timeoutMs` passes (false). */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    await this.waitFor(() => false, timeoutMs);
    return this.closed;
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => undefined);
  }

  private autoAnswer(f: Frame): void {
    const h = f.header;
    if (h.flags & FLAG_RSP) return;
    if (f.message.type === 'HEARTBEAT' && this.auto.heartbeatLeaseMs > 0) {
      void this.send({ type: 'HEARTBEAT_ACK', leaseMs: this.auto.heartbeatLeaseMs }, { rsp: true, corr: h.seq }).catch(() => undefined);
    } else if (f.message.type === 'PING' && this.auto.ping) {
      const data = f.message.data;
      void this.send(data ? { type: 'PONG', data } : { type: 'PONG' }, { rsp: true, corr: h.seq }).catch(() => undefined);
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** COBS(frame) followed by the 0x00 delimiter. */
export function wireOf(frame: Uint8Array): Uint8Array {
  const enc = cobsEncode(frame);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}
