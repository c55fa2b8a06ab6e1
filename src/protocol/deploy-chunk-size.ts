/**
 * DEPLOY_CHUNK sizes from the codec itself (SPEC §5.11): how many data bytes fit a frame of
 * `maxFrame` bytes, and how many bytes a chunk puts on the wire. The overhead is measured by
 * encoding the chunk with no data (header, CRC, map head, keys, deploymentId, offset), so it
 * follows the codec instead of a guessed constant; only the byte-string head, which grows with
 * the data, is added by RFC 8949's shortest-form rule.
 */
import { cobsMaxEncodedLength } from './cobs.js';
import { CRC_SIZE, HEADER_SIZE } from './constants.js';
import { encodeMessageView } from './messages/codec.js';

/** Largest u32: the worst-case deploymentId and (below 4 GiB) offset. */
const U32_MAX = 2 ** 32 - 1;
const EMPTY = new Uint8Array(0);

/** CBOR head length of a byte string of n bytes (major type 2, shortest form). */
export function bstrHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 2 ** 32 ? 5 : 9;
}

/** Frame bytes (header + body + CRC, before COBS) of everything but the data and its head. */
function fixedOverhead(deploymentId: number, offset: number): number {
  const empty = encodeMessageView({ type: 'DEPLOY_CHUNK', deploymentId, offset, data: EMPTY }).length;
  return HEADER_SIZE + CRC_SIZE + empty - bstrHeadLength(0);
}

/** Unencoded frame size of a DEPLOY_CHUNK carrying `n` data bytes. */
export function deployChunkFrameSize(n: number, at: { deploymentId: number; offset: number }): number {
  return fixedOverhead(at.deploymentId, at.offset) + bstrHeadLength(n) + n;
}

/** Bytes the chunk takes on a byte stream: COBS (worst case) plus the 0x00 delimiter. */
export function deployChunkWireSize(n: number, at: { deploymentId: number; offset: number }): number {
  return cobsMaxEncodedLength(deployChunkFrameSize(n, at)) + 1;
}

/**
 * Largest DEPLOY_CHUNK data that fits a frame of `maxFrame` bytes, exactly, for every offset up to
 * `maxOffset` (an offset's CBOR length only grows with its value). Defaults are the worst case.
 */
export function maxChunkData(maxFrame: number, opts: { deploymentId?: number; maxOffset?: number } = {}): number {
  const fixed = fixedOverhead(opts.deploymentId ?? U32_MAX, opts.maxOffset ?? U32_MAX);
  // The head's length depends on n itself: take the largest n whose own head still fits.
  for (const head of [5, 3, 2, 1]) {
    const n = maxFrame - fixed - head;
    if (n >= 0 && bstrHeadLength(n) === head) return n;
  }
  return 0;
}
