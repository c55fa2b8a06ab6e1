/**
 * State-aware submodular placement (EPARA's periodic scheduler, after the author's SFP algorithm).
 *
 * Stage 1 re-adds the units of the current placement that still have a positive gain (no load
 * cost: they are warm; a pipeline may instead be re-split, charged the load of its changed
 * shards, when that gains more — see Candidate.loadedSplit), stage 2 greedily adds new
 * (service, device) replicas and (service, group) pipelines by largest marginal gain per cost
 * (objective.ts, costOf) until nothing improves — first for the services only a small part of
 * the fleet can run, then for the rest — and a last pass keeps current units that are idle but
 * still fit as warm spares (so a dip in demand does not cause an unload now and a reload a minute
 * later). Infeasible candidates (memory, GPU count, compute/SLO) are skipped. The greedy is lazy:
 * candidates sit in a max-heap keyed by a stale gain; gains only shrink as units are added
 * (submodularity), so when a popped candidate's fresh gain still beats the next stale key it is
 * the true best and is taken without evaluating the rest. Pure: no I/O, no clock, same input → same output.
 * The round's books (each device's free memory and time, each service's demand and supply, the
 * units chosen) are a PlacementLedger (placement-ledger.ts); diffPlacement is in placement-diff.ts.
 */
import { DEFAULT_ALLOCATOR, formGroups, frameShareCap, planGroup, planReplica, sameShare, type AllocatorOptions } from './allocator.js';
import { gpuNeedOf, validateServices } from './categories.js';
import { schedError } from './errors.js';
import { Heap } from './heap.js';
import { EPS, PlacementLedger } from './placement-ledger.js';
import { diffPlacement } from './placement-diff.js';
import { cohortEntry, takeNext, type CohortMember } from './candidate-cohort.js';
import { costOf, sameSplit, unitKey, type Candidate } from './placement-candidate.js';
import { spreadSpareUnits } from './spare-units.js';
import { DEFAULT_OBJECTIVE, demandOf, marginalGain, memoryFractionOf, servedValue, violationOf, type ObjectiveOptions } from './objective.js';
import type { Assignment, ClusterState, DeviceState, Estimator, Placement, PlacementResult, ServiceSpec } from './types.js';

export interface PlanOptions {
  estimator: Estimator;
  objective?: Partial<ObjectiveOptions>;
  allocator?: Partial<AllocatorOptions>;
  /** Most candidate groups formed per model-parallel service per round (bounds work on big fleets). */
  groupsPerService?: number;
  /** Keep idle current units as warm spares when they still fit (default true). */
  keepWarmSpares?: boolean;
  /** Fraction of each device's time the plan may fill (default 0.75). */
  targetUtilisation?: number;
  /** A service that fits at most this fraction of the alive fleet is placed in the first, scarce stage (default 0.25). */
  scarceFraction?: number;
  /** Give devices the plan left idle to the worst-covered services (spare-units.ts; default true). */
  spareUnits?: boolean;
}

export { unitKey } from './placement-candidate.js';

