import type { Frame, FrameHeader, Message } from '../protocol/index.js';

/**
 * The part of the transport's FrameLink the server uses. Kept as an interface so this area states
 * exactly what it depends on; `FrameLink` from src/transport satisfies it.
 */
export interface DeviceLink {
  request(msg: Message, opts?: { timeoutMs?: number; retries?: number; attemptMs?: number; signal?: AbortSignal }): Promise<Message>;
  /** The line rate when the stream has one (serial links). */
  readonly options?: { readonly baudRate: number };
  /** The link's time source (a virtual clock on emulated links). */
  readonly clock?: { now(): number };
  notify(msg: Message): Promise<void>;
  respond(toHeader: FrameHeader, msg: Message): Promise<void>;
  on(event: 'request', listener: (frame: Frame, reply: (msg: Message) => Promise<void>) => void): unknown;
  on(event: 'notify', listener: (frame: Frame) => void): unknown;
  on(event: 'bad-frame', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: (err?: Error) => void): unknown;
  setNegotiated(n: { maxFrame: number; window: number; protocolVersion?: number }): void;
  /** PING is answered by the link only while this says so (else it reaches the 'request' listeners). */
  pingGate: (() => boolean) | undefined;
  /** Sees every message type in and out (the per-type counters of ServerMetrics). */
  messageTap?: ((direction: 'in' | 'out', type: Message['type']) => void) | undefined;
  close(): Promise<void>;
  readonly stats: { framesIn: number; framesOut: number; badFrames: number; retries: number; timeouts: number };
}
