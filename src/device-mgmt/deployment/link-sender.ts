import { DeployError } from '../../errors.js';
import { deployChunkWireSize, maxChunkData, type DeployChunkAckMessage, type Message } from '../../protocol/index.js';
import { sendChunks, type ChunkSendControl, type ChunkSenderResult } from './sender.js';

/**
 * The deploy sender bound to a device link: DEPLOY_CHUNK requests with the negotiated limits.
 * The Deployer calls it after DEPLOY_ACCEPT; the transport tests and benches call it over a bare
 * FrameLink, so the link layer is certified with the same sender production runs.
 */
export interface ChunkLink {
  request(msg: Message, opts?: { timeoutMs?: number; retries?: number; attemptMs?: number; signal?: AbortSignal }): Promise<Message>;
  /** The line rate when the stream has one (serial links). */
  readonly options?: { readonly baudRate: number };
  /** The link's time source (a virtual clock on emulated links). */
  readonly clock?: { now(): number };
}

export interface LinkTransfer {
  deploymentId: number;
  size: number;
  /** Negotiated (CHALLENGE) frame size and window; the window is also capped by DEPLOY_ACCEPT's. */
  maxFrame: number;
  window: number;
  /** Largest chunk wanted (the offer's chunkSize caps it further); default: what the frame holds. */
  chunkSize?: number;
  startOffset?: number;
  /** Adapt the chunk size to loss (default: on lines with a known baud) or keep it fixed (the bench's sweep). */
  adaptive?: boolean;
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** Per-attempt base timeout of each chunk request (the link's default otherwise). */
  timeoutMs?: number;
  onAck?(ack: DeployChunkAckMessage, bytes: number): void;
  onProgress?(acked: number, sentBytes: number): void;
}

/** The chunkSize a DEPLOY_OFFER should carry: every chunk at any offset of the artifact fits maxFrame. */
export function offerChunkSize(t: { deploymentId: number; size: number; maxFrame: number; chunkSize?: number }): number {
  const fits = maxChunkData(t.maxFrame, { deploymentId: t.deploymentId, maxOffset: t.size });
  return Math.max(1, Math.min(t.chunkSize ?? fits, fits, 65_535));
}

export function sendOverLink(link: ChunkLink, t: LinkTransfer): Promise<ChunkSenderResult> {
  const baud = link.options?.baudRate ?? 0;
  // On a line with a known baud a frame can need dozens of attempts (1% byte loss): chunks get
  // the link's maximum retries, and the sender's round-trip timer keeps each attempt short.
  const serial = baud > 0;
  const clock = link.clock;
  const base = t.timeoutMs === undefined ? {} : { timeoutMs: t.timeoutMs };
  const requestOpts = (ctl: ChunkSendControl) => ({ ...base, signal: ctl.signal, ...(ctl.attemptMs !== undefined ? { attemptMs: ctl.attemptMs } : {}), ...(serial ? { retries: 100 } : {}) });
  return sendChunks({
    size: t.size,
    chunkSize: offerChunkSize(t),
    window: t.window,
    startOffset: t.startOffset ?? 0,
    // The chunk size adapts where the line itself loses bytes: a serial line (baud known). TCP,
    // TLS and memory links never lose a byte, so a refused chunk there says nothing about its
    // size (a device that drops every third chunk would only get more, smaller chunks to drop).
    adaptive: t.adaptive ?? serial,
    wireBytes: (n) => deployChunkWireSize(n, { deploymentId: t.deploymentId, offset: t.size }),
    ...(serial && clock ? { rtt: { now: () => clock.now() } } : {}),
    read: t.read,
    sendChunk: async (offset, data, ctl) => {
      const ack = await link.request({ type: 'DEPLOY_CHUNK', deploymentId: t.deploymentId, offset, data }, requestOpts(ctl));
      if (ack.type !== 'DEPLOY_CHUNK_ACK') {
        throw new DeployError({ code: 'deploy.offset', reason: `device answered DEPLOY_CHUNK with ${ack.type}`, hint: 'update the device firmware' });
      }
      t.onAck?.(ack, data.length);
      return ack.nextOffset;
    },
    ...(t.onProgress ? { onProgress: t.onProgress } : {}),
  });
}
