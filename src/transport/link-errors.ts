import { EparaError, LinkError } from '../errors.js';
import type { Pending } from './frame-link-types.js';
import { wiresOf } from '../protocol/error-codes.js';

/** The link.* codes of protocol/SPEC.md §6 with their wire numbers (from the one error table). */
export const LINK_WIRE = wiresOf('link.');

export type LinkCode = keyof typeof LINK_WIRE;

export function linkError(
  code: LinkCode,
  reason: string,
  hint: string,
  extra: { details?: Record<string, unknown>; cause?: unknown; field?: string } = {},
): LinkError {
  return new LinkError({ code, wire: LINK_WIRE[code], reason, hint, ...extra });
}

/** The error every pending operation gets when its stream goes away. */
export function closedError(description: string, cause?: unknown): LinkError {
  return linkError(
    'link.closed',
    `link ${description} is closed`,
    'the peer went away or the link was closed; reconnect (see reconnect() in src/transport/reconnect.ts) and retry',
    { cause },
  );
}

/**
 * The rejection of a request its caller abandoned (RequestOptions.signal): the signal's reason
 * when it is a typed error, else a local `link.abandoned` (never sent on the wire: the peer
 * only ever sees the frame, or nothing).
 */
export function abandonedError(signal: AbortSignal, type: string): EparaError {
  if (signal.reason instanceof EparaError) return signal.reason;
  return new LinkError({ code: 'link.abandoned', reason: `${type} was abandoned by its sender`, hint: 'no action needed: the caller no longer needed the answer' });
}

/** A request that had every attempt and no answer: what was tried, and what to check. */
export function noAnswerError(
  p: Pick<Pending, 'name' | 'seq' | 'attempts' | 'waitedMs' | 'wireBytes'>,
  l: { description: string; kind: string; baudRate: number; requestTimeoutMs: number; maxFrame: number; window: number },
): LinkError {
  const total = p.waitedMs.reduce((a, b) => a + b, 0);
  return linkError(
    'link.timeout',
    `no answer to ${p.name} (seq ${p.seq}) on ${l.description} after ${p.attempts} attempt${p.attempts === 1 ? '' : 's'} over ${total} ms (per-attempt timeouts ${p.waitedMs.join('/')} ms; maxFrame ${l.maxFrame}, window ${l.window})`,
    l.baudRate
      ? `check that the peer is powered, speaks the epara protocol at ${l.baudRate} baud and accepts ${l.maxFrame}-byte frames; on a noisy line lower maxFrame or raise retries`
      : `check that the peer is powered and connected; on slow links (HC-05, BLE) raise requestTimeoutMs (now ${l.requestTimeoutMs} ms) or lower maxFrame (now ${l.maxFrame})`,
    {
      details: {
        timer: 'request',
        type: p.name,
        seq: p.seq,
        attempts: p.attempts,
        timeoutMs: total,
        perAttemptMs: p.waitedMs,
        maxFrame: l.maxFrame,
        window: l.window,
        requestBytes: p.wireBytes,
        baudRate: l.baudRate || undefined,
        link: l.description,
        kind: l.kind,
      },
    },
  );
}

/** The link ended while a request was being sent (attempts 0) or waited for its answer. */
export function closedWhileError(description: string, type: string, seq: number | undefined, attempts: number, cause?: unknown): LinkError {
  return linkError(
    'link.closed',
    `link ${description} closed while ${type}${seq === undefined ? '' : ` (seq ${seq})`} ${attempts ? `waited for its answer after ${attempts} attempt${attempts === 1 ? '' : 's'}` : 'was being sent'}`,
    'the peer went away or the link was closed; the request may or may not have run — retry it after reconnecting if it is idempotent',
    { details: { type, seq, attempts, link: description }, cause },
  );
}
