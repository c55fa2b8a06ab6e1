/**
 * A greedy replication baseline in the style of AlpaServe's "Selective Replication" (greedy variant):
 * repeatedly take the service with the lowest burst tolerance (supply ÷ demand) and give it one
 * more unit on the device with the most free memory that can serve it within its SLO (a pipeline
 * group when the model fits no single device), until nothing more fits. Computed from the
 * demand the cluster state carries (observed, else declared). Not AlpaServe's auto-parallel search.
 * alpaserve-sr re-runs it every period; `staticDemandPlacement` is the same greedy run once at
 * start from the declared demand — the static, demand-proportional placement the dispatch-policy
 * baselines (least-outstanding, power-of-two, least-violation) run on.
 */
import { DEFAULT_ALLOCATOR, formGroups, planGroup, planReplica } from '../allocator.js';
import { gpuNeedOf } from '../categories.js';
import { demandOf } from '../objective.js';
import type { Assignment, ClusterState, Estimator, Placement, ServiceSpec } from '../types.js';

export function selectiveReplicationPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, est: Estimator): Placement {
  const free = new Map(state.devices.map((d) => [d.id, d.alive ? d.memoryMiB : 0]));
  const supply = new Map(services.map((s) => [s.name, 0]));
  const hosted = new Set<string>();
  const out: Assignment[] = [];
  const active = new Set(services.filter((s) => demandOf(s, state) > 0).map((s) => s.name));
  while (active.size > 0) {
    let pick: ServiceSpec | null = null;
    let tol = Infinity;
    for (const s of services) {
      if (!active.has(s.name)) continue;
      const t = supply.get(s.name)! / demandOf(s, state);
      if (t < tol) {
        tol = t;
        pick = s;
      }
    }
    if (!pick) break;
    const s = pick;
    let unit: Assignment | null = null;
    let bestFree = -1;
    for (const d of state.devices) {
      if (hosted.has(`${s.name}@${d.id}`)) continue;
      const f = free.get(d.id)!;
      if (f <= bestFree) continue;
      const a = planReplica(est, d, s, f, 1);
      if (a) {
        unit = a;
        bestFree = f;
      }
    }
    if (!unit && gpuNeedOf(s.category) === 'multi') {
      // Like AlpaServe's enumeration of device groups: the first candidate group that meets the SLO.
      for (const g of formGroups(est, state.devices.filter((d) => !hosted.has(`${s.name}@${d.id}`)), s, (d) => free.get(d.id)!, state.links, DEFAULT_ALLOCATOR, 16)) {
        unit = planGroup(est, g, s, (d) => free.get(d.id)!, 1, state.links);
        if (unit) break;
      }
    }
    if (!unit) {
      active.delete(s.name);
      continue;
    }
    out.push(unit);
    supply.set(s.name, supply.get(s.name)! + unit.rateRps);
    unit.devices.forEach((id, i) => {
      hosted.add(`${s.name}@${id}`);
      free.set(id, free.get(id)! - s.memoryMiB * unit!.stageFractions[i]!);
    });
  }
  return { version: current.version + 1, assignments: out };
}


/** Selective replication computed once from the declared demand (demand-proportional, static). */
export function staticDemandPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, est: Estimator): Placement {
  return selectiveReplicationPlacement({ ...state, observedRps: undefined }, services, current, est);
}
