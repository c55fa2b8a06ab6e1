/**
 * ERROR messages (SPEC §5.5) to and from the typed errors of error-codes.ts: the received code's
 * area subclass, and an error reported to the peer with its reason and hint clipped to the limits.
 */
import { EparaError } from '../errors.js';
import { errorForCode, errorInfo, WIRE } from './error-codes.js';
import type { ErrorMessage } from './messages/types.js';

/** Turn a received ERROR message into the typed error of its area; unknown codes become `internal`. */
export function errorFromWire(msg: ErrorMessage): EparaError {
  const info = errorInfo(msg.code);
  if (!info) {
    return new EparaError({
      code: 'internal',
      wire: msg.code,
      reason: `peer reported unknown error code ${msg.code}: ${msg.reason}`,
      hint: msg.hint ?? 'the peer is newer than this side; upgrade to see its error table',
      field: msg.field,
      details: { unknownWire: msg.code },
    });
  }
  return errorForCode(info.name, { reason: msg.reason, hint: msg.hint ?? info.hint, field: msg.field });
}

/** One line of at most `max` UTF-8 bytes (SPEC size limits count bytes), cut on a code point boundary. */
function clip(s: string, max: number): string {
  const line = s.replace(/[\r\n]+/g, ' ');
  if (Buffer.byteLength(line, 'utf8') <= max) return line;
  const points = Array.from(line);
  let bytes = 3; // the ellipsis
  let out = '';
  for (const p of points) {
    const n = Buffer.byteLength(p, 'utf8');
    if (bytes + n > max) break;
    bytes += n;
    out += p;
  }
  return out + '…';
}

/** The ERROR message that reports `err` to the peer (reason/hint clipped to the SPEC limits). */
export function toErrorMessage(err: EparaError): ErrorMessage {
  const wire = err.wire ?? errorInfo(err.code)?.wire ?? WIRE.internal;
  const msg: ErrorMessage = { type: 'ERROR', code: wire, reason: clip(err.reason || err.code, 200) };
  if (err.hint) msg.hint = clip(err.hint, 200);
  if (err.field) msg.field = clip(err.field, 64);
  return msg;
}
