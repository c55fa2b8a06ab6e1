/**
 * A frame flow at the gateway (EPARA's frequency-sensitive services): a camera pushes frames at a
 * target FPS, each with a budget; the gateway decides which frames go to a device, packs them into
 * batches, and accounts for how many arrived in time. Pure: no timers, no I/O, the caller passes
 * the time; the server's frame-flows.ts does the sending.
 *
 *  - Credits (AIMD, credits.ts): at most `credits` frames of the flow are in flight. A batch
 *    answered within its oldest frame's budget adds credit; a late or lost batch halves it, so a
 *    flow backs off before its frames pile up behind each other.
 *  - Batching: frames that arrive while the credits are spent wait at the gateway and leave
 *    together, as one batched request (their tensors stacked along the first dimension), up to
 *    `maxBatch` and the free credits.
 *  - Drop at the gateway: a waiting frame whose deadline comes before the predicted answer (now +
 *    the smoothed latency of the flow's recent batches) is dropped, never sent: it could only
 *    waste a device's time. So is an expired frame, and the oldest frame when more than
 *    `maxPending` wait. With nothing in flight the next batch goes out as a probe.
 *  - Attainment: frames offered, dropped at the gateway, sent, on time, late, failed; attainment is
 *    on-time frames over offered frames, the achieved FPS on-time frames per second of the flow.
 */
import { resolveNumbers } from '../options.js';
import { CreditController, type CreditOptions } from './credits.js';

export const FLOW_OPTIONS = {
  fps: { default: 5, min: 0.01, max: 10_000, unit: 'frames/s' },
  budgetMs: { default: 200, min: 1, max: 600_000, unit: 'ms' },
  maxBatch: { default: 8, min: 1, max: 256, integer: true },
  maxPending: { default: 64, min: 1, max: 65_536, integer: true },
  /** Weight of the newest latency in the smoothed latency (EWMA). */
  latencyAlpha: { default: 0.3, min: 0.01, max: 1 },
};

export type FlowOptions = { [K in keyof typeof FLOW_OPTIONS]: number };

export interface FlowFrame<T> {
  seq: number;
  arrivalMs: number;
  /** Absolute: arrival + budget. */
  deadlineMs: number;
  payload: T;
}

export type DropReason = 'predicted-late' | 'expired' | 'queue-full';
export type BatchOutcome = 'ok' | 'lost';

export interface FlowStats {
  targetFps: number;
  budgetMs: number;
  offered: number;
  sent: number;
  droppedAtGateway: number;
  onTime: number;
  late: number;
  failed: number;
  /** Frames still waiting or in flight. */
  open: number;
  batches: number;
  /** Mean frames per batch sent. */
  meanBatch: number;
  credits: number;
  /** On-time frames / offered frames (1 with nothing offered yet). */
  attainment: number;
  /** On-time frames per second between the first frame and `nowMs`. */
  achievedFps: number;
  /** Smoothed batch latency the drop decision uses, ms (0 before the first answer). */
  latencyMs: number;
}

export class FlowController<T> {
  readonly o: FlowOptions;
  private readonly credit: CreditController;
  private readonly pending: FlowFrame<T>[] = [];
  private dropped: Array<{ frame: FlowFrame<T>; reason: DropReason }> = [];
  private inflightFrames = 0;
  private nextSeq = 0;
  private firstMs: number | null = null;
  private latency = 0;
  private latencyKnown = false;
  private readonly n = { offered: 0, sent: 0, droppedAtGateway: 0, onTime: 0, late: 0, failed: 0, batches: 0 };

  constructor(opts: Partial<FlowOptions> = {}, credits?: Partial<CreditOptions>) {
    this.o = resolveNumbers(FLOW_OPTIONS, opts, 'flow.');
    this.credit = new CreditController({ initial: Math.min(this.o.maxBatch, 4), ...credits });
  }

  get credits(): number {
    return this.credit.credits;
  }

  /** Frames waiting at the gateway. */
  get waiting(): number {
    return this.pending.length;
  }

  get inFlight(): number {
    return this.inflightFrames;
  }

