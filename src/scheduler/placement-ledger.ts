/**
 * The books of one placement round (placement.ts): what each device has left (memory, time, the
 * units on it) and what each service is owed (demand, residual, supply), changed only by
 * accepting a unit or widening one, so the planner's checks and its bookkeeping cannot disagree.
 * Pure: no I/O, no clock.
 */
import { frameShareCap, sharedCapacity } from './allocator.js';
import { sensitivityOf } from './categories.js';
import { demandOf, type ObjectiveOptions } from './objective.js';
import type { Assignment, ClusterState, DeviceState, Estimator, ServiceSpec } from './types.js';

export const EPS = 1e-9;

export class PlacementLedger {
  /** The units accepted so far, in acceptance order (the placement's assignments). */
  readonly chosen: Assignment[] = [];
  private readonly chosenKeys = new Set<string>();
  /** `service@device` for every device serving a service (alone or as a stage). */
  private readonly hostedPairs = new Set<string>();
  private readonly freeMem = new Map<string, number>();
  private readonly usedTime = new Map<string, number>();
  private readonly unitsOn = new Map<string, number>();
  private readonly sharingOf = new Map<string, { streams: number; slowdown: number } | undefined>();
  // Time a unit may still take on a device: `freeAdd` for a new unit there, `freeGrow` for growing
  // one already there. Kept up to date on every change (refresh) so the hot loops do one lookup.
  private readonly freeAdd = new Map<string, number>();
  private readonly freeGrow = new Map<string, number>();
  private cap = 1;
  private readonly demand = new Map<string, number>();
  private readonly residual = new Map<string, number>();
  private readonly supplied = new Map<string, number>();
  /**
   * While set, supply beyond a service's demand (the headroom) is not on offer: every service is
   * covered to its demand, across both greedy stages, before any gets headroom or keeps spare warm
   * units. Without it the scarce stage gave chat-13b pipelines twice (and kept units five times)
   * its demand on every GPU server, and chat-7b — not "scarce" once Jetsons could serve it — got
   * only Jetsons and starved (docs/scheduling.md §7).
   */
  reserveHeadroom = false;

  constructor(
    private readonly state: ClusterState,
    private readonly specs: ReadonlyMap<string, ServiceSpec>,
    private readonly byId: ReadonlyMap<string, DeviceState>,
    est: Estimator,
    private readonly obj: ObjectiveOptions,
  ) {
    for (const d of state.devices) {
      this.freeMem.set(d.id, d.alive ? d.memoryMiB : 0);
      this.usedTime.set(d.id, 0);
      this.unitsOn.set(d.id, 0);
      this.sharingOf.set(d.id, est.sharing?.(d));
    }
    this.setCap(1);
    for (const s of specs.values()) {
      // A latency service must keep up with its bursts on the scale of its deadline, not only with its mean rate.
      const d = demandOf(s, state) * (sensitivityOf(s.category) === 'latency' ? (s.burstFactor ?? 1) : 1);
      this.demand.set(s.name, d);
      this.residual.set(s.name, d * obj.headroom);
      this.supplied.set(s.name, 0);
    }
  }

  /**
   * The share of its time each device may be filled to. A device's time is counted in units of one
   * service running alone: services sharing a GPU run concurrently (allocator.ts sharedCapacity),
   * so a device hosting k units offers more than 1.
   */
  setCap(c: number): void {
    this.cap = c;
    for (const d of this.state.devices) this.refresh(d);
  }

  private refresh(d: DeviceState): void {
    const used = this.usedTime.get(d.id)!;
    const k = this.unitsOn.get(d.id)!;
    const sh = this.sharingOf.get(d.id);
    this.freeAdd.set(d.id, d.alive ? Math.max(0, this.cap * sharedCapacity(k + 1, sh) - used) : 0);
    this.freeGrow.set(d.id, d.alive ? Math.max(0, this.cap * sharedCapacity(k, sh) - used) : 0);
  }

  /** Time a unit may still take on device `id`: a new one (`adding`) or one growing in place. */
  freeOf(id: string, adding: boolean): number {
    return (adding ? this.freeAdd : this.freeGrow).get(id) ?? 0;
  }

  freeMemOf(id: string): number {
    return this.freeMem.get(id)!;
  }

  usedTimeOf(id: string): number {
    return this.usedTime.get(id)!;
  }

  demandOf(service: string): number {
    return this.demand.get(service)!;
  }

  suppliedOf(service: string): number {
    return this.supplied.get(service)!;
  }

  residualOf(service: string): number {
    return this.residual.get(service)!;
  }

  /** Supply a service may still get: its residual, less the headroom while that is reserved. */
  open(service: string): number {
    return this.residual.get(service)! - (this.reserveHeadroom ? (this.obj.headroom - 1) * this.demand.get(service)! : 0);
  }

  /** Whether a service is short of its demand. */
  isShort(service: string): boolean {
    return this.supplied.get(service)! < this.demand.get(service)! - EPS;
  }

  /** Whether any service is short of its demand. */
  anyShort(): boolean {
    for (const s of this.specs.values()) if (this.isShort(s.name)) return true;
    return false;
  }

  isChosen(key: string): boolean {
    return this.chosenKeys.has(key);
  }

  /** Whether device `id` already serves `service` (one unit of a service per device). */
  hosts(service: string, id: string): boolean {
    return this.hostedPairs.has(`${service}@${id}`);
  }

  /** Takes `unit` (candidate `key` of `service`) into the plan: its devices' memory and time, its service's supply. */
  accept(key: string, service: ServiceSpec, unit: Assignment): void {
    this.chosen.push(unit);
    this.chosenKeys.add(key);
    this.residual.set(service.name, this.residual.get(service.name)! - unit.rateRps);
    this.supplied.set(service.name, this.supplied.get(service.name)! + unit.rateRps);
    unit.devices.forEach((id, i) => {
      this.hostedPairs.add(`${service.name}@${id}`);
      this.freeMem.set(id, this.freeMem.get(id)! - service.memoryMiB * unit.stageFractions[i]!);
      this.usedTime.set(id, this.usedTime.get(id)! + unit.share);
      this.unitsOn.set(id, this.unitsOn.get(id)! + 1);
      this.refresh(this.byId.get(id)!);
    });
  }

  /**
   * Give chosen units more of their devices' free time, densest first, up to their service's demand
   * (`baseOnly`) or demand plus headroom. Kept units start from their old share; this lets them grow
   * in place instead of the plan adding a unit elsewhere.
   */
  widen(baseOnly: boolean): void {
    const byDensity = [...this.chosen].filter((u) => u.share > EPS).sort((x, y) => y.rateRps / y.share - x.rateRps / x.share);
    for (const u of byDensity) {
      const need = baseOnly ? this.demand.get(u.service)! - this.supplied.get(u.service)! : this.open(u.service);
      if (need <= EPS) continue;
      const full = u.rateRps / u.share;
      const add = Math.min(...u.devices.map((id) => this.freeOf(id, false)), need / full, frameShareCap(this.specs.get(u.service)!, u.latencyMs) - u.share, 1 - u.share);
      if (add <= EPS) continue;
      u.share += add;
      u.rateRps += add * full;
      this.residual.set(u.service, this.residual.get(u.service)! - add * full);
      this.supplied.set(u.service, this.supplied.get(u.service)! + add * full);
      for (const id of u.devices) {
        this.usedTime.set(id, this.usedTime.get(id)! + add);
        this.refresh(this.byId.get(id)!);
      }
    }
  }
}
