/**
 * Streaming deframer: arbitrary byte chunks in, frames and ProtocolErrors out. Splits on 0x00,
 * never buffers more than one maximal wire piece (SPEC §2.2: a piece longer than
 * maxFrame + ceil(maxFrame/254) + 1 is discarded as it arrives and reported once as
 * frame.oversize), and never throws from push(): a bad piece is reported and the next delimiter
 * resynchronises, so the good frames after it are not lost.
 */
import { ProtocolError } from '../errors.js';
import { resolveNumber } from '../options.js';
import { carveBytes, indexOfZero } from './bytes.js';
import { cobsDecodeInto } from './cobs.js';
import { DEFAULT_MAX_FRAME, PROTOCOL_MAX, PROTOCOL_MIN, maxWirePiece } from './constants.js';
import { protocolError } from './error-codes.js';
import { MAX_FRAME_SPEC, parseFrame, type Frame } from './frame.js';

export interface FrameDecoderOptions {
  /** Largest unencoded frame accepted (64..65535, default 512 until the handshake negotiates it). */
  maxFrame?: number;
  /** The session's protocol version (default the newest): keys a later version added are ignored. */
  protocolVersion?: number;
}

/** A protocol version this codec speaks (SPEC §8). */
export const PROTOCOL_VERSION_SPEC = { default: PROTOCOL_MAX, min: PROTOCOL_MIN, max: PROTOCOL_MAX, integer: true };

export class FrameDecoder {
  private max: number;
  private limit: number;
  private buf: Uint8Array;
  private len = 0;
  /** Inside an oversize piece: drop bytes until the next delimiter. */
  private discarding = false;
  /** The limit shrank under a partial piece: report it with the next push. */
  private pendingOversize = false;
  private discarded = 0;
  /** The session's protocol version (SPEC §8); set by the link after CHALLENGE. */
  protocolVersion: number;

  constructor(opts?: FrameDecoderOptions) {
    this.max = resolveNumber('maxFrame', opts?.maxFrame, MAX_FRAME_SPEC);
    this.limit = maxWirePiece(this.max);
    this.buf = new Uint8Array(this.limit);
    this.protocolVersion = resolveNumber('protocolVersion', opts?.protocolVersion, PROTOCOL_VERSION_SPEC);
  }

  get maxFrame(): number {
    return this.max;
  }

  /** Change the limit (after negotiation). Throws ConfigError outside 64..65535. */
  set maxFrame(n: number) {
    this.max = resolveNumber('maxFrame', n, MAX_FRAME_SPEC);
    this.limit = maxWirePiece(this.max);
    if (this.buf.length < this.limit) {
      const b = new Uint8Array(this.limit);
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    if (this.len > this.limit) {
      this.startDiscard();
      this.pendingOversize = true;
    }
  }

  /** Bytes currently held for an incomplete piece (never more than one maximal piece). */
  get buffered(): number {
    return this.len;
  }

  private startDiscard(): void {
    this.discarding = true;
    this.discarded = this.len;
    this.len = 0;
  }

  private oversize(): ProtocolError {
    return protocolError('frame.oversize', {
      reason: `more than ${this.limit} bytes without a delimiter: frame larger than maxFrame ${this.max}, discarded`,
      details: { maxFrame: this.max, limit: this.limit },
    });
  }

  /** Decode `src[from, to)`, a whole piece (no 0x00 in it: push splits on 0x00). */
  private decodePiece(src: Uint8Array, from: number, to: number, out: Array<Frame | ProtocolError>): void {
    try {
      // COBS-decoded straight out of `src` into memory of its own: the caller's chunk is never
      // written to, and the frame must outlive the next push (message byte strings are views into
      // it), so it is memory no later frame touches (carved from a slab; ~0.2 µs per 1 KiB frame
      // less than a Buffer-pool slice or a fresh array). The frame is at most one byte shorter
      // than its piece (exactly, unless it has 254-byte blocks).
      const room = to - from - 1;
      const frame = carveBytes(room);
      const n = cobsDecodeInto(src, from, to, frame, 0);
      out.push(parseFrame(n === room ? frame : frame.subarray(0, n), this.max, this.protocolVersion));
    } catch (e) {
      out.push(
        e instanceof ProtocolError
          ? e
          : // a bug in this codec, not bad input: still reported, never thrown
            protocolError('internal', { reason: `frame decoder failed unexpectedly: ${String((e as Error)?.message ?? e)}`, cause: e }),
      );
    }
  }

  push(chunk: Uint8Array): Array<Frame | ProtocolError> {
    const out: Array<Frame | ProtocolError> = [];
    if (!(chunk instanceof Uint8Array)) {
      out.push(protocolError('internal', { reason: `FrameDecoder.push needs a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`, hint: 'pass the bytes read from the link (Buffer and Uint8Array both work)' }));
      return out;
    }
    if (this.pendingOversize) {
      this.pendingOversize = false;
      out.push(this.oversize());
    }
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const z = indexOfZero(chunk, i, n);
      const end = z < 0 ? n : z;
      const seg = end - i;
      if (this.discarding) {
        this.discarded += seg;
      } else if (this.len + seg > this.limit) {
        this.startDiscard();
        this.discarded += seg;
        out.push(this.oversize());
      } else if (z >= 0 && this.len === 0) {
        // Whole piece inside this chunk: decoded straight from it, no staging copy.
        if (seg > 0) this.decodePiece(chunk, i, end, out);
      } else {
        this.buf.set(chunk.subarray(i, end), this.len);
        this.len += seg;
        if (z >= 0) {
          // decodePiece copies, so our buffer can be refilled right away.
          this.decodePiece(this.buf, 0, this.len, out);
        }
      }
      if (z < 0) break;
      // delimiter: the next piece starts clean
      this.len = 0;
      this.discarding = false;
      this.discarded = 0;
      i = z + 1;
    }
    return out;
  }

  /** Drop any partial piece (e.g. after the link reconnects). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
    this.discarded = 0;
  }
}

