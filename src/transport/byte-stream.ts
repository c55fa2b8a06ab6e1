import type { LinkError } from '../errors.js';
import type { EventEmitter } from 'node:events';
import type { EventArgs } from '../event-map.js';

/** The link kinds epara runs over. `spp` is a UART whose path is a Bluetooth RFCOMM tty. */
export type LinkKind = 'uart' | 'spp' | 'ble' | 'tcp' | 'tls' | 'memory' | 'emulated';

export interface ByteStreamEvents {
  data: (chunk: Uint8Array) => void;
  /** Emitted once. `error` is set when the link dropped rather than being closed by us. */
  close: (error?: LinkError) => void;
}

/**
 * An open, ordered, reliable-or-not byte stream: the only thing the frame layer needs from a
 * transport. Every transport (UART, SPP, BLE, TCP, TLS, in-memory, emulated) implements it.
 */
export interface ByteStream {
  readonly kind: LinkKind;
  /** Human description for logs and errors, e.g. `/dev/rfcomm0@9600` or `127.0.0.1:7878`. */
  readonly description: string;
  readonly isOpen: boolean;
  /**
   * Line rate in bit/s when the transport knows it (UART, SPP, emulated serial links), so the
   * frame layer can derive its timeouts from frame size and baud. Undefined for TCP, BLE, memory.
   */
  readonly baudRate?: number;
  /**
   * Queue bytes for sending. Resolves once the bytes are accepted without exceeding the
   * transport's buffer (i.e. after 'drain' when the buffer was full), so awaiting writers get
   * backpressure. Rejects with a LinkError when the stream is closed.
   */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  on: TypedEmitter['on'];
  off: TypedEmitter['off'];
  once: TypedEmitter['once'];
}

/** Node's typed emitter over the stream's events: what `on` / `off` / `once` accept. */
type TypedEmitter = EventEmitter<EventArgs<ByteStreamEvents>>;

/** Opens a fresh ByteStream to the same peer; used for reconnect with backoff. */
export type Connector = () => Promise<ByteStream>;

/** Accepts incoming ByteStreams (a TCP/TLS server, a serial port that a device sits behind, a BLE scan). */
export interface Listener {
  readonly description: string;
  on(event: 'connection', listener: (stream: ByteStream) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  close(): Promise<void>;
}
