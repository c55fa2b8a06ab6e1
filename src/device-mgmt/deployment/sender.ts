import { DeployError, EparaError } from '../../errors.js';
import { ChunkSizer } from './chunk-sizer.js';

/**
 * The deploy sender (SPEC §5.11): the one go-back-N DEPLOY_CHUNK sender, used by the server for
 * every deployment over any link (TCP/TLS, UART/SPP, BLE) and by the tests and benches that
 * certify it. No I/O of its own: `sendChunk` is the link request, `read` the artifact.
 *
 * - Window: at most `window` chunks are unacknowledged (min of CHALLENGE's and DEPLOY_ACCEPT's).
 * - Acks are cumulative: the device answers every chunk with its nextOffset, so an ack covers
 *   every chunk before it; a chunk whose own ack was lost is settled by a later one, and its
 *   request is abandoned (no retransmission, its window slot freed).
 * - Loss is detected from the acks, not from a timer: a device that answers a chunk with an offset
 *   short of that chunk's end did not take it (it lost or refused an earlier one, or this one), so
 *   the sender abandons what is in flight and goes back to the device's offset at once. The link's
 *   retransmission timer only covers a tail with no later ack to tell (the last chunks, or all in
 *   flight lost); on a line with a known baud it is set from the measured round trip (Jacobson
 *   and Karels: srtt + 4·rttvar) instead of the link's worst case.
 * - Chunk size adapts to the loss the sender observes (ChunkSizer): it shrinks when chunks are
 *   lost and grows back when they arrive. SPEC §5.11 already allows it: a DEPLOY_CHUNK carries its
 *   offset, and DEPLOY_OFFER `chunkSize` is the largest data a chunk may carry, so devices that
 *   follow the spec (this SDK, the FPGA endpoint) take any size at their nextOffset.
 * - The device is authoritative: if its offset moves backwards (it restarted and lost the tail),
 *   the sender follows it.
 */
export interface ChunkSendControl {
  /** Aborted when the chunk became moot (covered by a later ack, or superseded by a go-back). */
  signal: AbortSignal;
  /** The first attempt's whole wait, when the sender sets it from the measured round trip. */
  attemptMs?: number;
}

export interface ChunkSenderOptions {
  size: number;
  /** Largest chunk (the offer's chunkSize, within the negotiated frame). */
  chunkSize: number;
  /** Smallest chunk the adaptation may choose (default 16, or chunkSize when smaller). */
  minChunkSize?: number;
  /** Adapt the chunk size to observed loss (default true); false sends chunkSize throughout. */
  adaptive?: boolean;
  window: number;
  /** Where the device said to start (DEPLOY_ACCEPT nextOffset). */
  startOffset: number;
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** Sends one chunk; resolves with the device's nextOffset from DEPLOY_CHUNK_ACK. */
  sendChunk(offset: number, data: Uint8Array, ctl: ChunkSendControl): Promise<number>;
  /** Wire bytes of a chunk with n data bytes (deployChunkWireSize); the adaptation's cost model. */
  wireBytes?(n: number): number;
  /**
   * Set the link's retransmission timeout from the measured round trip, on this clock. Only for
   * lines with a known baud (serial, emulated): there loss is real and the worst-case timeout
   * would idle the line; TCP does its own recovery and keeps the link's generous timeout.
   */
  rtt?: { now(): number; minMs?: number; maxMs?: number };
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
  /** Chunks sent again over a range sent before (go-back-N). */
  chunksResent: number;
  goBacks: number;
  /** Chunks the device reported missing (what drives the adaptation). */
  lost: number;
  /** Chunk size at the end of the transfer. */
  finalChunkSize: number;
}

interface InFlight {
  offset: number;
  end: number;
  ctl: AbortController;
  sentAt: number;
  attemptMs?: number;
}

type Outcome = { f: InFlight; next: number } | { f: InFlight; error: unknown };

/** Chunk wire size when the caller gives no codec-derived one: the SPEC §5.11 worst case. */
const WORST_OVERHEAD = 34 + 2;

