import { EventEmitter } from 'node:events';
import { EparaError, LinkError, type ProtocolError } from '../errors.js';
import type { EventArgs } from '../event-map.js';
import { resolveNumber } from '../options.js';
import {
  FLAG_RSP,
  FrameDecoder,
  MessageType,
  PROTOCOL_MIN,
  PROTOCOL_VERSION_SPEC,
  encodeFrame,
  errorForCode,
  errorFromWire,
  isRequestType,
  messageTypeName,
  toErrorMessage,
  type Frame,
  type FrameHeader,
  type Message,
} from '../protocol/index.js';
import type { ByteStream } from './byte-stream.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { FRAME_LINK_OPTIONS, attemptTimeoutMs, resolveFrameLinkOptions, type FrameLinkOptions, type ResolvedFrameLinkOptions } from './frame-link-options.js';
import { abandonedError, closedError, closedWhileError, noAnswerError } from './link-errors.js';
import { ResponseCache } from './response-cache.js';
import { fitError } from './fit-error.js';
import type { FrameLinkEvents, FrameLinkStats, Pending, ReplyFn, RequestOptions } from './frame-link-types.js';
import { RequestWindow } from './request-window.js';

export type { FrameLinkEvents, FrameLinkStats, ReplyFn, RequestOptions } from './frame-link-types.js';

// Per attempt the wait grows ×1.5 up to ×4: a congested link gets room, a dead one is found fast.
const BACKOFF = 1.5;
const BACKOFF_CAP = 4;
const MAX_IN_PROGRESS = 1024;

/**
 * The reliability layer above one ByteStream: frames (FrameDecoder / encodeFrame), sequence
 * numbers, request/response correlation, per-attempt timeouts with RTX retransmission, duplicate
 * suppression through a response cache, a sliding window of outstanding requests and write
 * backpressure. It never throws out of an event handler and never emits 'error': a dropped link
 * fails every outstanding request with link.closed and emits 'close'.
 *
 * Sessions (HELLO/AUTH, resume) live above it; reconnecting lives in reconnect.ts. One FrameLink
 * per ByteStream: after a reconnect, make a new one.
 */
export class FrameLink extends EventEmitter<EventArgs<FrameLinkEvents>> {
  /**
   * Whether PING is answered here with PONG. When it returns false the PING goes to the 'request'
   * listeners instead: a server answers a PING before the handshake with auth.not_authenticated
   * (SPEC §7.1), which only its session layer knows.
   */
  pingGate: (() => boolean) | undefined;

  /**
   * Sees the type of every message this link decodes ('in': every frame, responses and a peer's
   * retransmitted duplicates included) and of every message it sends ('out': once per message;
   * retransmissions are stats.retries). The server's per-type Prometheus counters hang here.
   */
  messageTap: ((direction: 'in' | 'out', type: Message['type']) => void) | undefined;

