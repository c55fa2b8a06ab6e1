import { EparaError, LinkError } from '../errors.js';
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
