import type { ByteStream } from './byte-stream.js';
import { closedError } from './link-errors.js';

/** What a stream writes into (a serial port, a socket): it emits 'drain' when it takes more again. */
export interface DrainingSink {
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/**
 * Settles a write that went over the sink's high-water mark: `resolve` once the sink drains, or
 * rejected with link.closed when `stream` closes first (a write must never wait for ever).
 */
export function awaitDrain(stream: ByteStream, sink: DrainingSink, resolve: () => void, reject: (error: unknown) => void): void {
  const onDrain = (): void => {
    stream.off('close', onClose);
    resolve();
  };
  const onClose = (): void => {
    sink.off('drain', onDrain);
    reject(closedError(stream.description));
  };
  sink.once('drain', onDrain);
  stream.once('close', onClose);
}
