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
    const wait = Math.max(0, e.viewBacklogMs[si]! + e.sentMs[si]! - (now - e.viewAt));
    return now + hopMs(this.from!, e, this.links) + wait + unitLatency(u, r.sizeFactor) + hopMs(u.devices[u.devices.length - 1]!, r.ingress, this.links);
  }
}
