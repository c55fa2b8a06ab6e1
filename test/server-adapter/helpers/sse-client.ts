import { request, type IncomingMessage } from 'node:http';
import { SseParser } from '../../../src/server-adapter/sse-codec.js';
import type { StreamEvent } from '../../../src/server-adapter/event-stream-types.js';

/**
 * What a browser's EventSource does, over a real HTTP connection: GET with
 * Accept: text/event-stream (and Last-Event-ID when resuming), the body parsed as SSE. Collects
 * every event; `next` waits for one that matches.
 */
export interface SseConnection {
  status: number;
  headers: IncomingMessage['headers'];
  /** Body of a refusal (non-200). */
  body: string;
  events: StreamEvent[];
  /** `event:` names, in order, as EventSource would dispatch them. */
  names: string[];
  lastEventId: string;
  retryMs: number | undefined;
  next(pred: (e: StreamEvent) => boolean, timeoutMs?: number): Promise<StreamEvent>;
  close(): void;
  closed: Promise<void>;
}

export function openSse(url: string, opts: { token?: string | null; lastEventId?: string } = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
    const req = request(url, { headers }, (res) => {
      const waiters: Array<{ pred: (e: StreamEvent) => boolean; from: number; done: (e: StreamEvent) => void }> = [];
      let closedResolve!: () => void;
      const conn: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        events: [],
        names: [],
        lastEventId: '',
        retryMs: undefined,
        next: (pred, timeoutMs = 10_000) =>
          new Promise((ok, fail) => {
            const have = conn.events.find(pred);
            if (have) return ok(have);
            const t = setTimeout(() => fail(new Error(`no matching event within ${timeoutMs} ms; got ${conn.names.join(', ')}`)), timeoutMs);
            waiters.push({ pred, from: conn.events.length, done: (e) => (clearTimeout(t), ok(e)) });
          }),
        close: () => {
          req.destroy();
          res.destroy();
        },
        closed: new Promise<void>((r) => (closedResolve = r)),
      };
      const parser = new SseParser((m) => {
        conn.names.push(m.event);
        conn.lastEventId = m.lastEventId;
        const e = JSON.parse(m.data) as StreamEvent;
        conn.events.push(e);
        for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.done(e));
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (conn.status !== 200) conn.body += chunk;
        else {
          parser.push(chunk);
          conn.retryMs = parser.retryMs;
        }
      });
      res.on('close', () => closedResolve());
      res.on('error', () => closedResolve());
      if (conn.status !== 200) res.on('end', () => resolve(conn));
      else resolve(conn);
    });
    req.on('error', reject);
    req.end();
  });
}
