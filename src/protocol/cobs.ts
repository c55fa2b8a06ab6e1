/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker 1999), SPEC §3. The encoder emits the
 * canonical form (no extra 0x01 code after a final 0xFF block); the decoder also accepts that
 * extra code, as most implementations emit it, since the CRC protects the decoded frame anyway.
 */
import { allocBytes, copyBytes, indexOfZero } from './bytes.js';
import { protocolError } from './error-codes.js';

/** Worst-case COBS output length for `n` input bytes, without the delimiter. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + (n === 0 ? 1 : 0);
}

/**
 * Encode `src[start, end)` into `dst` at `at`; returns the position after the last byte written.
 * Runs of non-zero bytes are found with indexOf and copied with set() (native memcpy), so
 * typical payloads (weights, compressed models) cost little more than a copy.
 */
export function cobsEncodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  // Below one 254-byte block the byte loop wins: the block copier pays a memchr call per run, and
  // short frames (STATE: small integers, many zeros) have many short runs (bench: 3x on STATE).
  return end - start < 254 ? cobsEncodeShort(src, start, end, dst, at) : cobsEncodeBlocks(src, start, end, dst, at);
}

/** Block-copy encoder (any length). Exported for the test that pins it to the short encoder. */
export function cobsEncodeBlocks(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  // One Buffer view per call: Buffer#indexOf is memchr, but creating the view costs about as much
  // as scanning a short run, so it is not done per run.
  return encodeRuns(Buffer.from(src.buffer, src.byteOffset, end), src, start, end, dst, at);
}

/** `buf` and a Buffer view of it (for memchr), kept while the same buffer keeps coming back. */
let viewOf: Uint8Array | undefined;
let view: Buffer = Buffer.alloc(0);

/**
 * Encode `buf[start, end)` into the same buffer at `at` (< start); returns the position after the
 * last byte written. Needs `start - at >= ceil((end - start) / 254) + 1`: before each code byte at
 * most one code per full 254-byte block has been added, so the write position stays that far
 * behind the read position and nothing unread is overwritten. `buf[end]`, if inside `buf`, is
 * scratch: a 0x00 is put there so the memchr for the last run stops at the end of the input
 * instead of running on through stale bytes (the Buffer view for memchr is made once per buffer,
 * not once per call with the input's length).
 *
 * Why in place: the encoder's frame is already in its scratch buffer, and copyWithin (memmove)
 * moves each run without the view per run a copy into another array needs, which on a 1 KiB frame
 * cost more than the copies themselves.
 */
export function cobsEncodeInPlace(buf: Uint8Array, start: number, end: number, at: number): number {
  if (start - at < Math.ceil((end - start) / 254) + 1) {
    throw protocolError('internal', { reason: `cobsEncodeInPlace: gap ${start - at} too small for ${end - start} bytes` });
  }
  if (buf !== viewOf) {
    view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
    viewOf = buf;
  }
  if (end < buf.length) buf[end] = 0;
  return encodeRuns(view, buf, start, end, buf, at);
}

/**
 * The block encoder's loop, for both callers: `view` is a Buffer over `src` for memchr (it may
 * reach past `end`); runs move with copyWithin when `dst` is `src` (in place), else with set().
 */
function encodeRuns(view: Buffer, src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const inPlace = dst === src;
  let i = start;
  let o = at;
  for (;;) {
    let z = view.indexOf(0, i);
    if (z < 0 || z > end) z = end;
    let fullBlock = false;
    while (z - i >= 254) {
      dst[o++] = 0xff;
      if (inPlace) dst.copyWithin(o, i, i + 254);
      else dst.set(src.subarray(i, i + 254), o);
      o += 254;
      i += 254;
      fullBlock = true;
    }
    // A final 254-byte block is not followed by a code byte (canonical COBS).
    if (fullBlock && i === end) return o;
    const run = z - i;
    dst[o++] = run + 1;
    if (run > 16) {
      if (inPlace) dst.copyWithin(o, i, z);
      else dst.set(src.subarray(i, z), o);
      o += run;
    } else {
      // short runs (CBOR keys, small integers) are cheaper to copy by hand than via a subarray
      for (let k = i; k < z; k++) dst[o++] = src[k]!;
    }
    if (z === end) return o;
    i = z + 1;
  }
}