export async function sendChunks(o: ChunkSenderOptions): Promise<ChunkSenderResult> {
  if (!Number.isSafeInteger(o.startOffset) || o.startOffset < 0 || o.startOffset > o.size) {
    throw new DeployError({
      code: 'deploy.offset',
      reason: `device asked to resume at offset ${o.startOffset} of a ${o.size}-byte artifact`,
      hint: 'the device kept a partial artifact that does not match; `epara undeploy` the service and deploy again',
      details: { startOffset: o.startOffset, size: o.size },
    });
  }
  const maxChunk = Math.max(1, Math.floor(o.chunkSize));
  const window = Math.max(1, Math.floor(o.window));
  const wireBytes = o.wireBytes ?? ((n: number) => n + WORST_OVERHEAD);
  const sizer = new ChunkSizer({
    max: maxChunk,
    min: o.minChunkSize ?? Math.min(16, maxChunk),
    wireBytes,
    window,
    // A serial line may be noisy: start as if it lost one byte in a thousand (a few hundred bytes
    // per chunk) and let the first clean acks grow the chunk, rather than sending frames a noisy
    // line can never carry.
    ...(o.rtt ? { priorByteLoss: 1e-3 } : {}),
  });
  const adaptive = o.adaptive !== false;
  const rto = o.rtt ? new RetransmitTimer(o.rtt.minMs ?? 20, o.rtt.maxMs ?? 600_000) : undefined;
  const maxStalls = o.maxStalls ?? 64;

  let acked = o.startOffset;
  let next = o.startOffset;
  let highestSent = o.startOffset;
  const r: ChunkSenderResult = { sentBytes: 0, chunks: 0, chunksResent: 0, goBacks: 0, lost: 0, finalChunkSize: maxChunk };
  // Consecutive go-backs that found the device at the offset of the previous go-back: progress
  // between go-backs (a link that drops every Nth chunk) must not count towards giving up.
  let stalls = 0;
  let goBackOffset = -1;
  const inflight = new Set<InFlight>();
  const outcomes: Outcome[] = [];
  let wake: (() => void) | undefined;
  const push = (x: Outcome): void => {
    outcomes.push(x);
    wake?.();
  };

  const checkOffset = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || n > o.size) {
      throw new DeployError({
        code: 'deploy.offset',
        reason: `device acknowledged offset ${n}, outside 0..${o.size}`,
        hint: 'the device firmware mis-tracks offsets; update it or report the bug',
        details: { nextOffset: n, size: o.size },
      });
    }
    return n;
  };
  const abandon = (f: InFlight): void => {
    inflight.delete(f);
    f.ctl.abort(superseded());
  };

  try {
    while (acked < o.size) {
      while (inflight.size < window && next < o.size) {
        if (o.cancelled?.()) throw cancelledError();
        const len = Math.min(adaptive ? sizer.current : maxChunk, o.size - next);
        const data = await o.read(next, len);
        const f: InFlight = { offset: next, end: next + len, ctl: new AbortController(), sentAt: o.rtt?.now() ?? 0 };
        // Until the round trip is measured the link's own (configured, worst-case) timeout applies.
        const attemptMs = rto?.timeoutMs;
        if (attemptMs !== undefined) f.attemptMs = attemptMs;
        inflight.add(f);
        o.sendChunk(next, data, { signal: f.ctl.signal, ...(attemptMs !== undefined ? { attemptMs } : {}) }).then(
          (n) => push({ f, next: n }),
          (error: unknown) => push({ f, error }),
        );
        if (next < highestSent) r.chunksResent++;
        next += len;
        highestSent = Math.max(highestSent, next);
        r.sentBytes += len;
        r.chunks++;
      }
      if (outcomes.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const out = outcomes.shift()!;
      const f = out.f;
      // Answers of abandoned chunks (superseded by a go-back, or covered by a later ack) carry
      // nothing the sender needs: every chunk in flight is of the current pass.
      if (!inflight.has(f)) continue;
      inflight.delete(f);
      if ('error' in out) throw out.error;
      const n = checkOffset(out.next);
      if (o.rtt && rto) {
        // Karn: only an answer that came before the first retransmission measures the round trip.
        const took = o.rtt.now() - f.sentAt;
        // An answer well after the first attempt's timeout came from a retransmission: that chunk
        // (or its ack) was lost, which the sizer must count as much as a loss an ack revealed.
        // (Just after the timeout it is more likely a late answer to the first attempt.)
        if (f.attemptMs !== undefined && took >= f.attemptMs + 0.5 * (rto.srttMs ?? 0)) {
          sizer.lost(f.end - f.offset);
          r.lost++;
        } else if (f.attemptMs === undefined || took < f.attemptMs) {
          rto.sample(took);
        }
      }
      const before = acked;
      if (n !== acked) {
        acked = n;
        o.onProgress?.(acked, r.sentBytes);
      }
      if (n >= f.end && n >= before) {
        sizer.delivered(f.end - f.offset);
        // Chunks the ack covers are done even if their own answers were lost: free their slots.
        for (const g of [...inflight]) {
          if (g.end <= n) {
            sizer.delivered(g.end - g.offset);
            abandon(g);
          }
        }
        if (next < acked) next = acked;
        continue;
      }
      // The device does not have this chunk: it lost (or refused) the one at its offset and
      // dropped every later one, or it moved backwards. Go back to its offset now.
      const missing = f.offset === n ? f : [...inflight].find((g) => g.offset === n);
      if (missing && n >= before) {
        sizer.lost(missing.end - missing.offset);
        r.lost++;
      }
      for (const g of [...inflight]) abandon(g);
      next = acked;
      r.goBacks++;
      stalls = acked > goBackOffset ? 0 : stalls + 1;
      goBackOffset = acked;
      if (stalls >= maxStalls) {
        throw new DeployError({
          code: 'deploy.offset',
          reason: `device stayed at offset ${acked} of ${o.size} through ${stalls} retransmissions`,
          hint: 'the device refuses the chunk at its offset or the link loses every frame; check the link and the device log, then deploy again',
          details: { offset: acked, size: o.size, stalls },
        });
      }
    }
  } finally {
    // Nothing may keep retransmitting or hold a window slot after the transfer ended either way.
    for (const g of [...inflight]) abandon(g);
  }
  r.finalChunkSize = sizer.current;
  return r;
}

