/**
 * The baselines' own placements (each baseline is a whole system: its placement AND its dispatch).
 *
 *  - randomPlacement: demand-unaware. Round after round, every service (in a freshly shuffled order)
 *    gets one more unit on a uniformly random feasible device (memory, GPU, SLO at batch 1); a
 *    service that fits no single device gets a group of randomly drawn eligible devices until their
 *    free memory holds the model. Until nothing more fits anywhere.
 *  - roundRobinPlacement: demand-unaware. Services in declaration order take turns; each takes the
 *    next feasible device after a cursor that walks the fleet cyclically (device order of the
 *    cluster), so replicas spread evenly; a multi-device service takes the next consecutive eligible
 *    devices. Until nothing more fits.
 *  - localPlacement (local-only): every device, on its own, loads the single-device services it can
 *    serve within SLO, most demanded first, while its memory lasts. No device groups (a model that
 *    fits no device cannot be served without forwarding between devices).
 *  - the static demand-proportional placement of least-outstanding / power-of-two / least-violation
 *    is selective-replication.ts run once from the declared demand.
 *
 * "Feasible" is the same test for every policy (allocator.ts planReplica / planGroup), so no
 * baseline is given a unit that could never meet its SLO, and each unit's batch is the largest
 * SLO-feasible batch for its device.
 */
import { DEFAULT_ALLOCATOR, needsGpu, planGroup, planReplica } from '../allocator.js';
import { gpuNeedOf } from '../categories.js';
import { demandOf } from '../objective.js';
import type { Assignment, ClusterState, DeviceState, Estimator, Placement, ServiceSpec } from '../types.js';
import type { PlacementContext } from './policy.js';

interface Fill {
  free: Map<string, number>;
  hosted: Set<string>;
  out: Assignment[];
}

function newFill(state: ClusterState): Fill {
  return { free: new Map(state.devices.map((d) => [d.id, d.alive ? d.memoryMiB : 0])), hosted: new Set(), out: [] };
}

function commit(f: Fill, s: ServiceSpec, a: Assignment): void {
  f.out.push(a);
  a.devices.forEach((id, i) => {
    f.hosted.add(`${s.name}@${id}`);
    f.free.set(id, f.free.get(id)! - s.memoryMiB * a.stageFractions[i]!);
  });
}

/** Devices that could hold a stage of `s` (alive, not hosting it, free memory, right hardware). */
function eligible(est: Estimator, f: Fill, devices: DeviceState[], s: ServiceSpec): DeviceState[] {
  return devices.filter((d) => d.alive && !f.hosted.has(`${s.name}@${d.id}`) && f.free.get(d.id)! > 0 && (!needsGpu(s) || d.gpuCount >= 1) && Number.isFinite(est.serviceTimeMs(d, s, 1, 1)));
}

/** Take devices from `order` until their free memory holds the model (at most maxStages), then plan the group. */
function groupFrom(est: Estimator, f: Fill, order: DeviceState[], s: ServiceSpec, state: ClusterState): Assignment | null {
  const g: DeviceState[] = [];
  let mem = 0;
  for (const d of order) {
    if (g.length >= DEFAULT_ALLOCATOR.maxStages) break;
    g.push(d);
    mem += f.free.get(d.id)!;
    if (mem >= s.memoryMiB) break;
  }
  if (g.length < 2 || mem < s.memoryMiB) return null;
  return planGroup(est, g, s, (d) => f.free.get(d.id)!, 1, state.links);
}

function shuffle<T>(a: T[], random: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Deterministic fallback when no random source is given (the simulator always passes one). */
function fallbackRandom(): () => number {
  let x = 0x2545f491;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function randomPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, est: Estimator, ctx?: PlacementContext): Placement {
  const random = ctx?.random ?? fallbackRandom();
  const f = newFill(state);
  const active = new Set(services.map((s) => s.name));
  while (active.size > 0) {
    for (const s of shuffle(services.filter((x) => active.has(x.name)), random)) {
      const cands = eligible(est, f, state.devices, s);
      let unit: Assignment | null = null;
      // Uniformly random among the devices that can hold a whole replica.
      const singles = cands.map((d) => planReplica(est, d, s, f.free.get(d.id)!, 1)).filter((a): a is Assignment => a !== null);
      if (singles.length > 0) unit = singles[Math.floor(random() * singles.length)]!;
      else if (gpuNeedOf(s.category) === 'multi') {
        for (let tries = 0; tries < 8 && !unit; tries++) unit = groupFrom(est, f, shuffle([...cands], random), s, state);
      }
      if (unit) commit(f, s, unit);
      else active.delete(s.name);
    }
  }
  return { version: current.version + 1, assignments: f.out };
}

export function roundRobinPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, est: Estimator): Placement {
  const f = newFill(state);
  const devs = state.devices;
  const n = devs.length;
  let cursor = 0;
  const active = new Set(services.map((s) => s.name));
  while (active.size > 0) {
    for (const s of services) {
      if (!active.has(s.name)) continue;
      let unit: Assignment | null = null;
      let at = -1;
      for (let k = 0; k < n && !unit; k++) {
        const d = devs[(cursor + k) % n]!;
        if (!d.alive || f.hosted.has(`${s.name}@${d.id}`)) continue;
        unit = planReplica(est, d, s, f.free.get(d.id)!, 1);
        if (unit) at = (cursor + k) % n;
      }
      if (!unit && gpuNeedOf(s.category) === 'multi') {
        // The next consecutive eligible devices from the cursor (walking the fleet in its order).
        const rotated = [...devs.slice(cursor), ...devs.slice(0, cursor)];
        const cands = eligible(est, f, rotated, s);
        for (let k = 0; k < cands.length && !unit; k++) {
          unit = groupFrom(est, f, cands.slice(k), s, state);
          if (unit) at = devs.findIndex((d) => d.id === unit!.devices[unit!.devices.length - 1]);
        }
      }
      if (unit) {
        commit(f, s, unit);
        cursor = (at + 1) % n;
      } else active.delete(s.name);
    }
  }
  return { version: current.version + 1, assignments: f.out };
}

export function localPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, est: Estimator): Placement {
  const f = newFill(state);
  const order = [...services].filter((s) => gpuNeedOf(s.category) === 'single').sort((a, b) => demandOf(b, state) - demandOf(a, state) || (a.name < b.name ? -1 : 1));
  for (const d of state.devices) {
    if (!d.alive) continue;
    for (const s of order) {
      const a = planReplica(est, d, s, f.free.get(d.id)!, 1);
      if (a) commit(f, s, a);
    }
  }
  return { version: current.version + 1, assignments: f.out };
}
