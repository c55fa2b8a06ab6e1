/**
 * What a replanning policy is told about the last placement window: each service's arrival rate
 * and the batch spread its handlers formed, both smoothed over windows (EWMA, α = 0.5) so one
 * bursty minute does not flip placements. Pure bookkeeping for the simulator (simulation.ts).
 */
import type { Batch, InferJob } from '../scheduler/request-handler.js';
import type { ServiceSpec } from '../scheduler/types.js';

/** Batches of two or more a window must see before its observed batch spread is reported. */
export const MIN_SPREAD_BATCHES = 20;

export class DemandWindow {
  /** Arrivals per service index in this window (the simulator counts them as requests arrive). */
  readonly arrivals: Float64Array;
  // Per service, over the window: batches of two or more formed by the handlers, the sum of each
  // one's longest request and of its members' mean size (ClusterState.observedSpread).
  private readonly spreadBatches: Float64Array;
  private readonly spreadLongest: Float64Array;
  private readonly spreadMean: Float64Array;
  private readonly smoothedRps = new Map<string, number>();
  private readonly smoothedSpread = new Map<string, number>();
  private startMs = 0;

  constructor(
    private readonly services: readonly ServiceSpec[],
    private readonly svcIndex: ReadonlyMap<string, number>,
    private readonly siOf: (job: InferJob) => number,
  ) {
    const n = svcIndex.size;
    this.arrivals = new Float64Array(n);
    this.spreadBatches = new Float64Array(n);
    this.spreadLongest = new Float64Array(n);
    this.spreadMean = new Float64Array(n);
  }

  /** A batch of two or more a handler formed at its first stage. */
  observeBatch(batch: Batch): void {
    let longest = 0;
    let sum = 0;
    for (const j of batch.jobs) {
      if (j.sizeFactor > longest) longest = j.sizeFactor;
      sum += j.sizeFactor;
    }
    const si = this.siOf(batch.jobs[0]!);
    this.spreadBatches[si]++;
    this.spreadLongest[si] += longest;
    this.spreadMean[si] += sum / batch.jobs.length;
  }

  /** Each service's arrival rate over the window so far, smoothed with the earlier windows'. */
  observedRps(nowMs: number): Record<string, number> {
    const sec = Math.max(1, nowMs - this.startMs) / 1000;
    const observedRps: Record<string, number> = {};
    for (const s of this.services) {
      const rate = this.arrivals[this.svcIndex.get(s.name)!]! / sec;
      const prev = this.smoothedRps.get(s.name);
      observedRps[s.name] = prev === undefined ? rate : 0.5 * rate + 0.5 * prev;
    }
    return observedRps;
  }

  /**
   * Each service's batch spread as its handlers formed them, smoothed like the demand, once a
   * window saw enough batches to say (a handful of batches says little about a heavy size tail).
   */
  observedSpread(): Record<string, number> {
    const observedSpread: Record<string, number> = {};
    for (const [name, si] of this.svcIndex) {
      const prev = this.smoothedSpread.get(name);
      if (this.spreadBatches[si]! >= MIN_SPREAD_BATCHES) {
        const x = Math.max(1, this.spreadLongest[si]! / this.spreadMean[si]!);
        observedSpread[name] = prev === undefined ? x : 0.5 * x + 0.5 * prev;
      } else if (prev !== undefined) observedSpread[name] = prev;
    }
    return observedSpread;
  }

  /** The window's figures (as a replan read them) become the history; a new window starts at `nowMs`. */
  roll(observed: { observedRps?: Record<string, number>; observedSpread?: Record<string, number> }, nowMs: number): void {
    for (const [k, v] of Object.entries(observed.observedRps ?? {})) this.smoothedRps.set(k, v);
    for (const [k, v] of Object.entries(observed.observedSpread ?? {})) this.smoothedSpread.set(k, v);
    this.spreadBatches.fill(0);
    this.spreadLongest.fill(0);
    this.spreadMean.fill(0);
    this.arrivals.fill(0);
    this.startMs = nowMs;
  }
}
