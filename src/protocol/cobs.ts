/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker 1999), SPEC §3. The encoder emits the
 * canonical form (no extra 0x01 code after a final 0xFF block); the decoder also accepts that
 * extra code, as most implementations emit it, since the CRC protects the decoded frame anyway.
 */
import { protocolError } from './error-codes.js';

/** Worst-case COBS output length for `n` input bytes, without the delimiter. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + (n === 0 ? 1 : 0);
}

/** Encode `src[start, end)` into `dst` at `at`; returns the position after the last byte written. */
export function cobsEncodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let codeAt = at;
  let o = at + 1;
  let code = 1;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      dst[o++] = b;
      if (++code === 0xff) {
        dst[codeAt] = 0xff;
        if (i + 1 === end) return o;
        codeAt = o++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  return o;
}

/** COBS-encode `data` (no trailing delimiter). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  const n = cobsEncodeInto(data, 0, data.length, out, 0);
  return n === out.length ? out : out.slice(0, n);
}

/**
 * Decode one COBS piece (the bytes between two delimiters, delimiter excluded). Throws
 * ProtocolError `frame.cobs` when a code byte is 0x00 or points past the end.
 */
export function cobsDecode(piece: Uint8Array, start = 0, end = piece.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start - 1));
  let o = 0;
  let i = start;
  while (i < end) {
    const code = piece[i]!;
    if (code === 0) {
      throw protocolError('frame.cobs', { reason: `COBS piece contains a 0x00 at offset ${i - start}`, details: { offset: i - start } });
    }
    const next = i + code;
    if (next > end) {
      throw protocolError('frame.cobs', {
        reason: `COBS code 0x${code.toString(16).padStart(2, '0')} at offset ${i - start} points ${next - end} bytes past the end of the piece`,
        details: { offset: i - start },
      });
    }
    for (let k = i + 1; k < next; k++) {
      const b = piece[k]!;
      if (b === 0) {
        throw protocolError('frame.cobs', { reason: `COBS piece contains a 0x00 at offset ${k - start}`, details: { offset: k - start } });
      }
      out[o++] = b;
    }
    i = next;
    if (code !== 0xff && i < end) out[o++] = 0;
  }
  return o === out.length ? out : out.subarray(0, o);
}
