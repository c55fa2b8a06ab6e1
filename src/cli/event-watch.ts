import { EparaError } from '../errors.js';
import type { StreamEvent } from '../server-adapter/event-stream-types.js';
import { SseParser } from '../server-adapter/sse-codec.js';
import type { Output } from './output.js';
import type { ServerClient } from './server-client.js';

/**
 * Follows the server's live event stream (GET /events) for `--watch`: reconnects after the
 * server's `retry:` delay when the stream ends or the server is away (a restart, a network
 * blip), resuming with Last-Event-ID so nothing is shown twice or skipped; a `stream.gap` is
 * handed on so the caller can reread what it shows. Runs until `signal` aborts; a refused token,
 * another answer that retrying cannot fix, or no server at the first attempt ends it with that error.
 */
export interface WatchOptions {
  kinds: string[];
  signal: AbortSignal;
  onEvent(e: StreamEvent): void | Promise<void>;
  /** The stream is open (again); `resumed` is false the first time. */
  onOpen?(resumed: boolean): void | Promise<void>;
  /** The stream dropped or the server cannot be reached; retrying in `inMs`. */
  onRetry?(err: EparaError | undefined, inMs: number): void;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** Errors that a server restart or a network blip explains: retried, not fatal. */
const TRANSIENT = new Set(['cli.server_unreachable', 'cli.server_not_running', 'cli.server_not_http', 'http.busy']);

/** `locate` is called per attempt: a restarted `epara serve` may listen on another port (serve.json says). */
export async function watchEvents(locate: () => ServerClient, o: WatchOptions): Promise<void> {
  let lastEventId: string | undefined;
  let retryMs = 2000;
  let opened = false;
  const query = o.kinds.length ? `?kinds=${o.kinds.join(',')}` : '';
  while (!o.signal.aborted) {
    let err: EparaError | undefined;
    try {
      const res = await locate().openEvents(query, lastEventId, o.signal);
      await o.onOpen?.(opened);
      opened = true;
      const queue: StreamEvent[] = [];
      const parser = new SseParser((m) => {
        lastEventId = m.lastEventId || lastEventId;
        try {
          queue.push(JSON.parse(m.data) as StreamEvent);
        } catch {
          /* not one of ours: skip it */
        }
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        parser.push(decoder.decode(chunk, { stream: true }));
        if (parser.retryMs !== undefined) retryMs = Math.min(Math.max(parser.retryMs, 100), 60_000);
        for (const e of queue.splice(0)) await o.onEvent(e);
      }
    } catch (e) {
      if (o.signal.aborted) return;
      // Before the first open nothing has been shown yet: no server is an answer, not a wait.
      if (!opened || (e instanceof EparaError && !TRANSIENT.has(e.code))) throw e;
      err = e instanceof EparaError ? e : undefined;
    }
    if (o.signal.aborted) return;
    o.onRetry?.(err, retryMs);
    await wait(retryMs, o.signal);
  }
}

/** Aborts on Ctrl-C / SIGTERM (the real process) or the caller's signal (tests). */
export function interruptSignal(ctx: { signal?: AbortSignal; handleSignals?: boolean }): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  ctx.signal?.addEventListener('abort', stop, { once: true });
  if (ctx.signal?.aborted) ac.abort();
  if (ctx.handleSignals) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return {
    signal: ac.signal,
    dispose: () => {
      ctx.signal?.removeEventListener('abort', stop);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/**
 * What `devices --watch` and `deployments --watch` share: the table (again only when the stream
 * opens fresh, not on a resume), the stream's state as dim lines, and the stream until Ctrl-C;
 * `onEvent` prints the events and decides when a gap rereads the table.
 */
export async function watchTable(
  env: { out: Output; ctx: { signal?: AbortSignal; handleSignals?: boolean } },
  locate: () => ServerClient,
  o: { kinds: string[]; table(): Promise<void>; onEvent(e: StreamEvent): void | Promise<void> },
): Promise<void> {
  const out = env.out;
  const stop = interruptSignal(env.ctx);
  try {
    await watchEvents(locate, {
      kinds: o.kinds,
      signal: stop.signal,
      onOpen: async (resumed) => {
        if (!resumed) await o.table();
        out.info(out.e.dim(resumed ? 'event stream resumed' : 'watching live events; Ctrl-C stops'));
      },
      onRetry: (err, ms) => out.info(out.e.dim(`event stream interrupted${err ? ` (${err.code})` : ''}; reconnecting in ${ms} ms`)),
      onEvent: o.onEvent,
    });
  } finally {
    stop.dispose();
  }
}
