/**
 * The simulated fleet: its devices, built from the run's config with one request handler each,
 * and a placement put on them.
 */
import { sameShare } from '../scheduler/allocator.js';
import { RequestHandler, slotKey, type RequestHandlerOptions } from '../scheduler/request-handler.js';
import type { Assignment, DeviceClass, LinkSpec, Placement, ServiceSpec } from '../scheduler/types.js';
import { serviceTimeMs, type DeviceProfile } from './device-profiles.js';
import { newDevice, unitCoefficients, type Dev, type Unit } from './sim-entities.js';
import type { SimConfig } from './sim-config.js';

export interface SimFleet {
  devs: readonly Dev[];
  byId: ReadonlyMap<string, Dev>;
  specs: ReadonlyMap<string, ServiceSpec>;
  svcIndex: ReadonlyMap<string, number>;
  links: LinkSpec;
}

/** The devices of `cfg`, each with the policy's request handler on the simulation's clock. */
export function buildFleet(cfg: SimConfig, profiles: Readonly<Record<DeviceClass, DeviceProfile>>, clock: () => number, specs: ReadonlyMap<string, ServiceSpec>, svcIndex: ReadonlyMap<string, number>): SimFleet {
  const nSvc = svcIndex.size;
  const policy = cfg.policy;
  // One clock and one service-time function per device class, shared by every handler: a closure
  // per device made these call sites megamorphic on big fleets (thousands of distinct targets).
  const timeOf = new Map<DeviceProfile, RequestHandlerOptions['serviceTimeMs']>();
  const zoneIndex = new Map<string, number>();
  const devs = cfg.devices.map((d, idx) => {
    const profile = profiles[d.deviceClass];
    let time = timeOf.get(profile);
    if (!time) timeOf.set(profile, (time = (s, b, f, size) => serviceTimeMs(profile, s, b, f, size)));
    if (!zoneIndex.has(d.zone)) zoneIndex.set(d.zone, zoneIndex.size);
    const dev = newDevice(idx, d, zoneIndex.get(d.zone)!, profile, nSvc);
    dev.handler = new RequestHandler({
      clock,
      serviceTimeMs: time,
      admission: policy.handler.admission,
      dropLate: policy.handler.dropLate,
      adaptiveBatch: policy.handler.adaptiveBatch,
      credits: policy.handler.credits ? {} : false,
      order: policy.handler.order ?? 'edf',
      sizeAwareBatch: policy.handler.sizeAwareBatch ?? false,
      continuousBatching: cfg.llmBatching === 'continuous',
    });
    return dev;
  });
  const byId = new Map(devs.map((d) => [d.spec.id, d]));
  const rankOfId = new Map([...byId.keys()].sort().map((id, rank) => [id, rank]));
  for (const d of devs) d.order = rankOfId.get(d.spec.id)!;
  return { devs, byId, specs, svcIndex, links: cfg.links };
}

/**
 * Placement `p` put on the fleet: the units it makes (with their latency coefficients), and every
 * alive device's hostings brought to it: what went is unloaded, what is new is loaded (counted as
 * churn after the initial placement, which starts loaded), a re-split pipeline's changed shard is
 * loaded again; a batch change is only a setting.
 */
export function placeOnFleet(p: Placement, fleet: SimFleet, churn: { loads: number; unloads: number }, initial: boolean): Unit[] {
  const { devs, byId, specs, svcIndex } = fleet;
  const want = new Map<Dev, Map<string, { a: Assignment; stage: number }>>();
  const newUnits: Unit[] = [];
  for (const a of p.assignments) {
    const s = specs.get(a.service);
    const ds = a.devices.map((id) => byId.get(id));
    if (!s || ds.some((d) => !d || !d.alive)) continue;
    const unit: Unit = { service: s, si: svcIndex.get(s.name)!, devices: ds as Dev[], fractions: a.stageFractions, batch: Math.max(1, a.batch), ready: false, fixedMs: 0, perSizeMs: 0, busyUntilMs: 0 };
    unitCoefficients(unit, fleet.links);
    newUnits.push(unit);
    (ds as Dev[]).forEach((d, i) => {
      const m = want.get(d) ?? new Map();
      m.set(slotKey(s.name, i), { a, stage: i });
      want.set(d, m);
    });
  }
  for (const d of devs) {
    if (!d.alive) continue;
    const m = want.get(d) ?? new Map<string, { a: Assignment; stage: number }>();
    let changed = false;
    for (const k of [...d.hosting.keys()]) {
      if (!m.has(k)) {
        d.hosting.delete(k);
        d.pendingLoads = d.pendingLoads.filter((x) => x !== k);
        if (!initial) churn.unloads++;
        changed = true;
      }
    }
    for (const [k, { a, stage }] of m) {
      const h = d.hosting.get(k);
      if (h) {
        h.batch = Math.max(1, a.batch);
        const fraction = a.stageFractions[stage]!;
        // A re-split pipeline needs a new shard on this device: a load like any other (the stage
        // serves nothing until it is in). A batch change is only a runtime setting.
        if (h.loaded && !initial && !sameShare(fraction, h.fraction)) {
          h.loaded = false;
          d.pendingLoads.push(k);
          churn.loads++;
          changed = true;
        }
        h.fraction = fraction;
        continue;
      }
      d.hosting.set(k, { service: specs.get(a.service)!, si: svcIndex.get(a.service)!, stage, fraction: a.stageFractions[stage]!, batch: Math.max(1, a.batch), loaded: initial });
      if (!initial) {
        d.pendingLoads.push(k);
        churn.loads++;
      }
      changed = true;
    }
    if (changed || initial) {
      d.state.services = {};
      for (const h of d.hosting.values()) d.state.services[h.service.name] = { status: h.loaded ? 'ready' : 'loading', queueLen: 0, violationRate: d.violation[h.si]! };
    }
  }
  return newUnits;
}
