import type { StreamEvent } from './event-stream-types.js';

/**
 * Server-Sent Events framing (WHATWG HTML §9.2 "Server-sent events"): the server writes one
 * block per event, `id:` / `event:` / `data:` lines ended by a blank line; lines that start with
 * `:` are comments (the keep-alive). The parser is the client half, for `epara devices --watch`
 * and the tests: it follows the spec's field rules (one optional space after the colon, `data`
 * lines joined with \n, a block without data dispatches nothing, `id` persists across blocks).
 * Pure: no I/O.
 */

/** One event as SSE text. The data line is the whole event as JSON (JSON has no raw newlines). */
export function sseFrame(e: StreamEvent): string {
  return `id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** The first bytes of a stream: the reconnection delay EventSource should use, and a comment. */
export function sseOpening(retryMs: number): string {
  return `retry: ${retryMs}\n: epara-events\n\n`;
}

export const SSE_KEEPALIVE = ': keep-alive\n\n';

export interface SseMessage {
  /** The `event:` field, 'message' when absent (as EventSource does). */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (EventSource's lastEventId). */
  lastEventId: string;
}

/** Incremental SSE parser: feed it text as it arrives, it calls `onMessage` per complete event. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private lastId = '';
  /** The last `retry:` the server sent, if any. */
  retryMs: number | undefined;

  constructor(private readonly onMessage: (m: SseMessage) => void) {}

  get lastEventId(): string {
    return this.lastId;
  }

  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (this.buffer[nl] === '\r' && nl + 1 === this.buffer.length) break;
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (data.length === 0) return;
    this.onMessage({ event, data: data.join('\n'), lastEventId: this.lastId });
  }
}