  /** A frame arrives now; returns it (with its sequence number and deadline). */
  offer(payload: T, nowMs: number): FlowFrame<T> {
    const f: FlowFrame<T> = { seq: this.nextSeq++, arrivalMs: nowMs, deadlineMs: nowMs + this.o.budgetMs, payload };
    this.firstMs ??= nowMs;
    this.n.offered++;
    this.pending.push(f);
    while (this.pending.length > this.o.maxPending) this.drop(this.pending.shift()!, 'queue-full');
    return f;
  }

  /**
   * The next batch to send now, or null (no credit free, or nothing waiting). Frames that would
   * miss their deadline are dropped first (read them with takeDropped()).
   */
  take(nowMs: number): FlowFrame<T>[] | null {
    this.prune(nowMs);
    const free = this.credit.credits - this.inflightFrames;
    if (free <= 0 || this.pending.length === 0) return null;
    const batch = this.pending.splice(0, Math.min(free, this.o.maxBatch));
    this.inflightFrames += batch.length;
    this.n.sent += batch.length;
    this.n.batches++;
    return batch;
  }

  /**
   * A batch sent at `sentMs` was answered (or lost) at `nowMs`. Each frame is on time when the
   * answer came by its own deadline; the credits grow when the whole batch was, shrink otherwise.
   */
  complete(batch: readonly FlowFrame<T>[], sentMs: number, nowMs: number, outcome: BatchOutcome): { onTime: number; late: number } {
    this.inflightFrames = Math.max(0, this.inflightFrames - batch.length);
    let onTime = 0;
    let late = 0;
    for (const f of batch) {
      if (outcome === 'lost') this.n.failed++;
      else if (nowMs <= f.deadlineMs) onTime++;
      else late++;
    }
    this.n.onTime += onTime;
    this.n.late += late;
    const oldest = batch.reduce((m, f) => Math.min(m, f.deadlineMs), Infinity);
    if (outcome === 'lost') this.credit.onSample(Infinity, 0);
    else {
      const took = nowMs - sentMs;
      const a = this.o.latencyAlpha;
      this.latency = this.latencyKnown ? a * took + (1 - a) * this.latency : took;
      this.latencyKnown = true;
      // Late: the answer came after the oldest frame's deadline (the queueing the credits react to).
      this.credit.onSample(nowMs, oldest);
    }
    return { onTime, late };
  }

  /** Frames dropped at the gateway since the last call. */
  takeDropped(): Array<{ frame: FlowFrame<T>; reason: DropReason }> {
    const d = this.dropped;
    this.dropped = [];
    return d;
  }

  /** Drops the waiting frames that can no longer make it (all of them when the flow closes: `all`). */
  prune(nowMs: number, all = false): void {
    // With nothing in flight the next batch is a probe: it is sent unless already expired, so a
    // latency estimate that went stale (one slow answer) cannot starve the flow for good.
    const predicted = this.inflightFrames > 0 ? nowMs + this.latency : -Infinity;
    for (let i = 0; i < this.pending.length; ) {
      const f = this.pending[i]!;
      if (all || f.deadlineMs < nowMs) this.drop(this.pending.splice(i, 1)[0]!, 'expired');
      else if (f.deadlineMs < predicted) this.drop(this.pending.splice(i, 1)[0]!, 'predicted-late');
      else i++;
    }
  }

  stats(nowMs: number): FlowStats {
    const n = this.n;
    const spanSec = this.firstMs === null ? 0 : (nowMs - this.firstMs) / 1000;
    return {
      targetFps: this.o.fps,
      budgetMs: this.o.budgetMs,
      ...n,
      open: this.pending.length + this.inflightFrames,
      meanBatch: n.batches ? n.sent / n.batches : 0,
      credits: this.credit.credits,
      attainment: n.offered ? n.onTime / n.offered : 1,
      // Over at least one frame interval, so a flow of a single frame does not read as infinite FPS.
      achievedFps: spanSec > 0 || n.onTime ? n.onTime / Math.max(spanSec, 1 / this.o.fps) : 0,
      latencyMs: this.latency,
    };
  }

  private drop(frame: FlowFrame<T>, reason: DropReason): void {
    this.n.droppedAtGateway++;
    this.dropped.push({ frame, reason });
  }
}
