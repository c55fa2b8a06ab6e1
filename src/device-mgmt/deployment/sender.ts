import { DeployError } from '../../errors.js';

/**
 * Go-back-N artifact sender (SPEC §5.11). At most `window` DEPLOY_CHUNKs are unacknowledged.
 * Acks are consumed in send order; each carries the device's cumulative `nextOffset`. When an ack
 * says the device did not take a chunk (nextOffset short of the chunk's end: it was out of order
 * or lost), the sender lets the chunks already in flight settle and goes back to the device's
 * offset. The device is authoritative: if its offset moves backwards (it restarted and lost the
 * tail), the sender follows it.
 *
 * No I/O of its own: `sendChunk` is the link request, `read` the artifact.
 */
export interface ChunkSenderOptions {
  size: number;
  chunkSize: number;
  window: number;
  /** Where the device said to start (DEPLOY_ACCEPT nextOffset). */
  startOffset: number;
  read(offset: number, length: number): Uint8Array;
  /** Sends one chunk; resolves with the device's nextOffset from DEPLOY_CHUNK_ACK. */
  sendChunk(offset: number, data: Uint8Array): Promise<number>;
  /** Called whenever the acknowledged offset changes. */
  onProgress?(ackedOffset: number, sentBytes: number): void;
  /** Consecutive go-backs without progress before giving up. */
  maxStalls?: number;
  /** Checked between chunks: a cancelled transfer stops sending. */
  cancelled?(): boolean;
}

export interface ChunkSenderResult {
  /** Bytes put on the link, retransmissions included. */
  sentBytes: number;
  chunks: number;
  goBacks: number;
}

/** Largest chunk that fits a DEPLOY_CHUNK frame of `maxFrame` bytes (header 9 + CRC 4 + CBOR overhead ≤ 17). */
export function chunkSizeFor(maxFrame: number, preferred = 4096): number {
  return Math.max(1, Math.min(preferred, maxFrame - 9 - 4 - 17));
}

export async function sendChunks(o: ChunkSenderOptions): Promise<ChunkSenderResult> {
  if (o.startOffset < 0 || o.startOffset > o.size) {
    throw new DeployError({
      code: 'deploy.offset',
      reason: `device asked to resume at offset ${o.startOffset} of a ${o.size}-byte artifact`,
      hint: 'the device kept a partial artifact that does not match; undeploy and deploy again',
      details: { startOffset: o.startOffset, size: o.size },
    });
  }
  const maxStalls = o.maxStalls ?? 8;
  let acked = o.startOffset;
  let next = o.startOffset;
  let sentBytes = 0;
  let chunks = 0;
  let goBacks = 0;
  // Consecutive go-backs that found the device at the offset of the previous go-back: progress
  // between go-backs (a link that drops every Nth chunk) must not count towards giving up.
  let stalls = 0;
  let goBackOffset = -1;
  const inflight: Array<{ end: number; reply: Promise<number> }> = [];

  const checkOffset = (n: number): number => {
    if (!Number.isInteger(n) || n < 0 || n > o.size) {
      throw new DeployError({
        code: 'deploy.offset',
        reason: `device acknowledged offset ${n}, outside 0..${o.size}`,
        hint: 'the device firmware mis-tracks offsets; update it or report the bug',
        details: { nextOffset: n, size: o.size },
      });
    }
    return n;
  };

  while (acked < o.size) {
    while (inflight.length < o.window && next < o.size) {
      if (o.cancelled?.()) throw cancelledError();
      const len = Math.min(o.chunkSize, o.size - next);
      const reply = o.sendChunk(next, o.read(next, len));
      // Rejections are handled when the reply is awaited; this stops an unhandled-rejection crash
      // for chunks still in flight when an earlier one fails.
      reply.catch(() => undefined);
      inflight.push({ end: next + len, reply });
      next += len;
      sentBytes += len;
      chunks++;
    }
    const head = inflight.shift()!;
    const before = acked;
    acked = checkOffset(await head.reply);
    if (acked !== before) o.onProgress?.(acked, sentBytes);
    if (acked < head.end) {
      // The device did not take this chunk: drain what is in flight, then go back to its offset.
      for (const f of inflight.splice(0)) acked = checkOffset(await f.reply);
      if (acked !== before) o.onProgress?.(acked, sentBytes);
      next = acked;
      goBacks++;
      stalls = acked > goBackOffset ? 0 : stalls + 1;
      goBackOffset = acked;
      if (stalls >= maxStalls) {
        throw new DeployError({
          code: 'deploy.offset',
          reason: `device stayed at offset ${acked} of ${o.size} through ${stalls} retransmissions`,
          hint: 'the link drops every chunk at this size; lower the chunk size or check the link',
          details: { offset: acked, size: o.size, stalls },
        });
      }
    }
  }
  // Chunks sent past the end cannot exist, but acks for chunks after the final one can be pending
  // when the device jumped ahead (already had the bytes); wait for them so no request dangles.
  for (const f of inflight.splice(0)) await f.reply.catch(() => undefined);
  return { sentBytes, chunks, goBacks };
}

function cancelledError(): DeployError {
  return new DeployError({ code: 'deploy.cancelled', reason: 'the transfer was cancelled', hint: 'deploy again when ready' });
}
