import { Readable } from 'node:stream';
import type { EventLog } from './event-log.js';
import { STREAM_EVENT_KINDS, type StreamEvent } from './event-stream-types.js';
import { httpError } from './http-errors.js';
import type { RouteSpec } from './http-routes.js';
import { S } from './http-schemas.js';
import { SSE_KEEPALIVE, sseFrame, sseOpening } from './sse-codec.js';

/**
 * GET /events: the server's EventLog as Server-Sent Events, behind the same auth hook as every
 * other route (so a bearer token or the console's session works alike). A client resumes with
 * `Last-Event-ID` (or `?lastEventId=`, for clients that cannot set headers) and gets what it
 * missed from the buffer, or a `stream.gap` first. Memory per client is bounded: a client that
 * reads slower than events come has its stream closed once `MAX_BACKLOG_BYTES` wait, and resumes.
 */
export const EVENTS_LIMITS = {
  /** Streams open at once; more get http.busy (503). */
  maxStreams: 64,
  /** Bytes queued for one slow client before its stream is closed. */
  maxBacklogBytes: 1 << 20,
  /** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
  keepAliveMs: 15_000,
  /** What EventSource waits before reconnecting. */
  retryMs: 2000,
};

/** `kinds=device,deployment.result`: a name matches its kind and every kind under it. */
function kindFilter(kinds: string | undefined): (e: StreamEvent) => boolean {
  if (!kinds) return () => true;
  const wanted = kinds.split(',');
  return (e) => e.kind === 'stream.gap' || wanted.some((k) => e.kind === k || e.kind.startsWith(`${k}.`));
}

export function eventStream(log: EventLog, opts: { lastEventId?: string | undefined; kinds?: string | undefined } = {}): Readable {
  const keep = kindFilter(opts.kinds);
  let unsubscribe: () => void = () => undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  const stream = new Readable({
    read() {},
    destroy(err, cb) {
      unsubscribe();
      if (keepAlive) clearInterval(keepAlive);
      cb(err);
    },
  });
  const send = (text: string): void => {
    if (stream.destroyed) return;
    if (stream.readableLength > EVENTS_LIMITS.maxBacklogBytes) {
      // The client will reconnect with its Last-Event-ID and be served from the buffer (or told of the gap).
      stream.destroy();
      return;
    }
    stream.push(text);
  };
  send(sseOpening(EVENTS_LIMITS.retryMs));
  // Subscribe before reading the backlog: append is synchronous, so nothing falls between the two.
  unsubscribe = log.subscribe((e) => {
    if (keep(e)) send(sseFrame(e));
  });
  if (opts.lastEventId) {
    const r = log.resume(opts.lastEventId);
    if (r.gap) send(sseFrame(r.gap));
    for (const e of r.events) if (keep(e)) send(sseFrame(e));
  }
  keepAlive = setInterval(() => send(SSE_KEEPALIVE), EVENTS_LIMITS.keepAliveMs);
  keepAlive.unref();
  return stream;
}

const KINDS_PATTERN = `^[a-z]+(\\.[a-z]+)?(,[a-z]+(\\.[a-z]+)?)*$`;

export function eventsRoute(): RouteSpec {
  return {
    method: 'GET',
    url: '/events',
    summary: `live events as Server-Sent Events (text/event-stream); resume with Last-Event-ID. Kinds: ${STREAM_EVENT_KINDS.join(', ')}`,
    query: S.obj({ kinds: { type: 'string', maxLength: 400, pattern: KINDS_PATTERN }, lastEventId: { type: 'string', maxLength: 64 } }),
    response: { 200: { type: 'string' } },
    handler: (s, r) => {
      const log = s.eventLog;
      if (log.subscribers >= EVENTS_LIMITS.maxStreams) {
        throw httpError('http.busy', `${EVENTS_LIMITS.maxStreams} event streams are open already`, 'close another GET /events client (an old browser tab or another event-stream client) and retry');
      }
      const header = r.headers['last-event-id'];
      const q = r.query as { kinds?: string; lastEventId?: string };
      const lastEventId = (typeof header === 'string' && header.length > 0 ? header.slice(0, 64) : undefined) ?? q.lastEventId;
      return {
        status: 200,
        contentType: 'text/event-stream; charset=utf-8',
        headers: { 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
        body: eventStream(log, { lastEventId, kinds: q.kinds }),
      };
    },
  };
}
