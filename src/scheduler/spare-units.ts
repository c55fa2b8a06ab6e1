/**
 * Idle devices serve the worst-covered service (the planner's last pass, coverage first).
 *
 * The greedy (placement.ts) stops once every service has its demand × burstFactor × headroom: the
 * rest of the fleet is left idle, since min(supply, demand) values nothing beyond that. But a
 * latency service's attainment is not set by its rate alone: a request-level unit runs one batch
 * at a time, and a request that arrives while the service's few units are each busy with a long
 * request waits for them (head-of-line blocking by the size tail). Decision trace (conv trace,
 * `mixed`, 1,167–2,334 s window, seed 1, ×0.125, 60 s): EPARA's plan gave chat-13b ONE pipeline
 * (0.65 req/s planned for 0.08 offered) on a fleet 95% idle; a 0.1×-mean request waited at stage 1
 * behind a long batch and missed its deadline by 0.5 s, so chat-13b held 13 of 14 (92.9%) and
 * failed 99%, where round-robin, with four chat-13b pipelines on the same fleet, served 14 of 14.
 * Idle time is free: giving it to the services, most under-covered first (max-min of supply over
 * demand), makes more units available to every burst and every long request, and takes nothing
 * from any service (only devices with no unit at all are used, so no unit is slowed by sharing).
 * Nothing here is sized from a trace: it spends exactly the time the rest of the plan left idle.
 * Pure: no I/O.
 */
import type { DeviceState, ServiceSpec } from './types.js';

export interface SpareSearch {
  /** Services with demand, in a fixed order (ties in coverage go to the earlier one). */
  services: readonly ServiceSpec[];
  /** The alive devices, in a fixed order. */
  devices: readonly DeviceState[];
  /** Devices of one class are interchangeable (same memory, same estimates). */
  classOf: (d: DeviceState) => string;
  /** Whether a device has no unit placed yet. */
  isIdle: (d: DeviceState) => boolean;
  /** Supply placed over demand for a service (lower = worse covered). */
  coverage: (s: ServiceSpec) => number;
  /** A whole replica of `s` on `d`: its value per cost (higher first), or null when `d` cannot hold one. */
  replicaValue: (s: ServiceSpec, d: DeviceState) => number | null;
  /** Model-parallel services no single device holds: candidate groups of the idle devices given. */
  groupsOf: (s: ServiceSpec, idle: DeviceState[]) => DeviceState[][] | null;
  /** Place a unit of `s` on `devices` (all of their free time); false when it does not fit after all. */
  place: (s: ServiceSpec, devices: DeviceState[]) => boolean;
}

/**
 * Repeatedly gives one idle device (or group, for model-parallel services) to the service with the
 * lowest coverage, until no service can take one. Returns the number of units placed. Idle devices
 * are kept per class, so a search costs one pass over the fleet plus one step per unit placed.
 */
export function spreadSpareUnits(o: SpareSearch): number {
  const idleByClass = new Map<string, DeviceState[]>();
  for (const d of o.devices) {
    if (!o.isIdle(d)) continue;
    const ck = o.classOf(d);
    let l = idleByClass.get(ck);
    if (!l) idleByClass.set(ck, (l = []));
    l.push(d);
  }
  const cursor = new Map<string, number>();
  const firstIdle = (ck: string): DeviceState | undefined => {
    const l = idleByClass.get(ck)!;
    let i = cursor.get(ck) ?? 0;
    while (i < l.length && !o.isIdle(l[i]!)) i++;
    cursor.set(ck, i);
    return l[i];
  };
  // Per service, the classes that can hold a replica, best value first (dropped when one fails).
  const classOrder = new Map<ServiceSpec, string[]>();
  const orderOf = (s: ServiceSpec): string[] => {
    let order = classOrder.get(s);
    if (!order) {
      const rated: [string, number][] = [];
      for (const [ck, l] of idleByClass) {
        const v = o.replicaValue(s, l[0]!);
        if (v !== null) rated.push([ck, v]);
      }
      rated.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      classOrder.set(s, (order = rated.map((x) => x[0])));
    }
    return order;
  };
  // The idle devices in order, filtered again only after a unit was placed (a refused place
  // changes nothing); idleness only ends, so filtering the last list gives what the fleet would.
  let idle: DeviceState[] | undefined;
  let placedSince = false;
  const idleNow = (): DeviceState[] => {
    if (!idle) idle = o.devices.filter(o.isIdle);
    else if (placedSince) idle = idle.filter(o.isIdle);
    placedSince = false;
    return idle;
  };
  const place = (s: ServiceSpec, devices: DeviceState[]): boolean => {
    if (!o.place(s, devices)) return false;
    placedSince = true;
    return true;
  };
  const tryOne = (s: ServiceSpec): boolean => {
    const groups = o.groupsOf(s, idleNow());
    if (groups) return groups.some((g) => place(s, g));
    const order = orderOf(s);
    for (let k = 0; k < order.length; k++) {
      const d = firstIdle(order[k]!);
      if (!d) continue;
      if (place(s, [d])) return true;
      // This class cannot take s after all (its time or its load): later calls skip it.
      order.splice(k--, 1);
    }
    return false;
  };
  const open = [...o.services];
  let placed = 0;
  while (open.length > 0) {
    let worst = 0;
    for (let i = 1; i < open.length; i++) if (o.coverage(open[i]!) < o.coverage(open[worst]!)) worst = i;
    if (tryOne(open[worst]!)) placed++;
    else open.splice(worst, 1);
  }
  return placed;
}
