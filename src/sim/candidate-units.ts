/**
 * The router's view of the units a request may go to (a ReplicaSet read by index): refilled for
 * each request the simulator routes, so no object is built per request. Entry devices' STATE
 * views give the wait; the unit's latency coefficients and the hops give the rest.
 */
import type { ReplicaSet } from '../scheduler/baselines/policy.js';
import type { LinkSpec } from '../scheduler/types.js';
import { hopMs, unitLatency, type Dev, type Req, type Unit } from './sim-entities.js';

export class CandidateUnits implements ReplicaSet {
  private units: Unit[] = [];
  private req: Req | null = null;
  private from: Dev | null = null;
  private nowMs = 0;

  constructor(private readonly links: LinkSpec) {}

  /** The candidates of request `req`, routed from `from` at `nowMs`. */
  fill(units: Unit[], req: Req, from: Dev, nowMs: number): void {
    this.units = units;
    this.req = req;
    this.from = from;
    this.nowMs = nowMs;
  }

  get length(): number {
    return this.units.length;
  }

  device(i: number): string {
    return this.units[i]!.devices[0]!.spec.id;
  }

  outstanding(i: number): number {
    return this.units[i]!.devices[0]!.outstanding[this.req!.si]!;
  }

  violationRate(i: number): number {
    return this.units[i]!.devices[0]!.violation[this.req!.si]!;
  }

  deviceOrder(i: number): number {
    return this.units[i]!.devices[0]!.order;
  }

  predictedFinishMs(i: number): number {
    const u = this.units[i]!;
    const e = u.devices[0]!;
    const r = this.req!;
    const si = r.si;
    const now = this.nowMs;
    let wait = Math.max(0, e.viewBacklogMs[si]! + e.sentMs[si]! - (now - e.viewAt));
    const own = unitLatency(u, r.sizeFactor);
    const n = u.devices.length;
    if (n > 1) {
      // A pipeline is as free as its busiest stage: a request that clears stage 0 at once still
      // waits behind a long batch at a later one. Decision trace (conv trace, mixed, 1,167–2,334 s,
      // seed 1, ×0.125 and ×0.5): with only stage 0 in view, 0.1×-mean chat-13b requests went to the
      // pipeline whose stage 1 or 2 was running a long batch, beside idle pipelines, and missed
      // their deadlines there (5 of 45 at ×0.5). The later stages' last STATE counts, and so does
      // what this router sent the unit that is still upstream of them (busyUntilMs): the request
      // cannot leave the last stage before those do, plus its own last-stage time.
      for (let k = 1; k < n; k++) {
        const d = u.devices[k]!;
        wait = Math.max(wait, d.viewBacklogMs[si]! - (now - d.viewAt));
      }
      const exit = hopMs(u.devices[n - 1]!, r.ingress, this.links);
      const viaView = now + hopMs(this.from!, e, this.links) + wait + own + exit;
      // Frames (frequency services) are uniform and batch together: only latency requests, whose sizes vary, queue this way.
      return r.category === 'latency-multi' || r.category === 'latency-single' ? Math.max(viaView, u.busyUntilMs + own / n + exit) : viaView;
    }
    return now + hopMs(this.from!, e, this.links) + wait + own + hopMs(u.devices[n - 1]!, r.ingress, this.links);
  }
}
