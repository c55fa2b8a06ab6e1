import { EparaError } from '../errors.js';
import { errorForCode } from '../protocol/index.js';
import { resolveNumber } from '../options.js';
import type { FrameLink } from './frame-link.js';

export interface WindowedTransferOptions {
  /** Bytes to move. */
  total: number;
  chunkSize: number;
  /** Chunks in flight at once: min(DEPLOY_ACCEPT window, the link's window). */
  window: number;
  /** Where to start (DEPLOY_ACCEPT nextOffset when resuming). */
  startOffset?: number;
  /** Sends bytes [offset, offset+length) and resolves with the receiver's cumulative nextOffset. */
  sendChunk: (offset: number, length: number) => Promise<number>;
  onProgress?: (acked: number, total: number) => void;
}

export interface WindowedTransferResult {
  chunksSent: number;
  /** Chunks sent again because the receiver had dropped them (go-back-N). */
  chunksResent: number;
  goBacks: number;
}

interface Outcome {
  id: number;
  offset: number;
  length: number;
  epoch: number;
  next?: number;
  error?: unknown;
}

/**
 * Go-back-N bulk transfer (SPEC §5.11) on top of any request/response link: keeps up to `window`
 * chunks outstanding so throughput is not bounded by the round-trip time. The receiver accepts
 * only the chunk at its nextOffset and always answers with it; when an answer shows a gap, the
 * sender goes back to the acknowledged offset (once per gap: an epoch number ignores the answers
 * of chunks sent before the go-back).
 */
export async function transferWindowed(o: WindowedTransferOptions): Promise<WindowedTransferResult> {
  const total = resolveNumber('total', o.total, { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  const chunkSize = resolveNumber('chunkSize', o.chunkSize, { default: 0, min: 1, max: 1 << 30, integer: true });
  const window = resolveNumber('window', o.window, { default: 1, min: 1, max: 255, integer: true });
  const start = resolveNumber('startOffset', o.startOffset, { default: 0, min: 0, max: total, integer: true });
  let acked = start;
  let sendPtr = start;
  let epoch = 0;
  let nextId = 0;
  let stalled = 0;
  const stallLimit = 10 * window + 10;
  const inflight = new Map<number, Promise<Outcome>>();
  const result: WindowedTransferResult = { chunksSent: 0, chunksResent: 0, goBacks: 0 };
  let highestSent = start;
  let failure: unknown;

  while (acked < total && failure === undefined) {
    while (inflight.size < window && sendPtr < total) {
      const id = nextId++;
      const offset = sendPtr;
      const length = Math.min(chunkSize, total - offset);
      sendPtr += length;
      result.chunksSent++;
      if (offset < highestSent) result.chunksResent++;
      highestSent = Math.max(highestSent, offset + length);
      const e = epoch;
      inflight.set(
        id,
        o.sendChunk(offset, length).then(
          (next) => ({ id, offset, length, epoch: e, next }),
          (error: unknown) => ({ id, offset, length, epoch: e, error }),
        ),
      );
    }
    if (inflight.size === 0) {
      // Everything was sent but the receiver is behind: resend from its offset.
      sendPtr = acked;
      epoch++;
      result.goBacks++;
      continue;
    }
    const r = await Promise.race(inflight.values());
    inflight.delete(r.id);
    if (r.error !== undefined) {
      failure = r.error;
      break;
    }
    const next = r.next!;
    if (!Number.isInteger(next) || next < 0 || next > total) {
      failure = errorForCode('deploy.offset', { reason: `receiver answered nextOffset ${next}, outside 0..${total}`, details: { nextOffset: next, total } });
      break;
    }
    if (next > acked) {
      acked = next;
      stalled = 0;
      if (sendPtr < acked) sendPtr = acked;
      o.onProgress?.(acked, total);
    } else if (++stalled > stallLimit) {
      failure = errorForCode('deploy.offset', {
        reason: `receiver stopped advancing at offset ${acked} of ${total} (${stalled} answers without progress)`,
        hint: 'the device keeps refusing the chunk at its nextOffset: check its free space and logs, then restart the deployment',
        details: { nextOffset: acked, total },
      });
      break;
    }
    if (next < r.offset && r.epoch === epoch && sendPtr > acked) {
      sendPtr = acked;
      epoch++;
      result.goBacks++;
    }
  }
  // Never leave a chunk's promise unobserved, even when we stop early.
  await Promise.allSettled(inflight.values());
  if (failure !== undefined) throw failure instanceof EparaError ? failure : errorForCode('internal', { reason: String(failure), cause: failure });
  return result;
}

/**
 * DEPLOY_CHUNK transfer over a FrameLink: the deployment code's one-liner after DEPLOY_ACCEPT.
 * The window is the smaller of the device's DEPLOY_ACCEPT window and the link's request window.
 */
export function sendDeployChunks(
  link: FrameLink,
  d: { deploymentId: number; data: Uint8Array; chunkSize: number; window: number; startOffset?: number; onProgress?: (acked: number, total: number) => void },
): Promise<WindowedTransferResult> {
  return transferWindowed({
    total: d.data.length,
    chunkSize: d.chunkSize,
    window: Math.max(1, Math.min(d.window, link.window)),
    startOffset: d.startOffset,
    onProgress: d.onProgress,
    sendChunk: async (offset, length) => {
      const rsp = await link.request({ type: 'DEPLOY_CHUNK', deploymentId: d.deploymentId, offset, data: d.data.subarray(offset, offset + length) });
      if (rsp.type !== 'DEPLOY_CHUNK_ACK') {
        throw errorForCode('msg.unexpected', { reason: `DEPLOY_CHUNK answered with ${rsp.type}`, details: { type: rsp.type } });
      }
      return rsp.nextOffset;
    },
  });
}

/**
 * Largest DEPLOY_CHUNK data that fits a frame of `maxFrame` bytes, exactly: header 9 + CRC 4 +
 * the CBOR map head (1) + three one-byte keys + deploymentId and offset as CBOR uints (at most 5
 * bytes each while they stay below 2^32, which DEPLOY sizes do) + the byte-string head.
 */
export function maxChunkData(maxFrame: number, opts: { deploymentId?: number; maxOffset?: number } = {}): number {
  const uintLen = (v: number): number => (v < 24 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < 2 ** 32 ? 5 : 9);
  const fixed = 9 + 4 + 1 + 3 + uintLen(opts.deploymentId ?? 2 ** 32 - 1) + uintLen(opts.maxOffset ?? 2 ** 32 - 1);
  for (const head of [1, 2, 3, 5]) {
    const n = maxFrame - fixed - head;
    if (uintLen(n) === head || (head === 1 && n < 24)) return Math.max(0, n);
  }
  return Math.max(0, maxFrame - fixed - 5);
}
