/**
 * An ERROR answer cut down to fit a small negotiated maxFrame (an FPGA's 256 bytes): the hint
 * goes first, then the reason is shortened. The code is what the peer acts on, so it always
 * arrives; the full text stays in the sender's log.
 */
import { HEADER_SIZE, CRC_SIZE } from '../protocol/constants.js';
import { encodeMessage } from '../protocol/messages/codec.js';
import type { ErrorMessage } from '../protocol/messages/types.js';

function fits(m: ErrorMessage, maxFrame: number): boolean {
  return HEADER_SIZE + encodeMessage(m).length + CRC_SIZE <= maxFrame;
}

/** Cut a string to at most `bytes` UTF-8 bytes without splitting a character. */
function cut(s: string, bytes: number): string {
  let out = '';
  let n = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (n + b > bytes) break;
    out += ch;
    n += b;
  }
  return out;
}

export function fitError(msg: ErrorMessage, maxFrame: number): ErrorMessage | undefined {
  if (fits(msg, maxFrame)) return msg;
  const { hint: _hint, ...noHint } = msg;
  if (fits(noHint, maxFrame)) return noHint;
  for (let len = Math.min(Buffer.byteLength(msg.reason), 200); len >= 0; len -= 8) {
    const m = { ...noHint, reason: cut(msg.reason, len) };
    if (fits(m, maxFrame)) return m;
  }
  const { field: _field, ...bare } = noHint;
  const m = { ...bare, reason: '' };
  return fits(m, maxFrame) ? m : undefined;
}
