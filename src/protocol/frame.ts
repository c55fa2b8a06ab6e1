/**
 * Frames (SPEC §2): ver | type | flags | seq(2) | corr(2) | len(2) | CBOR body | CRC-32C (LE),
 * COBS-encoded on the wire and followed by one 0x00.
 */
import { resolveNumber } from '../options.js';
import { protocolError } from './error-codes.js';
import { cobsDecode, cobsEncodeInPlace, cobsEncodeShort } from './cobs.js';
import { CRC32C_RESIDUE, crc32c } from './crc32c.js';
import { allocBytes, copyBytes } from './bytes.js';
import {
  CRC_SIZE,
  DEFAULT_MAX_FRAME,
  FLAG_RESERVED_MASK,
  FLAG_RSP,
  FLAG_RTX,
  HEADER_SIZE,
  MAX_MAX_FRAME,
  MIN_FRAME,
  MIN_MAX_FRAME,
  FRAME_VERSION,
  PROTOCOL_MAX,
  maxWirePiece,
} from './constants.js';
import { decodeMessage, encodeMessageAt } from './messages/codec.js';
import { MessageType, messageTypeName, type Message } from './messages/types.js';

export interface FrameHeader {
  version: number;
  type: number;
  flags: number;
  seq: number;
  corr: number;
}

export interface Frame {
  header: FrameHeader;
  message: Message;
}

export interface EncodeFrameOptions {
  seq: number;
  corr?: number;
  rsp?: boolean;
  rtx?: boolean;
  maxFrame?: number;
  /** The session's protocol version (default the newest): fields a later version added are left out. */
  protocolVersion?: number;
}

export const MAX_FRAME_SPEC = { default: DEFAULT_MAX_FRAME, min: MIN_MAX_FRAME, max: MAX_MAX_FRAME, integer: true, unit: 'bytes' };

function u16(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw protocolError('frame.header', {
      reason: `${name} must be an integer 0..65535, got ${String(v)}`,
      hint: `${name} is a 16-bit header field (SPEC §2); wrap sequence numbers mod 65536`,
      field: name,
    });
  }
  return v;
}

/**
 * The unencoded frame (header + body + CRC) for `body`. `flags` and the header fields are taken
 * as given (after range checks), so tests and vector generators can build any valid header.
 */
export function buildFrame(type: number, flags: number, seq: number, corr: number, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + body.length + CRC_SIZE);
  writeFrame(frame, type, flags, seq, corr, body);
  return frame;
}

function writeFrame(frame: Uint8Array, type: number, flags: number, seq: number, corr: number, body: Uint8Array): void {
  frame.set(body, HEADER_SIZE);
  writeHeaderAndCrc(frame, 0, type, flags, seq, corr, body.length);
}

/**
 * Header into `frame[at, at + 9)` and the CRC after the `len`-byte body already at
 * `frame[at + 9, at + 9 + len)`.
 */
function writeHeaderAndCrc(frame: Uint8Array, at: number, type: number, flags: number, seq: number, corr: number, len: number): void {
  frame[at] = FRAME_VERSION;
  frame[at + 1] = type;
  frame[at + 2] = flags;
  frame[at + 3] = seq >> 8;
  frame[at + 4] = seq & 0xff;
  frame[at + 5] = corr >> 8;
  frame[at + 6] = corr & 0xff;
  frame[at + 7] = len >> 8;
  frame[at + 8] = len & 0xff;
  const c = at + HEADER_SIZE + len;
  const crc = crc32c(frame, 0, at, c);
  frame[c] = crc & 0xff;
  frame[c + 1] = (crc >>> 8) & 0xff;
  frame[c + 2] = (crc >>> 16) & 0xff;
  frame[c + 3] = crc >>> 24;
}

/**
 * A frame of at most this many bytes has no run of 254 non-zero bytes, so its COBS form is exactly
 * one byte longer (each zero becomes a code, plus the leading code): the wire array can be
 * allocated at its final size and encoded into directly.
 */
const EXACT_COBS_MAX = 253;

/**
 * Encode `msg` as wire bytes: COBS(frame) followed by 0x00. Throws ProtocolError `msg.schema`
 * for an invalid message and `frame.oversize` when the unencoded frame exceeds `maxFrame`.
 */
export function encodeFrame(msg: Message, h: EncodeFrameOptions): Uint8Array {
  const maxFrame =
    h.maxFrame === undefined ? DEFAULT_MAX_FRAME : Number.isInteger(h.maxFrame) && h.maxFrame >= MIN_MAX_FRAME && h.maxFrame <= MAX_MAX_FRAME ? h.maxFrame : resolveNumber('maxFrame', h.maxFrame, MAX_FRAME_SPEC);
  const seq = u16('seq', h.seq);
  const corr = u16('corr', h.corr ?? 0);
  if (!h.rsp && corr !== 0) {
    throw protocolError('frame.header', {
      reason: `corr=${corr} given for a frame without RSP`,
      hint: 'set rsp: true when answering a request; corr is 0 otherwise (SPEC §2)',
      field: 'corr',
    });
  }
  // The frame is built in the message writer's buffer, `gap` bytes in (body first, then header
  // and CRC around it), and COBS-encoded from there: into the wire array for short frames, in
  // place for long ones. The gap is the most COBS can add to a frame of maxFrame bytes, which is
  // what encoding in place needs (see cobsEncodeInPlace).
  const gap = Math.ceil(maxFrame / 254) + 1;
  const w = encodeMessageAt(msg, gap + HEADER_SIZE, h.protocolVersion ?? PROTOCOL_MAX); // validates msg and its type first
  const type = MessageType[msg.type as keyof typeof MessageType];
  const bodyLen = w.pos - gap - HEADER_SIZE;
  const frameLen = HEADER_SIZE + bodyLen + CRC_SIZE;
  if (frameLen > maxFrame) {
    throw protocolError('frame.oversize', {
      reason: `${msg.type} frame is ${frameLen} bytes, larger than maxFrame ${maxFrame}`,
      hint: 'send less per frame (smaller DEPLOY chunkSize, fewer tensors per request) or negotiate a larger maxFrame',
      details: { frameLen, maxFrame, type: msg.type },
    });
  }
  w.room(CRC_SIZE + 1); // + 1: cobsEncodeInPlace's sentinel after the frame
  const buf = w.buf;
  const flags = (h.rsp ? FLAG_RSP : 0) | (h.rtx ? FLAG_RTX : 0);
  writeHeaderAndCrc(buf, gap, type, flags, seq, corr, bodyLen);
  if (frameLen <= EXACT_COBS_MAX) {
    const wire = allocBytes(frameLen + 2);
    const end = cobsEncodeShort(buf, gap, gap + frameLen, wire, 0);
    wire[end] = 0;
    return wire;
  }
  const n = cobsEncodeInPlace(buf, gap, gap + frameLen, 0);
  buf[n] = 0;
  return copyBytes(buf, 0, n + 1);
}

