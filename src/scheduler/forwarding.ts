/**
 * The forwarding decision of a serving point: among the devices that host a service, pick the one
 * with the earliest predicted finish (its backlog from the last STATE plus what was sent since, and
 * its own service time), preferring devices that report fewer SLO violations on a near tie.
 */

/** Replicas of one service as a router sees them, by index (no per-request allocation on big fleets). */
export interface ReplicaSet {
  readonly length: number;
  device(i: number): string;
  /** Requests this router sent there and has not seen finish (what a real router can count). */
  outstanding(i: number): number;
  /** Predicted absolute finish of this request there, ms (last STATE + what was sent since + own time). */
  predictedFinishMs(i: number): number;
  /** Smoothed SLO-violation rate from the last STATE, 0..1. */
  violationRate(i: number): number;
  /**
   * Optional: a number that orders the replicas' devices as their ids do (`<` on the strings), for
   * the last tie-break without comparing id strings. Near ties are the common case on an idle
   * fleet, so on big fleets the string comparisons were most of the router's time.
   */
  deviceOrder?(i: number): number;
}

export interface ReplicaView {
  device: string;
  predictedFinishMs: number;
  outstanding?: number;
  violationRate?: number;
}

/** A ReplicaSet over plain objects (for the server adapter and tests). */
export function replicaSet(views: readonly ReplicaView[]): ReplicaSet {
  return {
    length: views.length,
    device: (i) => views[i]!.device,
    outstanding: (i) => views[i]!.outstanding ?? 0,
    predictedFinishMs: (i) => views[i]!.predictedFinishMs,
    violationRate: (i) => views[i]!.violationRate ?? 0,
  };
}

export interface ForwardDecision {
  index: number;
  device: string;
  predictedFinishMs: number;
  meetsDeadline: boolean;
}

export function chooseTarget(set: ReplicaSet | readonly ReplicaView[], deadlineMs: number, tieMs = 1): ForwardDecision | null {
  const s: ReplicaSet = Array.isArray(set) ? replicaSet(set as readonly ReplicaView[]) : (set as ReplicaSet);
  const ordered = s.deviceOrder !== undefined;
  let best = -1;
  let bestT = Infinity;
  let bestV = 0;
  for (let i = 0; i < s.length; i++) {
    const t = s.predictedFinishMs(i);
    if (!Number.isFinite(t)) continue;
    if (best < 0 || t < bestT - tieMs) {
      best = i;
      bestT = t;
      bestV = s.violationRate(i);
      continue;
    }
    if (Math.abs(t - bestT) <= tieMs) {
      const v = s.violationRate(i);
      if (v < bestV || (v === bestV && (ordered ? s.deviceOrder!(i) < s.deviceOrder!(best) : s.device(i) < s.device(best)))) {
        best = i;
        bestT = t;
        bestV = v;
      }
    }
  }
  return best < 0 ? null : { index: best, device: s.device(best), predictedFinishMs: bestT, meetsDeadline: bestT <= deadlineMs };
}