  readonly stats: FrameLinkStats = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    badFrames: 0,
    retries: 0,
    timeouts: 0,
    duplicates: 0,
    lateResponses: 0,
    requestsHandled: 0,
  };
  private readonly o: ResolvedFrameLinkOptions;
  /** The time source of this link's timers (a VirtualClock on emulated links). */
  readonly clock: Clock;
  private readonly decoder: FrameDecoder;
  private readonly cache: ResponseCache;
  private readonly pending = new Map<number, Pending>();
  private readonly inProgress = new Set<number>();
  private nextSeq = 1;
  private txTail: Promise<void> = Promise.resolve();
  private txQueued = 0;
  private closed = false;
  private _maxFrame: number;
  private readonly slots: RequestWindow;
  /** SPEC §8: version 1 until the handshake agrees on more, so nothing newer goes out before. */
  private _proto = PROTOCOL_MIN;

  constructor(
    readonly stream: ByteStream,
    opts?: FrameLinkOptions,
  ) {
    super();
    this.o = resolveFrameLinkOptions(stream.kind, opts, stream.baudRate);
    this.clock = opts?.clock ?? realClock;
    this._maxFrame = this.o.maxFrame;
    this.slots = new RequestWindow(this.o.window, this.o.maxQueuedRequests, () => stream.description);
    this.decoder = new FrameDecoder({ maxFrame: this._maxFrame, protocolVersion: this._proto });
    this.cache = new ResponseCache(this.o.responseCacheSize, this.o.responseCacheBytes);
    stream.on('data', this.onData);
    stream.once('close', this.onStreamClose);
    if (!stream.isOpen) queueMicrotask(() => this.shutdown(closedError(stream.description)));
  }

  get maxFrame(): number {
    return this._maxFrame;
  }
  get window(): number {
    return this.slots.size;
  }
  get outstanding(): number {
    return this.slots.inFlight;
  }
  get isOpen(): boolean {
    return !this.closed;
  }
  get options(): Readonly<ResolvedFrameLinkOptions> {
    return this.o;
  }

  /** The protocol version frames are encoded and decoded with (SPEC §8). */
  get protocolVersion(): number {
    return this._proto;
  }

  /** Applies the frame size, window and protocol version agreed in HELLO/CHALLENGE (SPEC §2.2, §5.2, §8). */
  setNegotiated(n: { maxFrame?: number; window?: number; protocolVersion?: number }): void {
    if (n.protocolVersion !== undefined) {
      this._proto = resolveNumber('protocolVersion', n.protocolVersion, PROTOCOL_VERSION_SPEC);
      this.decoder.protocolVersion = this._proto;
    }
    if (n.maxFrame !== undefined) {
      this._maxFrame = resolveNumber('maxFrame', n.maxFrame, FRAME_LINK_OPTIONS.maxFrame);
      this.decoder.maxFrame = this._maxFrame;
    }
    if (n.window !== undefined) {
      this.slots.resize(resolveNumber('window', n.window, FRAME_LINK_OPTIONS.window));
    }
  }

  /** Sends a request and resolves with its correlated answer (an ERROR answer rejects with its typed error). */
  async request(msg: Message, opts?: RequestOptions): Promise<Message> {
    if (this.closed) throw closedWhileError(this.stream.description, msg.type, undefined, 0);
    const retries = opts?.retries === undefined ? this.o.retries : resolveNumber('retries', opts.retries, FRAME_LINK_OPTIONS.retries);
    const base = opts?.timeoutMs === undefined ? undefined : resolveNumber('timeoutMs', opts.timeoutMs, FRAME_LINK_OPTIONS.requestTimeoutMs);
    const whole = opts?.attemptMs === undefined ? undefined : resolveNumber('attemptMs', opts.attemptMs, FRAME_LINK_OPTIONS.requestTimeoutMs);
    const signal = opts?.signal;
    if (signal?.aborted) throw abandonedError(signal, msg.type);
    await this.slots.acquire();
    if (signal?.aborted) {
      this.slots.release();
      throw abandonedError(signal, msg.type);
    }
    const seq = this.takeSeq();
    let wire: Uint8Array;
    try {
      wire = encodeFrame(msg, { seq, maxFrame: this._maxFrame, protocolVersion: this._proto });
    } catch (e) {
      this.slots.release();
      throw e;
    }
    this.messageTap?.('out', msg.type);
    return new Promise<Message>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.pending.get(seq) !== p) return;
        this.pending.delete(seq);
        this.clock.clearTimeout(p.timer);
        p.abandoned = true;
        this.slots.release();
        reject(abandonedError(signal!, msg.type));
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      const p: Pending = {
        seq,
        type: MessageType[msg.type as keyof typeof MessageType],
        name: msg.type,
        msg,
        attempts: 0,
        maxAttempts: 1 + retries,
        baseTimeoutMs: whole ?? attemptTimeoutMs(base === undefined ? this.o : { ...this.o, requestTimeoutMs: base }, wire.length, this.slots.size, this._maxFrame),
        waitedMs: [],
        wireBytes: wire.length,
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      this.pending.set(seq, p);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.transmit(p, wire);
    });
  }

  /** Sends a frame that expects no answer. Resolves when the transport accepted it (backpressure). */
  async notify(msg: Message): Promise<void> {
    if (this.closed) throw closedWhileError(this.stream.description, msg.type, undefined, 0);
    const wire = encodeFrame(msg, { seq: this.takeSeq(), maxFrame: this._maxFrame, protocolVersion: this._proto });
    this.messageTap?.('out', msg.type);
    await this.send(wire);
  }

  /** Answers the request whose header is `to` (normally through the `reply` given with the 'request' event). */
  async respond(to: FrameHeader, msg: Message): Promise<void> {
    if (this.closed) throw closedWhileError(this.stream.description, msg.type, undefined, 0);
    let wire: Uint8Array;
    let failure: unknown;
    let sent: Message['type'] = msg.type;
    try {
      wire = encodeFrame(msg, { seq: this.takeSeq(), corr: to.seq, rsp: true, maxFrame: this._maxFrame, protocolVersion: this._proto });
    } catch (e) {
      sent = 'ERROR';
      // The answer cannot be sent as given (invalid or larger than maxFrame): the peer still
      // gets exactly one answer, an ERROR saying why, and the caller learns it too.
      // An ERROR that is only too long for maxFrame is sent shortened: its code is the answer.
      const fitted = msg.type === 'ERROR' ? fitError(msg, this._maxFrame) : undefined;
      if (fitted) wire = encodeFrame(fitted, { seq: this.takeSeq(), corr: to.seq, rsp: true, maxFrame: this._maxFrame });
      else {
        failure = e;
        const err = e instanceof EparaError ? e : errorForCode('internal', { reason: String(e) });
        wire = encodeFrame(fitError(toErrorMessage(err), this._maxFrame) ?? toErrorMessage(err), { seq: this.takeSeq(), corr: to.seq, rsp: true, maxFrame: this._maxFrame });
      }
    }
    this.cache.set(to.seq, to.type, wire);
    this.inProgress.delete(to.seq);
    this.messageTap?.('out', sent);
    await this.send(wire);
    if (failure) throw failure;
  }

  /** Closes the link: outstanding requests fail with link.closed. */
  async close(): Promise<void> {
    this.shutdown(undefined);
    await this.stream.close().catch(() => undefined);
  }

  /**
   * Emits to listeners that are not ours: a listener that throws must not unwind into the
   * stream's event handler (that would crash the process on a byte arriving). It becomes a
   * process warning instead, visible but not fatal.
   */
  private safeEmit(event: 'notify' | 'bad-frame' | 'close', ...args: unknown[]): void {
    for (const l of this.rawListeners(event) as Array<(...a: unknown[]) => void>) {
      try {
        l(...args);
      } catch (e) {
        process.emitWarning(`FrameLink '${event}' listener threw: ${String((e as Error)?.stack ?? e)}`, 'EparaListenerWarning');
      }
    }
  }

  // ---- sending -------------------------------------------------------------------------------

  private takeSeq(): number {
    const s = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    return s;
  }

  /** Writes in order; each write waits for the previous one and for the transport's drain. */
  private send(wire: Uint8Array, skip?: () => boolean): Promise<void> {
    if (this.txQueued === 0 && !this.closed && !skip?.()) {
      // Nothing ahead of this frame (every earlier write has resolved), so order holds if it is
      // written now: no then/async/finally chain. Per-request promises are what the minor GCs in
      // the TCP round trip's tail collect (docs/performance.md).
      this.txQueued++;
      let w: Promise<void>;
      try {
        w = this.stream.write(wire); // a stream that throws instead of rejecting is still a rejection
      } catch (e) {
        w = Promise.reject(e);
      }
      const settled = w.then(
        () => void (this.txQueued--, this.stats.framesOut++, (this.stats.bytesOut += wire.length)),
        (e: unknown) => {
          this.txQueued--;
          throw e;
        },
      );
      this.txTail = settled.catch(() => undefined);
      return settled;
    }
    this.txQueued++;
    const p = this.txTail.then(async () => {
      if (this.closed) throw closedError(this.stream.description);
      if (skip?.()) return;
      await this.stream.write(wire);
      this.stats.framesOut++;
      this.stats.bytesOut += wire.length;
    });
    const settled = p.finally(() => {
      this.txQueued--;
    });
    this.txTail = settled.catch(() => undefined);
    return settled;
  }

  private transmit(p: Pending, wire: Uint8Array): void {
    p.attempts++;
    const arm = (): void => {
      if (this.pending.get(p.seq) !== p || this.closed) return;
      // The clock starts once the transport took the bytes: time spent waiting for our own
      // queue to drain is not the peer's fault.
      const wait = p.baseTimeoutMs * Math.min(BACKOFF ** (p.attempts - 1), BACKOFF_CAP);
      p.waitedMs.push(Math.round(wait));
      p.timer = this.clock.setTimeout(() => this.onAttemptTimeout(p), wait);
    };
    // A failed write on a link that is still open (a refused BLE write, a serial I/O error before
    // the port reports its close) must not leave the request waiting forever: the attempt timer
    // runs anyway and retransmits or times out. If the link closed, shutdown() rejected p.
    this.send(wire, () => p.abandoned === true).then(arm, arm);
  }

  private onAttemptTimeout(p: Pending): void {
    if (this.pending.get(p.seq) !== p || this.closed) return;
    if (p.attempts < p.maxAttempts) {
      let wire: Uint8Array;
      try {
        wire = encodeFrame(p.msg, { seq: p.seq, rtx: true, maxFrame: this._maxFrame, protocolVersion: this._proto });
      } catch (e) {
        // setNegotiated() shrank maxFrame below this request: it can no longer be sent.
        this.pending.delete(p.seq);
        this.slots.release();
        p.reject(e instanceof EparaError ? e : errorForCode('internal', { reason: String(e) }));
        return;
      }
      this.stats.retries++;
      this.transmit(p, wire);
      return;
    }
    this.stats.timeouts++;
    this.pending.delete(p.seq);
    this.slots.release();
    p.reject(noAnswerError(p, { description: this.stream.description, kind: this.stream.kind, baudRate: this.o.baudRate, requestTimeoutMs: this.o.requestTimeoutMs, maxFrame: this._maxFrame, window: this.slots.size }));
  }

  // ---- receiving -----------------------------------------------------------------------------

  private readonly onData = (chunk: Uint8Array): void => {
    this.stats.bytesIn += chunk.length;
    for (const item of this.decoder.push(chunk)) {
      if (item instanceof EparaError) this.onBadFrame(item as ProtocolError);
      else this.onFrame(item);
    }
  };

  private onBadFrame(err: ProtocolError): void {
    this.stats.badFrames++;
    this.safeEmit('bad-frame', err);
    // The CRC held but the body did not parse: the header is trustworthy, so a request gets its
    // one answer (an ERROR) instead of being retransmitted into the same rejection.
    const d = err.details as Partial<FrameHeader> | undefined;
    // SPEC §5 "Correlation and errors": requests of an unknown type are answered too; responses
    // and notifications never are (that could loop).
    const answerable = (t: number): boolean => isRequestType(t) || messageTypeName(t) === undefined;
    if (d && typeof d.seq === 'number' && typeof d.type === 'number' && typeof d.flags === 'number' && !(d.flags & FLAG_RSP) && answerable(d.type)) {
      const header = { version: d.version ?? 1, type: d.type, flags: d.flags, seq: d.seq, corr: 0 };
      if (this.cache.get(d.seq, d.type)) return void this.resendCached(d.seq, d.type);
      this.respond(header, toErrorMessage(err)).catch(() => undefined);
    }
  }

  private onFrame(frame: Frame): void {
    this.stats.framesIn++;
    this.messageTap?.('in', frame.message.type);
    const h = frame.header;
    if (h.flags & FLAG_RSP) return this.onResponse(frame);
    if (!isRequestType(h.type)) {
      this.safeEmit('notify', frame);
      return;
    }
    if (this.cache.get(h.seq, h.type)) return this.resendCached(h.seq, h.type);
    if (this.inProgress.has(h.seq)) {
      // Still being worked on: the answer will come; do not run it twice.
      this.stats.duplicates++;
      return;
    }
    if (frame.message.type === 'PING' && (this.pingGate?.() ?? true)) {
      this.respond(h, { type: 'PONG', ...(frame.message.data ? { data: frame.message.data } : {}) } as Message).catch(() => undefined);
      return;
    }
    if (this.inProgress.size >= MAX_IN_PROGRESS) {
      this.respond(h, toErrorMessage(errorForCode('link.window', { reason: `${this.inProgress.size} requests from the peer are already in progress`, details: { inProgress: this.inProgress.size } }))).catch(() => undefined);
      return;
    }
    this.inProgress.add(h.seq);
    this.dispatch(frame);
  }

  private resendCached(seq: number, type: number): void {
    this.stats.duplicates++;
    // A peer retransmitting faster than we drain would otherwise grow the queue without bound.
    if (this.txQueued > 2 * this.slots.size + 8) return;
    this.send(this.cache.get(seq, type)!).catch(() => undefined);
  }

  private dispatch(frame: Frame): void {
    const listeners = this.rawListeners('request') as Array<FrameLinkEvents['request']>;
    let answered = false;
    // reply() resolves even when the link has closed meanwhile (the peer retransmits after it
    // reconnects), so a handler that does not await it cannot cause an unhandled rejection. It
    // rejects only for an answer that cannot be encoded — a bug worth surfacing to its author.
    const reply: ReplyFn = (msg) => {
      if (answered) return Promise.resolve();
      answered = true;
      return this.respond(frame.header, msg).catch((e: unknown) => {
        if (e instanceof LinkError && e.code === 'link.closed') return;
        throw e;
      });
    };
    const fail = (e: unknown): void => {
      if (answered) return;
      const err = e instanceof EparaError ? e : errorForCode('internal', { reason: `request handler failed: ${String((e as Error)?.message ?? e).slice(0, 150)}` });
      reply(toErrorMessage(err)).catch(() => undefined);
    };
    if (listeners.length === 0) {
      fail(errorForCode('not_supported', { reason: `${frame.message.type} is not handled on this side of ${this.stream.description}` }));
      return;
    }
    this.stats.requestsHandled++;
    for (const l of listeners) {
      try {
        const r = l(frame, reply);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch(fail);
      } catch (e) {
        fail(e);
      }
    }
  }

  private onResponse(frame: Frame): void {
    const p = this.pending.get(frame.header.corr);
    if (!p) {
      this.stats.lateResponses++;
      return;
    }
    this.pending.delete(p.seq);
    this.clock.clearTimeout(p.timer);
    this.slots.release();
    if (frame.message.type === 'ERROR') p.reject(errorFromWire(frame.message));
    else p.resolve(frame.message);
  }

  // ---- closing -------------------------------------------------------------------------------

  private readonly onStreamClose = (err?: LinkError): void => {
    this.shutdown(err ?? closedError(this.stream.description));
  };

  private shutdown(cause: LinkError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.off('data', this.onData);
    this.stream.off('close', this.onStreamClose);
    for (const p of this.pending.values()) {
      this.clock.clearTimeout(p.timer);
      p.reject(closedWhileError(this.stream.description, p.name, p.seq, p.attempts, cause));
    }
    this.pending.clear();
    this.slots.failAll(closedWhileError(this.stream.description, 'request', undefined, 0, cause));
    this.inProgress.clear();
    this.safeEmit('close', cause);
  }
}


