/**
 * What turns one placement into the next on the devices (placement.ts plans, the server and the
 * simulator apply). Pure.
 */
import { sameShare } from './allocator.js';
import type { DeviceState, Placement, PlacementAction, ServiceSpec } from './types.js';

/**
 * Device-level actions that turn `before` into `after`: deploy+load what is new (and a stage whose
 * share of the model changed: a re-split pipeline needs a new shard), unload what went, configure
 * what changed.
 */
export function diffPlacement(before: Placement, after: Placement, specs: Map<string, ServiceSpec>, byId: Map<string, DeviceState>): PlacementAction[] {
  type Slot = { batch: number; stage: number; degree: number; fraction: number };
  const index = (p: Placement): Map<string, Slot> => {
    const m = new Map<string, Slot>();
    for (const u of p.assignments) u.devices.forEach((id, i) => m.set(`${u.service}\u0000${id}`, { batch: u.batch, stage: i, degree: u.devices.length, fraction: u.stageFractions[i] ?? 1 }));
    return m;
  };
  const replicas = new Map<string, number>();
  for (const u of after.assignments) replicas.set(u.service, (replicas.get(u.service) ?? 0) + 1);
  const a = index(before);
  const b = index(after);
  const actions: PlacementAction[] = [];
  const settings = (service: string, s: Slot) => ({ batch: s.batch, replicas: replicas.get(service) ?? 0, parallelDegree: s.degree, stage: s.stage, maxQueue: Math.max(4, s.batch * 4) });
  for (const [k, s] of [...b].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const [service, device] = k.split('\u0000') as [string, string];
    const old = a.get(k);
    const version = specs.get(service)?.version;
    if (!old) {
      const dev = byId.get(device);
      if (dev && dev.artifacts && !dev.artifacts.includes(service)) actions.push({ device, action: 'deploy', service, version });
      actions.push({ device, action: 'load', service, version, settings: settings(service, s) });
    } else if (!sameShare(old.fraction, s.fraction)) {
      actions.push({ device, action: 'load', service, version, settings: settings(service, s) });
    } else if (old.batch !== s.batch || old.stage !== s.stage || old.degree !== s.degree) {
      actions.push({ device, action: 'configure', service, version, settings: settings(service, s) });
    }
  }
  for (const k of [...a.keys()].sort()) {
    if (b.has(k)) continue;
    const [service, device] = k.split('\u0000') as [string, string];
    actions.push({ device, action: 'unload', service });
  }
  return actions;
}
