import { EparaError, LinkError } from '../errors.js';

/**
 * The link.* codes of protocol/SPEC.md §6 with their wire numbers. Kept here (and checked
 * against src/protocol/error-codes.ts by test/transport/link-errors-match-spec.test.ts) so the
 * transports can build errors without a runtime dependency on the codec.
 */
export const LINK_WIRE = {
  'link.timeout': 300,
  'link.closed': 301,
  'link.backpressure': 302,
  'link.window': 303,
  'link.open_failed': 304,
  'link.permission': 305,
  'link.busy': 306,
  'link.unavailable': 307,
  'link.tls': 308,
} as const;

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
