import type { FrameLink } from '../../src/transport/frame-link.js';

/**
 * The receiving half of SPEC §5.11 reduced to what link tests and benches need: accepts
 * DEPLOY_CHUNK only at nextOffset (drops out-of-order and duplicate chunks), always answers with
 * the cumulative nextOffset, and records which request seqs it executed so a test can prove that
 * no request ran twice. The real device-side deployment (offers, persistence, commit) is the
 * client SDK's; this is a link-level stand-in.
 */
export class ChunkSink {
  readonly data: Uint8Array;
  nextOffset = 0;
  /** seq of every DEPLOY_CHUNK request this sink executed, in order. */
  readonly executedSeqs: number[] = [];
  accepted = 0;
  dropped = 0;

  constructor(
    readonly deploymentId: number,
    size: number,
  ) {
    this.data = new Uint8Array(size);
  }

  /** Serves DEPLOY_CHUNK on `link` (call again after a reconnect; the offset survives like persisted state). */
  attach(link: FrameLink): void {
    link.on('request', (frame, reply) => {
      const m = frame.message;
      if (m.type !== 'DEPLOY_CHUNK' || m.deploymentId !== this.deploymentId) return;
      this.executedSeqs.push(frame.header.seq);
      if (m.offset === this.nextOffset && m.offset + m.data.length <= this.data.length) {
        this.data.set(m.data, m.offset);
        this.nextOffset += m.data.length;
        this.accepted++;
      } else {
        this.dropped++;
      }
      return reply({ type: 'DEPLOY_CHUNK_ACK', deploymentId: this.deploymentId, nextOffset: this.nextOffset });
    });
  }
}