/**
 * Retransmission timeout from round-trip samples (RFC 6298: srtt + 4·rttvar, clamped), so a
 * chunk lost at the tail of the window is sent again after about one round trip rather than
 * after the link's worst-case timeout (which assumes a full window of maximum frames ahead).
 */
class RetransmitTimer {
  private srtt = 0;
  private rttvar = 0;
  private samples = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  sample(ms: number): void {
    if (!(ms >= 0)) return;
    if (this.samples++ === 0) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  get srttMs(): number | undefined {
    return this.samples > 0 ? this.srtt : undefined;
  }

  /** undefined until a few samples exist: the link's own timeout applies meanwhile. */
  get timeoutMs(): number | undefined {
    if (this.samples < 4) return undefined;
    // Never within half a round trip of the mean: a timer that fires on an answer merely late
    // (an emulator's or a UART driver's batching) costs a retransmission and reads as a loss.
    return Math.min(this.maxMs, Math.max(this.minMs, this.srtt + 4 * this.rttvar, 1.5 * this.srtt));
  }
}

function superseded(): DeployError {
  return new DeployError({ code: 'deploy.chunk_superseded', reason: 'the chunk was covered by a later acknowledgement or sent again after a go-back', hint: 'no action needed: the sender no longer needs this answer' });
}

function cancelledError(): DeployError {
  return new DeployError({ code: 'deploy.cancelled', reason: 'the transfer was cancelled', hint: 'deploy again when ready' });
}

/** True for the rejection of a chunk the sender abandoned itself (see ChunkSendControl.signal). */
export function isSuperseded(err: unknown): boolean {
  return err instanceof EparaError && err.code === 'deploy.chunk_superseded';
}