/**
 * Byte-at-a-time encoder for inputs shorter than one 254-byte block (control and status frames),
 * where the per-run setup of the block copier costs more than it saves.
 */
export function cobsEncodeShort(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
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
      code++;
    }
  }
  dst[codeAt] = code;
  return o;
}

/** COBS-encode `data` (no trailing delimiter). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = allocBytes(cobsMaxEncodedLength(data.length));
  const n = cobsEncodeInto(data, 0, data.length, out, 0);
  return n === out.length ? out : out.subarray(0, n);
}

/**
 * Decode one COBS piece (the bytes between two delimiters, delimiter excluded). Throws
 * ProtocolError `frame.cobs` when the piece contains a 0x00 or a code byte points past the end.
 * The result is a fresh copy.
 */
export function cobsDecode(piece: Uint8Array, start = 0, end = piece.length): Uint8Array {
  const zero = indexOfZero(piece, start, end);
  if (zero >= 0) {
    throw protocolError('frame.cobs', { reason: `COBS piece contains a 0x00 at offset ${zero - start}`, details: { offset: zero - start } });
  }
  const out = copyBytes(piece, start, end, true); // viewed just below
  return out.subarray(1, cobsDecodeInPlace(out, 0, out.length));
}

/**
 * Decode the COBS piece in `buf[start, end)` in place; the frame is left in
 * `buf[start + 1, returned position)`. The caller has checked that the range holds no 0x00 other
 * than as a code (FrameDecoder splits on 0x00, cobsDecode scans for it); a 0x00 code or one
 * pointing past the end is ProtocolError `frame.cobs`.
 *
 * Why in place and why at start + 1: COBS writes each code byte where the zero it stands for was,
 * plus one leading code, so without 0xFF blocks the frame is the piece after its first byte with
 * the codes turned back into zeros: no byte moves. Each 0xFF block drops a code byte, and only the
 * data after it moves left (copyWithin: memmove, no allocation). The write position never passes
 * the read position, so nothing unread is overwritten.
 */
export function cobsDecodeInPlace(buf: Uint8Array, start: number, end: number): number {
  let w = start + 1;
  if (start >= end) return w;
  let i = start;
  let code = buf[i]!;
  for (;;) {
    const next = i + code;
    if (code === 0 || next > end) {
      throw protocolError('frame.cobs', {
        reason:
          code === 0
            ? `COBS code 0x00 at offset ${i - start}`
            : `COBS code 0x${code.toString(16).padStart(2, '0')} at offset ${i - start} points ${next - end} bytes past the end of the piece`,
        details: { offset: i - start },
      });
    }
    const n = code - 1;
    if (w !== i + 1) {
      // shifted left by earlier 0xFF blocks
      if (n > 16) buf.copyWithin(w, i + 1, next);
      else for (let k = 0; k < n; k++) buf[w + k] = buf[i + 1 + k]!;
    }
    w += n;
    if (next === end) return w;
    const nextCode = buf[next]!; // read before the zero below may land on it
    if (code !== 0xff) buf[w++] = 0;
    i = next;
    code = nextCode;
  }
}

/**
 * Decode the COBS piece `src[start, end)` into `dst` at `at` (which needs room for
 * `end - start - 1` bytes); returns the position after the frame's last byte. The same checks and
 * errors as cobsDecodeInPlace; the receive path uses it so that taking the piece out of the
 * caller's chunk and undoing the stuffing is one pass over the bytes (runs copied with set(),
 * memcpy), not a copy followed by a decode.
 */
export function cobsDecodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let w = at;
  if (start >= end) return w;
  let i = start;
  let code = src[i]!;
  for (;;) {
    const next = i + code;
    if (code === 0 || next > end) {
      throw protocolError('frame.cobs', {
        reason:
          code === 0
            ? `COBS code 0x00 at offset ${i - start}`
            : `COBS code 0x${code.toString(16).padStart(2, '0')} at offset ${i - start} points ${next - end} bytes past the end of the piece`,
        details: { offset: i - start },
      });
    }
    const n = code - 1;
    if (n > 16) dst.set(src.subarray(i + 1, next), w);
    else for (let k = 0; k < n; k++) dst[w + k] = src[i + 1 + k]!;
    w += n;
    if (next === end) return w;
    if (code !== 0xff) dst[w++] = 0;
    i = next;
    code = src[next]!;
  }
}