export function planPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, opts: PlanOptions): PlacementResult {
  if (!opts || typeof opts.estimator?.serviceTimeMs !== 'function') {
    throw schedError('sched.bad_options', 'planPlacement needs an estimator with serviceTimeMs and loadTimeMs', 'pass { estimator } (src/sim/device-profiles.ts has one built from the device profiles)');
  }
  const specs = validateServices(services);
  // The batches EPARA's own handler forms, as observed, replace the planner's estimate of them.
  if (opts.allocator?.lengthBucketing && state.observedSpread) {
    for (const [name, s] of specs) {
      const x = state.observedSpread[name];
      if (x !== undefined && Number.isFinite(x) && x >= 1) specs.set(name, { ...s, bucketedSpread: Math.min(x, 1000) });
    }
  }
  const obj: ObjectiveOptions = { ...DEFAULT_OBJECTIVE, ...opts.objective };
  const alloc: AllocatorOptions = { ...DEFAULT_ALLOCATOR, ...opts.allocator };
  const est = opts.estimator;
  const byId = new Map<string, DeviceState>();
  for (const d of state.devices) {
    if (byId.has(d.id)) throw schedError('sched.bad_state', `device ${d.id} appears twice in the cluster state`, 'deduplicate the device list');
    byId.set(d.id, d);
  }

  // Plan devices to a target utilisation below 1: queueing delay grows without bound as a device
  // nears saturation, and deadlines are tens of milliseconds for camera frames.
  // Kept units (stage 1) may use a device's whole time, as they did; new units only up to the target.
  const targetUtil = opts.targetUtilisation ?? 0.75;
  const ledger = new PlacementLedger(state, specs, byId, est, obj);
  const maxMemory = Math.max(1, ...state.devices.map((d) => d.memoryMiB));
  const warmKeys = new Set<string>();
  const loadedSplitOf = new Map<string, readonly number[]>();
  for (const u of current.assignments) {
    const key = unitKey(u.service, u.devices);
    warmKeys.add(key);
    if (u.devices.length > 1) loadedSplitOf.set(key, u.stageFractions);
  }

  let evaluations = 0;

  // Replica plans depend on a device only through its class in every estimator we ship; caching by
  // class keeps 5,000 devices × 200 services to one batch search per (class, service).
  const classKey = new Map<string, string>();
  for (const d of state.devices) classKey.set(d.id, `${d.deviceClass}|${d.memoryMiB}|${d.gpuCount}`);
  const replicaCache = new Map<ServiceSpec, Map<string, Assignment | null>>();
  /** The class's replica plan, shared (read it, never change it); fullReplica gives a unit of its own. */
  const classReplica = (s: ServiceSpec, d: DeviceState): Assignment | null => {
    let m = replicaCache.get(s);
    if (!m) replicaCache.set(s, (m = new Map()));
    const k = classKey.get(d.id)!;
    let r = m.get(k);
    if (r === undefined) {
      evaluations++;
      r = planReplica(est, d, s, d.memoryMiB, 1, alloc);
      m.set(k, r);
    }
    return r;
  };
  const fullReplica = (s: ServiceSpec, d: DeviceState): Assignment | null => {
    const r = classReplica(s, d);
    return r ? { ...r, devices: [d.id] } : null;
  };

  /** The unit this candidate would add now, with the share of time it would take, and its gain. */
  // Violations count against a unit only beyond the average of the service's hosts: when the whole
  // service is overloaded every host violates, and a fresh unit elsewhere is no better (it only
  // lacks history) — penalising absolute rates would make the plan chase clean devices and churn.
  const meanViolation = new Map<string, number>();
  for (const s of specs.values()) {
    let sum = 0;
    let n = 0;
    for (const d of state.devices) {
      const v = d.services[s.name]?.violationRate;
      if (d.alive && v !== undefined) {
        sum += v;
        n++;
      }
    }
    // A sole host has nothing to be compared with: its violations count in full.
    meanViolation.set(s.name, n >= 2 ? sum / n : 0);
  }
  const evaluate = (c: Candidate): { unit: Assignment; gain: number } | null => {
    const s = c.service;
    // One unit of a service per device: a device already serving s (alone or as a stage) cannot join another.
    for (const d of c.devices) if (ledger.hosts(s.name, d.id)) return null;
    const resid = ledger.open(s.name);
    const dem = ledger.demandOf(s.name);
    if (c.devices.length === 1) {
      const d = c.devices[0]!;
      if (ledger.freeMemOf(d.id) < s.memoryMiB || ledger.freeOf(d.id, true) <= EPS) return null;
      const unit = fullReplica(s, d);
      return unit ? score(c, unit, c.warm ? 0 : loadMsOf(c, unit, null), resid, dem) : null;
    }
    if (c.devices.some((d) => ledger.freeOf(d.id, true) <= EPS)) return null;
    const free = (d: DeviceState): number => ledger.freeMemOf(d.id);
    evaluations++;
    const split = planGroup(est, c.devices, s, free, 1, state.links, alloc);
    if (!c.loadedSplit) return split ? score(c, split, c.warm ? 0 : loadMsOf(c, split, null), resid, dem) : null;
    evaluations++;
    const asLoaded = planGroup(est, c.devices, s, free, 1, state.links, alloc, c.loadedSplit);
    const kept = asLoaded ? score(c, asLoaded, 0, resid, dem) : null;
    const moved = split && !sameSplit(split.stageFractions, c.loadedSplit) ? score(c, split, loadMsOf(c, split, c.loadedSplit), resid, dem) : null;
    if (!moved) return kept ?? (split ? score(c, split, 0, resid, dem) : null);
    return kept && kept.gain >= moved.gain ? kept : moved;
  };

  /** Load time a unit charges: its slowest shard to load; with `loaded`, only the shards that differ from it. */
  const loadMsOf = (c: Candidate, unit: Assignment, loaded: readonly number[] | null): number => {
    const s = c.service;
    let ms = 0;
    c.devices.forEach((d, i) => {
      const f = unit.stageFractions[i]!;
      if (loaded && sameShare(f, loaded[i]!)) return;
      ms = Math.max(ms, s.loadMs ?? est.loadTimeMs(d, s, s.memoryMiB * f));
    });
    return ms;
  };

  /** The unit scaled to the share of time it would take, and its marginal gain (null when it gets no time). */
  const score = (c: Candidate, unit: Assignment, loadMs: number, resid: number, dem: number): { unit: Assignment; gain: number } | null => {
    const s = c.service;
    // One unit runs at most the whole time of its device(s).
    const free = Math.min(1, ...c.devices.map((d) => ledger.freeOf(d.id, true)));
    const need = Math.max(resid, 0) / unit.rateRps;
    // Warm spares (resid 0) still get the device's free time: it costs nothing and absorbs bursts.
    // A frame unit fills its device only as far as its frame budget tolerates queueing (allocator.ts frameShareCap).
    const share = Math.min(free, need > EPS ? need : free, c.maxShare ?? Infinity, frameShareCap(s, unit.latencyMs));
    if (share <= EPS) return null;
    const scaled: Assignment = { ...unit, share, rateRps: unit.rateRps * share };
    const gain = marginalGain({
      weight: s.weight ?? 1,
      demandRps: dem,
      suppliedRps: ledger.suppliedOf(s.name),
      rateRps: scaled.rateRps,
      violation: Math.max(0, violationOf(scaled, byId) - meanViolation.get(s.name)!),
      loadFraction: Math.min(1, loadMs / obj.windowMs),
      memoryFraction: memoryFractionOf(scaled, s, byId),
    }, obj);
    return { unit: scaled, gain };
  };

  /** Lazy greedy over a heap of candidates; stops when the true best gain is below `minGain`. */
  // Cheap checks first: a covered service or a full device cannot gain (the bulk of late pops).
  const cannotGain = (c: Candidate): boolean => ledger.open(c.service.name) <= EPS || c.devices.some((d) => ledger.freeOf(d.id, true) <= EPS);
  const droppable = (c: Candidate): boolean => ledger.isChosen(c.key) || cannotGain(c);
  const member: CohortMember = {
    key: (service, d) => unitKey(service, [d.id]),
    warm: (key) => warmKeys.has(key),
    cost: (d) => costOf([d], maxMemory),
  };
  const greedy = (heap: Heap<Candidate>, minGain: number, onDrop?: (c: Candidate) => void): number => {
    let accepted = 0;
    for (;;) {
      const c = takeNext(heap, byBound, droppable, member);
      if (!c) break;
      if (ledger.isChosen(c.key)) continue;
      if (cannotGain(c)) {
        onDrop?.(c);
        continue;
      }
      const r = evaluate(c);
      if (!r) {
        onDrop?.(c);
        continue;
      }
      const next = heap.peek();
      const key = r.gain / c.cost;
      if (!next || key >= next.bound - EPS) {
        // Fresh gain beats every other (stale, hence optimistic) key: c is the true best.
        if (r.gain < minGain) {
          onDrop?.(c);
          break;
        }
        ledger.accept(c.key, c.service, r.unit);
        accepted++;
      } else {
        c.bound = key;
        heap.push(c);
      }
    }
    return accepted;
  };
  const byBound = (a: Candidate, b: Candidate): boolean => a.bound > b.bound || (a.bound === b.bound && a.key < b.key);

  // Stage 1: keep what is loaded and still earns its place.
  const stage1 = new Heap<Candidate>(byBound);
  const droppedWarm: Candidate[] = [];
  for (const u of current.assignments) {
    const s = specs.get(u.service);
    const devs = u.devices.map((id) => byId.get(id));
    if (!s || devs.some((d) => !d || !d.alive)) continue;
    if (devs.length > 1 && gpuNeedOf(s.category) !== 'multi') continue;
    const key = unitKey(s.name, u.devices);
    const c: Candidate = { key, service: s, devices: devs as DeviceState[], warm: true, bound: 0, cost: costOf(devs as DeviceState[], maxMemory), maxShare: u.share > EPS ? u.share : undefined, loadedSplit: loadedSplitOf.get(key) };
    const r = evaluate(c);
    if (!r) continue;
    c.bound = r.gain / c.cost;
    if (r.gain > EPS) stage1.push(c);
    else droppedWarm.push(c);
  }
  const kept = greedy(stage1, EPS, (c) => droppedWarm.push(c));
  while (stage1.size > 0) droppedWarm.push(stage1.pop()!);
  droppedWarm.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Warm units of services whose demand is covered stay (otherwise a dip in demand frees their
  // memory, a new unit of another service takes it, and the next window reloads the first one
  // elsewhere: churn costs seconds of load per model) — but only while no service is short of its
  // demand: a starved service's new units come first (below), the warm spares after them.
  const keepWarmCovered = (): void => {
    for (const c of droppedWarm) {
      if (ledger.isChosen(c.key) || ledger.isShort(c.service.name)) continue;
      const r = evaluate(c);
      if (r) ledger.accept(c.key, c.service, r.unit);
    }
  };
  if (!ledger.anyShort()) keepWarmCovered();
  // From here on devices fill only to the target utilisation; kept units grow in place (up to
  // their demand first) before any new unit is considered.
  ledger.setCap(targetUtil);
  ledger.reserveHeadroom = true;
  ledger.widen(false);

  // Stage 2: new replicas and pipeline groups, scarcity first (FarFly's priority stage): services
  // that only a small part of the fleet can serve (LLMs on GPU servers) are placed before services
  // that could run almost anywhere, so a camera model does not take the only devices an LLM fits.
  let candidates = 0;
  const groupsPer = opts.groupsPerService ?? 32;
  const alive = state.devices.filter((d) => d.alive);
  // Single-device candidate keys are `<service>@<id>`, so within a service key order is id order.
  const aliveByKey = [...alive].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const keyRank = new Map<DeviceState, number>(aliveByKey.map((d, i) => [d, i]));
  // Per alive device (by its index in `alive`): its rank in key order and its class's number, so
  // the loops over every (service, device) pair below read arrays, not maps keyed by strings.
  const aliveRank = Int32Array.from(alive, (d) => keyRank.get(d)!);
  const classNumber = new Map<string, number>();
  const aliveClass = Int32Array.from(alive, (d) => {
    const ck = classKey.get(d.id)!;
    let n = classNumber.get(ck);
    if (n === undefined) classNumber.set(ck, (n = classNumber.size));
    return n;
  });
  /** One device of each class, and the devices of each class in `alive` order. */
  const classMembers: DeviceState[][] = [];
  alive.forEach((d, i) => (classMembers[aliveClass[i]!] ??= []).push(d));
  /** The devices that can serve s (alone, or as a stage of a group that meets the SLO), by id. */
  const feasibleOn = (s: ServiceSpec): Set<string> => {
    const on = new Set<string>();
    for (const members of classMembers) if (classReplica(s, members[0]!)) for (const d of members) on.add(d.id);
    if (on.size === 0 && gpuNeedOf(s.category) === 'multi') {
      // Only groups that can meet the SLO count (two Jetsons hold chat-13b but are too slow for it).
      for (const g of formGroups(est, alive, s, (d) => d.memoryMiB, state.links, alloc, groupsPer)) {
        if (planGroup(est, g, s, (d) => d.memoryMiB, 1, state.links, alloc)) for (const d of g) on.add(d.id);
      }
    }
    return on;
  };
  const constrained: ServiceSpec[] = [];
  const flexible: ServiceSpec[] = [];
  const scarceDevices = new Set<string>();
  const feasibleSingly = new Set<string>();
  for (const s of specs.values()) {
    const on = feasibleOn(s);
    if (classMembers.some((members) => classReplica(s, members[0]!))) feasibleSingly.add(s.name);
    if (on.size <= (opts.scarceFraction ?? 0.25) * alive.length) {
      constrained.push(s);
      for (const id of on) scarceDevices.add(id);
    } else flexible.push(s);
  }
  // Scarcity is about supply, not device count: a service that many devices can host but whose
  // demand those outside the scarce ones cannot carry needs the scarce devices too, so it is
  // placed with the scarce services. (With a trace of short requests a Jetson can hold chat-7b
  // within its SLO; chat-7b then counted as flexible, the scarce stage gave every GPU server's
  // memory to chat-13b and seg-hd first, and chat-7b starved on Jetsons.)
  for (let i = flexible.length - 1; i >= 0; i--) {
    const s = flexible[i]!;
    if (scarceDevices.size === 0) break;
    let outside = 0;
    const rateOf = classMembers.map((members) => classReplica(s, members[0]!)?.rateRps ?? 0);
    // Summed device by device in fleet order, as the plan has always summed it (floating point).
    for (let i = 0; i < alive.length; i++) if (!scarceDevices.has(alive[i]!.id)) outside += rateOf[aliveClass[i]!]!;
    if (outside < ledger.demandOf(s.name)) {
      constrained.push(s);
      flexible.splice(i, 1);
    }
  }

  /** Devices the plan left idle go to the worst-covered services (spare-units.ts). */
  const placeSpares = (): number =>
    spreadSpareUnits({
      services: [...specs.values()].filter((s) => ledger.demandOf(s.name) > EPS),
      devices: alive,
      classOf: (d) => classKey.get(d.id)!,
      isIdle: (d) => ledger.usedTimeOf(d.id) <= EPS,
      coverage: (s) => ledger.suppliedOf(s.name) / ledger.demandOf(s.name),
      replicaValue: (s, d) => {
        const u = classReplica(s, d);
        return u ? u.rateRps / costOf([d], maxMemory) : null;
      },
      groupsOf: (s, idle) => (gpuNeedOf(s.category) === 'multi' && !feasibleSingly.has(s.name) ? formGroups(est, idle, s, (d) => ledger.freeMemOf(d.id), state.links, alloc, 4) : null),
      place: (s, devices) => {
        const key = unitKey(s.name, devices.map((d) => d.id));
        if (ledger.isChosen(key)) return false;
        const c: Candidate = { key, service: s, devices, warm: warmKeys.has(key), bound: 0, cost: costOf(devices, maxMemory), loadedSplit: loadedSplitOf.get(key) };
        const r = evaluate(c);
        // A new spare that cannot finish loading within the window serves nothing in it (churn only).
        if (!r || (!c.warm && loadMsOf(c, r.unit, null) >= obj.windowMs)) return false;
        ledger.accept(key, s, r.unit);
        return true;
      },
    });

  let accepted = 0;
  const addUnits = (): void => {
  for (const stageServices of [constrained, flexible]) {
    const heap = new Heap<Candidate>(byBound);
    const pushGroups = (s: ServiceSpec): void => {
      // Devices with no time left cannot be a stage (they would only make the group infeasible).
      // One snapshot per call: formGroups sorts by free memory, and 5,000 devices mean ~10⁵ lookups.
      const usable = new Map<string, number>();
      for (const d of state.devices) usable.set(d.id, ledger.freeOf(d.id, true) > EPS ? ledger.freeMemOf(d.id) : 0);
      for (const g of formGroups(est, state.devices, s, (d) => usable.get(d.id)!, state.links, alloc, groupsPer)) {
        const key = unitKey(s.name, g.map((d) => d.id));
        if (ledger.isChosen(key)) continue;
        const c: Candidate = { key, service: s, devices: g, warm: warmKeys.has(key), bound: 0, cost: costOf(g, maxMemory), loadedSplit: loadedSplitOf.get(key) };
        const r = evaluate(c);
        if (r && r.gain > EPS) {
          c.bound = r.gain / c.cost;
          heap.push(c);
          candidates++;
        }
      }
    };
    const regroups = new Map<string, number>();
    for (const s of stageServices) {
      if (ledger.residualOf(s.name) <= EPS) continue;
      // Initial keys are computed once per (device class, memory, warm) — the devices of a class are
      // interchangeable until the greedy starts filling them — and evaluated for real when popped.
      // Per (class, warm): class number × 2 + warm; NaN until computed.
      const classBound = new Float64Array(2 * classMembers.length).fill(NaN);
      // The devices at each initial bound go in as one cohort entry, in key order (by rank in aliveByKey).
      const atBound = new Map<number, number[]>();
      for (let i = 0; i < alive.length; i++) {
        const d = alive[i]!;
        if (ledger.freeMemOf(d.id) < s.memoryMiB || ledger.freeOf(d.id, true) <= EPS) continue;
        const key = unitKey(s.name, [d.id]);
        if (ledger.isChosen(key)) continue;
        const warm = warmKeys.has(key);
        const violated = (d.services[s.name]?.violationRate ?? 0) > 0;
        const ck = 2 * aliveClass[i]! + (warm ? 1 : 0);
        let bound = violated || Number.isNaN(classBound[ck]!) ? undefined : classBound[ck]!;
        if (bound === undefined) {
          const unused = ledger.usedTimeOf(d.id) <= EPS;
          const r = unused ? evaluate({ key, service: s, devices: [d], warm, bound: 0, cost: costOf([d], maxMemory) }) : null;
          bound = r ? r.gain / costOf([d], maxMemory) : !unused ? Infinity : -Infinity;
          if (!violated && Number.isFinite(bound)) classBound[ck] = bound;
        }
        if (bound > EPS) {
          const ranks = atBound.get(bound);
          if (ranks) ranks.push(aliveRank[i]!);
          else atBound.set(bound, [aliveRank[i]!]);
          candidates++;
        }
      }
      for (const [bound, ranks] of atBound) heap.push(cohortEntry(s, Array.from(Int32Array.from(ranks).sort(), (r) => aliveByKey[r]!), bound, member));
      if (gpuNeedOf(s.category) === 'multi') pushGroups(s);
    }
    // A group that no longer fits (its devices' memory went to others) is re-formed from what is free.
    accepted += greedy(heap, EPS, (c) => {
      if (c.devices.length < 2) return;
      const n = regroups.get(c.service.name) ?? 0;
      if (n < 4 && ledger.residualOf(c.service.name) > EPS) {
        regroups.set(c.service.name, n + 1);
        pushGroups(c.service);
      }
    });
  }
  };
  addUnits();
  // Every service is covered as far as this pass could: now the warm units of covered services,
  // then headroom for all (kept units widen first, then new units).
  keepWarmCovered();
  ledger.reserveHeadroom = false;
  ledger.widen(false);
  addUnits();

  // Overload: when the demand is not covered at the target utilisation, let the plan use the rest
  // of each device's time — first by widening the units already chosen, then with new units.
  if (targetUtil < 1 && ledger.anyShort()) {
    ledger.setCap(1);
    ledger.widen(true);
    addUnits();
  }

  // Warm spares: idle current units that still fit stay loaded (no churn for a passing dip).
  if (opts.keepWarmSpares ?? true) {
    for (const c of droppedWarm) {
      if (ledger.isChosen(c.key)) continue;
      const r = evaluate(c);
      if (!r) continue;
      ledger.accept(c.key, c.service, r.unit);
    }
  }

  if (opts.spareUnits ?? true) accepted += placeSpares();

  const chosen = ledger.chosen;
  const placement: Placement = { version: current.version + 1, assignments: chosen };
  const actions = diffPlacement(current, placement, specs, byId);
  const supplyRps: Record<string, number> = {};
  const demandRps: Record<string, number> = {};
  for (const s of specs.values()) {
    demandRps[s.name] = demandOf(s, state);
    supplyRps[s.name] = 0;
  }
  for (const u of chosen) supplyRps[u.service] = (supplyRps[u.service] ?? 0) + u.rateRps;
  let objective = 0;
  for (const s of specs.values()) objective += (s.weight ?? 1) * servedValue(supplyRps[s.name]!, ledger.demandOf(s.name), obj.headroom);
  return {
    placement,
    actions,
    stats: {
      candidates,
      evaluations,
      accepted,
      kept,
      loads: actions.filter((a) => a.action === 'load').length,
      unloads: actions.filter((a) => a.action === 'unload').length,
      objective,
      demandRps,
      supplyRps,
    },
  };
}

export const EMPTY_PLACEMENT: Placement = Object.freeze({ version: 0, assignments: [] }) as Placement;
