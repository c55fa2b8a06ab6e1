import { LinkError } from '../errors.js';

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
