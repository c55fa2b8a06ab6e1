import type { ByteStream } from './byte-stream.js';
import { BaseByteStream } from './base-stream.js';
import { closedError } from './link-errors.js';

/** One end of an in-memory pair. Delivery is asynchronous (a microtask) like every real link. */
class MemoryStream extends BaseByteStream {
  readonly kind = 'memory' as const;
  peer?: MemoryStream;
  constructor(readonly description: string) {
    super();
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) throw closedError(this.description);
    const copy = Uint8Array.from(bytes);
    const peer = this.peer;
    queueMicrotask(() => peer?.deliver(copy));
  }

  deliver(chunk: Uint8Array): void {
    this.emitData(chunk);
  }

  /** Ends both sides: the peer sees a dropped link (close with an error), we see a clean close. */
  async close(): Promise<void> {
    if (this.markClosed()) this.peer?.markClosed(closedError(this.peer.description));
  }
}

/** Two connected in-memory streams. For unit tests only: no pacing, no faults, no limits. */
export function memoryPair(): [ByteStream, ByteStream] {
  const a = new MemoryStream('memory:a');
  const b = new MemoryStream('memory:b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
