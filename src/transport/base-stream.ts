import { EventEmitter } from 'node:events';
import type { LinkError } from '../errors.js';
import type { EventArgs } from '../event-map.js';
import type { ByteStream, ByteStreamEvents, LinkKind } from './byte-stream.js';

/**
 * Shared plumbing for ByteStream implementations: typed events and a close that is emitted
 * exactly once, whoever notices first (our close(), the peer, an I/O error).
 */
export abstract class BaseByteStream extends EventEmitter<EventArgs<ByteStreamEvents>> implements ByteStream {
  abstract readonly kind: LinkKind;
  abstract readonly description: string;
  private closed = false;

  get isOpen(): boolean {
    return !this.closed;
  }

  abstract write(bytes: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  protected emitData(chunk: Uint8Array): void {
    if (!this.closed && chunk.length > 0) this.emit('data', chunk);
  }

  /** Marks the stream closed and emits 'close' once. Returns false if it was already closed. */
  protected markClosed(error?: LinkError): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.emit('close', error);
    return true;
  }
}