/**
 * Parse and check an unencoded frame (after COBS decoding): size, CRC, version, flags, len, type,
 * then the body. Message byte strings are views into `frame`.
 */
export function parseFrame(frame: Uint8Array, maxFrame: number = DEFAULT_MAX_FRAME, protocolVersion = PROTOCOL_MAX): Frame {
  const n = frame.length;
  if (n < MIN_FRAME) {
    throw protocolError('frame.truncated', { reason: `frame is ${n} bytes, shorter than the ${MIN_FRAME}-byte minimum`, details: { frameLen: n } });
  }
  if (n > maxFrame) {
    throw protocolError('frame.oversize', { reason: `frame is ${n} bytes, larger than maxFrame ${maxFrame}`, details: { frameLen: n, maxFrame } });
  }
  const crcAt = n - CRC_SIZE;
  // Over the whole frame, CRC included, an intact frame gives the residue (see CRC32C_RESIDUE):
  // the same check as recomputing over bytes 0..crcAt, without a view of that range.
  if (crc32c(frame) !== CRC32C_RESIDUE) {
    const got = (frame[crcAt]! | (frame[crcAt + 1]! << 8) | (frame[crcAt + 2]! << 16) | (frame[crcAt + 3]! << 24)) >>> 0;
    const want = crc32c(frame, 0, 0, crcAt);
    throw protocolError('frame.crc', {
      reason: `frame CRC-32C is 0x${got.toString(16).padStart(8, '0')}, contents give 0x${want.toString(16).padStart(8, '0')}`,
      details: { frameLen: n },
    });
  }
  const version = frame[0]!;
  const type = frame[1]!;
  const flags = frame[2]!;
  const seq = (frame[3]! << 8) | frame[4]!;
  const corr = (frame[5]! << 8) | frame[6]!;
  const len = (frame[7]! << 8) | frame[8]!;
  // From here on the header is trustworthy (CRC ok): errors carry it so a link can answer the
  // request with an ERROR correlated to its seq.
  const header: FrameHeader = { version, type, flags, seq, corr };
  if (version !== FRAME_VERSION) {
    throw protocolError('frame.version', {
      reason: `frame version byte is ${version}, this receiver speaks ${FRAME_VERSION}`,
      details: { ...header },
    });
  }
  if (flags & FLAG_RESERVED_MASK) {
    throw protocolError('frame.header', {
      reason: `reserved flag bits set (flags 0x${flags.toString(16).padStart(2, '0')})`,
      hint: 'only bit 0 (RSP) and bit 1 (RTX) are defined; senders must send the other bits as 0',
      field: 'flags',
      details: { ...header },
    });
  }
  if (len !== crcAt - HEADER_SIZE) {
    throw protocolError('frame.header', {
      reason: `header len ${len} does not match the ${crcAt - HEADER_SIZE}-byte body`,
      hint: 'len must be the body length in bytes, big-endian (SPEC §2)',
      field: 'len',
      details: { ...header },
    });
  }
  if (messageTypeName(type) === undefined) {
    throw protocolError('msg.unknown_type', {
      reason: `message type 0x${type.toString(16).padStart(2, '0')} is not defined in protocol v1`,
      details: { ...header },
    });
  }
  let message: Message;
  try {
    message = decodeMessage(type, frame, HEADER_SIZE, crcAt, protocolVersion);
  } catch (e) {
    // Attach the header to the error so the receiver can still correlate its ERROR reply.
    const pe = e as { details?: Record<string, unknown> };
    if (pe && typeof pe === 'object') Object.assign(pe, { details: { ...(pe.details ?? {}), ...header } });
    throw e;
  }
  return { header, message };
}

/** Decode one wire piece (COBS bytes between delimiters, delimiter excluded). */
export function decodeFrame(piece: Uint8Array, opts?: { maxFrame?: number }): Frame {
  if (!(piece instanceof Uint8Array)) throw protocolError('frame.truncated', { reason: 'decodeFrame needs the piece as a Uint8Array' });
  const maxFrame = opts?.maxFrame === undefined ? DEFAULT_MAX_FRAME : resolveNumber('maxFrame', opts.maxFrame, MAX_FRAME_SPEC);
  if (piece.length > maxWirePiece(maxFrame)) {
    throw protocolError('frame.oversize', {
      reason: `${piece.length}-byte wire piece cannot hold a frame of at most ${maxFrame} bytes`,
      details: { pieceLen: piece.length, maxFrame },
    });
  }
  return parseFrame(cobsDecode(piece), maxFrame);
}
