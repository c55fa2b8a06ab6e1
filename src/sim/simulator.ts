/**
 * The discrete-event simulator (ParaSim-like): runs a policy's placement, router and the scheduler's
 * RequestHandler against simulated devices (service-time models from device-profiles.ts, with
 * seeded log-normal noise) and simulated links, in virtual time. One run is a pure function of its
 * config and seed.
 *
 * What is modelled: requests land on an ingress device and are sent (one link hop) to the entry
 * device of a placed unit; each device runs one batch at a time, choosing among all the services it
 * hosts by earliest deadline; pipeline groups pass each request stage to stage over the link; the
 * response goes back to the ingress. Model loads occupy the device (so churn costs serving time).
 * Every `stateSyncMs` devices report STATE (backlog, per-service SLO-violation EWMA) — the only view
 * of other devices' load the EPARA and least-violation routers get; every `placementMs` (and when a
 * device fails) a replanning policy re-places with the demand observed in the last window.
 * Simplifications: one shared router view stands for the per-device handlers' views; payload
 * transfer of requests is ignored (activations between pipeline stages are charged).
 *
 * LLM batching (`llmBatching`, the same for every policy): 'request' (default) runs a batch as one
 * unit that holds its device slot until its longest job is done (jobs leave as their own work is
 * done, but no new job joins); 'continuous' is iteration-level batching (vLLM, Orca) for services
 * of kind 'llm': the batch stays open, a queued job joins while fewer than maxBatch are in flight,
 * and every member advances at the per-step rate of the current occupancy n,
 * 1 / ((1 + batchBeta · (n − 1)) · (1 + mtSlowdown · other batches on the device)), so a job of
 * isolated time t alone finishes after t and n equal jobs together after t · (1 + batchBeta · (n − 1)),
 * as a request-level batch of n would (the fixed overhead is part of t). Each job leaves when its
 * own work is done. The rate is re-evaluated whenever a job joins or leaves (a job's noise is drawn
 * once, at its join); other services' batches starting or ending in between do not change it.
 */
import type { Policy, ReplicaSet, RouteContext, Router } from '../scheduler/baselines/policy.js';
import { sameShare } from '../scheduler/allocator.js';
import { CATEGORIES } from '../scheduler/categories.js';
import { KeyedHeap } from '../scheduler/keyed-heap.js';
import { RequestHandler, slotKey, type Batch, type HostedService, type InferJob, type RequestHandlerOptions } from '../scheduler/request-handler.js';
import type { Assignment, Category, ClusterState, DeviceClass, DeviceState, LinkSpec, Placement, ServiceSpec } from '../scheduler/types.js';
import { PROFILES, loadTimeMs, profileEstimator, serviceTimeMs, type DeviceProfile } from './device-profiles.js';
import { MetricsCollector, type RunMetrics } from './metrics.js';
import { Rng } from './rng.js';
import type { Workload } from './workload.js';

export interface SimDeviceSpec {
  id: string;
  deviceClass: DeviceClass;
  zone: string;
}

export interface SimConfig {
  devices: SimDeviceSpec[];
  services: ServiceSpec[];
  workload: Workload;
  policy: Policy;
  seed: number;
  links: LinkSpec;
  profiles?: Readonly<Record<DeviceClass, DeviceProfile>>;
  stateSyncMs?: number;
  placementMs?: number;
  /** σ of the log-normal noise on every batch's service time (default 0.1). */
  noise?: number;
  /** Devices that fail (stop, lose their queues) at a time. */
  failures?: { atMs: number; device: string }[];
  /** Load factor of the workload, for the report. */
  load?: number;
  /** How LLM services batch (default 'request'; see the header). Every policy runs the same. */
  llmBatching?: LlmBatching;
}

export type LlmBatching = 'request' | 'continuous';

/** Batches of two or more a window must see before its observed batch spread is reported. */
export const MIN_SPREAD_BATCHES = 20;
export const LLM_BATCHING: readonly LlmBatching[] = ['request', 'continuous'];

interface Unit {
  service: ServiceSpec;
  /** Index of the service (svcIndex): per-service state lives in arrays, not maps keyed by name. */
  si: number;
  devices: Dev[];
  fractions: number[];
  batch: number;
  ready: boolean;
  fixedMs: number;
  perSizeMs: number;
}

/** An open continuous batch of one hosted service on one device (llmBatching 'continuous'). */
interface Group {
  key: string;
  service: ServiceSpec;
  stage: number;
  members: { job: InferJob; remainingMs: number }[];
  /** Virtual time up to which the members' progress is accounted. */
  lastMs: number;
  /** Slowdown from the other batches on the device, fixed at the last join or leave. */
  mt: number;
  /** Bumped on every change; a Step event of an older version is stale. */
  version: number;
}

interface Hosting {
  service: ServiceSpec;
  si: number;
  stage: number;
  fraction: number;
  batch: number;
  loaded: boolean;
}

interface Dev {
  idx: number;
  spec: SimDeviceSpec;
  /** Index of the device's zone: hop costs compare numbers, not zone strings. */
  zone: number;
  /** Rank of the device's id among all ids (`<` order), for the router's tie-break. */
  order: number;
  profile: DeviceProfile;
  state: DeviceState;
  handler: RequestHandler;
  hosting: Map<string, Hosting>;
  pendingLoads: string[];
  /** Batches and model loads in progress (≤ profile.concurrency). */
  active: number;
  activeSince: number;
  alive: boolean;
  busyMs: number;
  // Per-service state, indexed by service index (the router reads these for every replica of
  // every request, so a typed-array read instead of a Map lookup by name).
  /** Requests routed here per service and not finished (a router counts per replica). */
  outstanding: Int32Array;
  /** STATE view per service: backlog at the last sync, and estimated work sent since. */
  viewBacklogMs: Float64Array;
  viewAt: number;
  sentMs: Float64Array;
  /** Requests that met / missed their SLO here since the last sync. */
  served: Int32Array;
  missed: Int32Array;
  /** Smoothed SLO-violation rate per service (EWMA over syncs; 0 until a request completes). */
  violation: Float64Array;
  /**
   * Request-level batches in progress (at most the device's concurrency, so a short list), with
   * each job's finish offset from the batch start.
   */
  running: { batch: Batch; offs: number[] }[];
  groups: Map<string, Group>;
}

/**
 * A request in flight. It is also the job the device handlers queue (an InferJob): one object per
 * request, not a job per hop, and the handler's jobs lead straight back to their requests.
 */
interface Req extends InferJob {
  spec: ServiceSpec;
  si: number;
  category: Category;
  ingress: Dev;
  unit: Unit | null;
  entry: Dev | null;
  tries: number;
  /** Devices that refused it (null until one does: most requests are never refused). */
  tried: Dev[] | null;
  /** Finished: completed, dropped or lost (a handler may still hand back its job, to be ignored). */
  finished: boolean;
}

const enum Ev {
  Enqueue,
  Done,
  Loaded,
  Sync,
  Place,
  Fail,
  Step,
}

/** An event's time is its key in the event queue. */
interface Event {
  kind: Ev;
  dev?: Dev;
  req?: Req;
  batch?: Batch;
  service?: string;
  group?: Group;
  version?: number;
}


export function simulate(cfg: SimConfig): RunMetrics {
  const profiles = cfg.profiles ?? PROFILES;
  const est = profileEstimator(profiles);
  const rng = new Rng(cfg.seed);
  const routeRng = rng.fork(1);
  const random = (): number => routeRng.next();
  const noiseRng = rng.fork(2);
  const noise = cfg.noise ?? 0.1;
  const placeRng = rng.fork(3);
  const placeCtx = { random: (): number => placeRng.next() };
  const syncMs = cfg.stateSyncMs ?? 3000;
  const placeMs = cfg.placementMs ?? 60_000;
  const policy = cfg.policy;
  const router: Router = policy.makeRouter();
  const specs = new Map(cfg.services.map((s) => [s.name, s]));
  const svcIndex = new Map<string, number>();
  for (const s of cfg.services) if (!svcIndex.has(s.name)) svcIndex.set(s.name, svcIndex.size);
  const metrics = new MetricsCollector([...svcIndex.keys()].map((n) => specs.get(n)!));
  const nSvc = svcIndex.size;
  const zoneIndex = new Map<string, number>();
  const w = cfg.workload;
  const svcOfRow = w.services.map((n) => specs.get(n));
  const siOfRow = w.services.map((n) => svcIndex.get(n) ?? -1);
  const duration = w.durationMs;

  let now = 0;
  let seq = 0;
  // Events in time order; ties in the order they were scheduled.
  const events = new KeyedHeap<Event>();
  const at = (t: number, kind: Ev, dev?: Dev, req?: Req, batch?: Batch, service?: string): void => events.push(t, seq++, { kind, dev, req, batch, service });

  // One clock and one service-time function per device class, shared by every handler: a closure
  // per device made these call sites megamorphic on big fleets (thousands of distinct targets).
  const clock = (): number => now;
  const timeOf = new Map<DeviceProfile, RequestHandlerOptions['serviceTimeMs']>();
  const devs: Dev[] = cfg.devices.map((d, idx) => {
    const profile = profiles[d.deviceClass];
    let time = timeOf.get(profile);
    if (!time) timeOf.set(profile, (time = (s, b, f, size) => serviceTimeMs(profile, s, b, f, size)));
    if (!zoneIndex.has(d.zone)) zoneIndex.set(d.zone, zoneIndex.size);
    const dev: Dev = {
      idx,
      spec: d,
      zone: zoneIndex.get(d.zone)!,
      order: 0,
      profile,
      state: { id: d.id, deviceClass: d.deviceClass, memoryMiB: profile.memoryMiB, gpuCount: profile.gpuCount, zone: d.zone, alive: true, services: {} },
      handler: undefined as unknown as RequestHandler,
      hosting: new Map(),
      pendingLoads: [],
      active: 0,
      activeSince: 0,
      alive: true,
      busyMs: 0,
      outstanding: new Int32Array(nSvc),
      viewBacklogMs: new Float64Array(nSvc),
      viewAt: 0,
      sentMs: new Float64Array(nSvc),
      served: new Int32Array(nSvc),
      missed: new Int32Array(nSvc),
      violation: new Float64Array(nSvc),
      running: [],
      groups: new Map(),
    };
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
  const { intraZoneMs, interZoneMs } = cfg.links;
  const hopMs = (a: Dev, b: Dev): number => (a === b ? 0 : a.zone === b.zone ? intraZoneMs : interZoneMs);

  let units: Unit[] = [];
  /** Ready units per service index. */
  let ready: Unit[][] = [];
  let placement: Placement = { version: 0, assignments: [] };
  const arrivalsInWindow = new Float64Array(nSvc);
  // Per service, over the placement window: batches of two or more formed by the handlers, the
  // sum of each one's longest request and of its members' mean size (ClusterState.observedSpread).
  const spreadBatches = new Float64Array(nSvc);
  const spreadLongest = new Float64Array(nSvc);
  const spreadMean = new Float64Array(nSvc);
  const smoothedSpread = new Map<string, number>();
  const observeBatch = (batch: Batch): void => {
    let longest = 0;
    let sum = 0;
    for (const j of batch.jobs) {
      if (j.sizeFactor > longest) longest = j.sizeFactor;
      sum += j.sizeFactor;
    }
    const si = (batch.jobs[0] as Req).si;
    spreadBatches[si]++;
    spreadLongest[si] += longest;
    spreadMean[si] += sum / batch.jobs.length;
  };
  const smoothedRps = new Map<string, number>();
  let windowStart = 0;

  const rebuildReady = (): void => {
    ready = [];
    for (const u of units) {
      u.ready = u.devices.every((d) => d.alive && d.hosting.get(slotKey(u.service.name, u.devices.indexOf(d)))?.loaded === true);
      if (u.ready) (ready[u.si] ??= []).push(u);
    }
  };

  const syncHandler = (d: Dev): InferJob[] => {
    const hosted: HostedService[] = [];
    for (const h of d.hosting.values()) if (h.loaded) hosted.push({ spec: h.service, stage: h.stage, workFraction: h.fraction, batch: h.batch });
    return d.handler.setServices(hosted);
  };

  /** Requests not finished yet, per category (those left at the end of the run count as misses). */
  const inFlight = new Int32Array(nSvc);
  /** The request behind a job a handler hands back, or null when it has finished meanwhile. */
  const live = (j: InferJob): Req | null => ((j as Req).finished ? null : (j as Req));
  /** The router sees the request leave its entry device (finished, dropped or re-routed). */
  const release = (r: Req): void => {
    if (!r.entry) return;
    const o = r.entry.outstanding;
    o[r.si] = Math.max(0, o[r.si]! - 1);
    r.entry = null;
  };
  const finishReq = (r: Req): void => {
    r.finished = true;
    inFlight[r.si]--;
    release(r);
  };
  const countAt = (d: Dev | null, r: Req, met: boolean): void => {
    if (!d) return;
    (met ? d.served : d.missed)[r.si]++;
  };
  const drop = (r: Req, code: string, where: Dev | null): void => {
    metrics.drop(r.category, code, r.si);
    countAt(where, r, false);
    finishReq(r);
  };

  /** Idle latency of a unit for a request of `size`: stage times are affine in size, so two numbers per unit suffice. */
  const unitLatency = (u: Unit, size: number): number => u.fixedMs + u.perSizeMs * size;
  const unitCoefficients = (u: Unit): void => {
    let fixed = 0;
    let per = 0;
    for (let i = 0; i < u.devices.length; i++) {
      const d = u.devices[i]!;
      const t0 = serviceTimeMs(d.profile, u.service, 1, u.fractions[i]!, 0);
      fixed += t0;
      per += serviceTimeMs(d.profile, u.service, 1, u.fractions[i]!, 1) - t0;
      if (i > 0) fixed += hopMs(u.devices[i - 1]!, d);
    }
    u.fixedMs = fixed;
    u.perSizeMs = per;
  };

  // The router's view of the candidate units of the request being routed (filled by `route`, read by index).
  let rc: Unit[] = [];
  let rr: Req | null = null;
  let rfrom: Dev | null = null;
  const replicas: ReplicaSet = {
    get length() {
      return rc.length;
    },
    device: (i) => rc[i]!.devices[0]!.spec.id,
    outstanding: (i) => rc[i]!.devices[0]!.outstanding[rr!.si]!,
    violationRate: (i) => rc[i]!.devices[0]!.violation[rr!.si]!,
    deviceOrder: (i) => rc[i]!.devices[0]!.order,
    predictedFinishMs: (i) => {
      const u = rc[i]!;
      const e = u.devices[0]!;
      const si = rr!.si;
      const wait = Math.max(0, e.viewBacklogMs[si]! + e.sentMs[si]! - (now - e.viewAt));
      return now + hopMs(rfrom!, e) + wait + unitLatency(u, rr!.sizeFactor) + hopMs(u.devices[u.devices.length - 1]!, rr!.ingress);
    },
  };

  // One context object, refilled per request (routers read it during the call and keep nothing).
  const routeCtx: RouteContext = { ingress: '', service: '', nowMs: 0, deadlineMs: 0, random };

  /** Routing from `from` (ingress, or the device that rejected it). */
  const route = (r: Req, from: Dev): void => {
    const all = ready[r.si];
    const tried = r.tried;
    const cands = all ? (tried ? all.filter((u) => !tried.includes(u.devices[0]!)) : all) : undefined;
    if (!cands || cands.length === 0) {
      drop(r, tried ? 'infer.deadline' : 'infer.no_device', from);
      return;
    }
    rc = cands;
    rr = r;
    rfrom = from;
    routeCtx.ingress = r.ingress.spec.id;
    routeCtx.service = r.spec.name;
    routeCtx.nowMs = now;
    routeCtx.deadlineMs = r.deadlineMs;
    const pick = router.route(replicas, routeCtx);
    if (pick === null || pick < 0 || pick >= cands.length) {
      // The router refused: EPARA when no replica can meet the deadline, local-only when the ingress does not host the service.
      drop(r, tried || policy.handler.admission ? 'infer.deadline' : 'infer.no_device', from);
      return;
    }
    const u = cands[pick]!;
    const e = u.devices[0]!;
    r.unit = u;
    r.entry = e;
    r.stage = 0;
    e.outstanding[r.si]++;
    e.sentMs[r.si] += serviceTimeMs(e.profile, r.spec, u.batch, u.fractions[0]!, r.sizeFactor) / u.batch;
    at(now + hopMs(from, e), Ev.Enqueue, e, r);
  };

  const setActive = (d: Dev, delta: number): void => {
    if (d.active > 0) d.busyMs += now - d.activeSince;
    d.activeSince = now;
    d.active += delta;
  };

  const kick = (d: Dev): void => {
    while (d.alive) {
      const slotFree = d.active < d.profile.concurrency;
      const load = slotFree ? d.pendingLoads.shift() : undefined;
      if (load !== undefined) {
        const h = d.hosting.get(load);
        if (!h) continue;
        const ms = loadTimeMs(d.profile, h.service.memoryMiB * h.fraction);
        setActive(d, 1);
        at(now + ms, Ev.Loaded, d, undefined, undefined, load);
        continue;
      }
      // Without a free slot only a join to an open continuous batch can start (it needs no slot).
      const batch = slotFree ? d.handler.next() : cfg.llmBatching === 'continuous' ? d.handler.next({ joinOnly: true }) : null;
      for (const j of d.handler.takeDropped()) {
        const r = live(j);
        if (r) drop(r, 'infer.deadline', d);
      }
      if (!batch) return;
      if (batch.continuous) {
        join(d, batch);
        continue;
      }
      if (batch.jobs.length > 1 && batch.stage === 0) observeBatch(batch);
      // Services sharing the device run concurrently, each slowed by the others (FarFly's MT measurement).
      const factor = (1 + d.profile.mtSlowdown * d.active) * Math.exp(noise * noiseRng.normal());
      const h = d.hosting.get(slotKey(batch.service, batch.stage))!;
      const jobs = batch.jobs;
      const offs = new Array<number>(jobs.length);
      let longest = -Infinity;
      for (let k = 0; k < jobs.length; k++) {
        offs[k] = serviceTimeMs(d.profile, h.service, jobs.length, h.fraction, jobs[k]!.sizeFactor) * factor;
        longest = Math.max(longest, offs[k]!);
      }
      setActive(d, 1);
      // Jobs of one batch leave as their own work is done.
      d.running.push({ batch, offs });
      at(now + longest, Ev.Done, d, undefined, batch);
    }
  };

  const enqueue = (d: Dev, r: Req): void => {
    if (!d.alive || !d.handler.hosts(r.spec.name, r.stage)) {
      if (r.stage === 0 && r.tries < policy.handler.forwardOnReject + 1) {
        r.tries++;
        release(r);
        route(r, d.alive ? d : r.ingress);
      } else drop(r, 'infer.unknown_service', d);
      return;
    }
    r.forwards = r.tries;
    const code = d.handler.admit(r);
    if (code !== null) {
      if (r.stage === 0 && r.tries < policy.handler.forwardOnReject) {
        r.tries++;
        (r.tried ??= []).push(d);
        release(r);
        route(r, d);
      } else drop(r, code, d);
      return;
    }
    kick(d);
  };

  /** A job's work on device `d` ended at `t`: on to the next pipeline stage, or the response goes back to the ingress. */
  const jobDone = (d: Dev, j: InferJob, t: number): void => {
    const r = live(j);
    if (!r) return;
    const u = r.unit!;
    if (r.stage + 1 < u.devices.length) {
      const next = u.devices[r.stage + 1]!;
      const transfer = ((r.spec.activationKiB ?? 0) / 1024 / (d.zone === next.zone ? cfg.links.intraZoneMBps : cfg.links.interZoneMBps)) * 1000;
      r.stage++;
      at(Math.max(now, t + hopMs(d, next) + transfer), Ev.Enqueue, next, r);
      return;
    }
    const finish = t + hopMs(d, r.ingress);
    const met = finish <= r.deadlineMs;
    metrics.complete(r.category, finish - r.arrivalMs, met, r.si);
    countAt(r.entry, r, met);
    finishReq(r);
  };

  const done = (d: Dev, batch: Batch): void => {
    let k = 0;
    while (k < d.running.length && d.running[k]!.batch !== batch) k++;
    if (k === d.running.length) return;
    const { offs } = d.running[k]!;
    d.running.splice(k, 1);
    setActive(d, -1);
    d.handler.complete(batch);
    const jobs = batch.jobs;
    for (let i = 0; i < jobs.length; i++) jobDone(d, jobs[i]!, batch.startMs + offs[i]!);
    kick(d);
  };

  // Continuous batching: members advance together at the occupancy's per-step rate.
  const groupRate = (d: Dev, g: Group): number => 1 / ((1 + d.profile.batchBeta * (g.members.length - 1)) * g.mt);
  /** Account the members' progress up to now. */
  const advance = (d: Dev, g: Group): void => {
    if (g.members.length > 0 && now > g.lastMs) {
      const progress = (now - g.lastMs) * groupRate(d, g);
      for (const m of g.members) m.remainingMs -= progress;
    }
    g.lastMs = now;
  };
  /** After a change: the next member to leave, or close the batch and free its slot when empty. */
  const reschedule = (d: Dev, g: Group): void => {
    g.version++;
    if (g.members.length === 0) {
      d.groups.delete(g.key);
      setActive(d, -1);
      return;
    }
    g.mt = 1 + d.profile.mtSlowdown * (d.active - 1);
    let least = Infinity;
    for (const m of g.members) least = Math.min(least, m.remainingMs);
    const t = now + Math.max(0, least) / groupRate(d, g);
    events.push(t, seq++, { kind: Ev.Step, dev: d, group: g, version: g.version });
  };
  const join = (d: Dev, batch: Batch): void => {
    const k = slotKey(batch.service, batch.stage);
    const h = d.hosting.get(k)!;
    let g = d.groups.get(k);
    if (g) advance(d, g);
    else {
      g = { key: k, service: h.service, stage: batch.stage, members: [], lastMs: now, mt: 1, version: 0 };
      d.groups.set(k, g);
      setActive(d, 1);
    }
    for (const j of batch.jobs) g.members.push({ job: j, remainingMs: serviceTimeMs(d.profile, h.service, 1, h.fraction, j.sizeFactor) * Math.exp(noise * noiseRng.normal()) });
    reschedule(d, g);
  };
  const step = (d: Dev, g: Group, version: number): void => {
    if (d.groups.get(g.key) !== g || g.version !== version) return;
    advance(d, g);
    // Floating-point slack: a member due now may be left with a few ulps of work.
    const eps = 1e-9 * Math.max(1, now);
    const left = g.members.filter((m) => m.remainingMs <= eps);
    g.members = g.members.filter((m) => m.remainingMs > eps);
    for (const m of left) {
      d.handler.completeJob(g.service.name, g.stage, m.job.id);
      jobDone(d, m.job, now);
    }
    reschedule(d, g);
    kick(d);
  };

  const apply = (p: Placement, initial: boolean): void => {
    const want = new Map<Dev, Map<string, { a: Assignment; stage: number }>>();
    const newUnits: Unit[] = [];
    for (const a of p.assignments) {
      const s = specs.get(a.service);
      const ds = a.devices.map((id) => byId.get(id));
      if (!s || ds.some((d) => !d || !d.alive)) continue;
      const unit: Unit = { service: s, si: svcIndex.get(s.name)!, devices: ds as Dev[], fractions: a.stageFractions, batch: Math.max(1, a.batch), ready: false, fixedMs: 0, perSizeMs: 0 };
      unitCoefficients(unit);
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
          if (!initial) metrics.unloads++;
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
            metrics.loads++;
            changed = true;
          }
          h.fraction = fraction;
          continue;
        }
        d.hosting.set(k, { service: specs.get(a.service)!, si: svcIndex.get(a.service)!, stage, fraction: a.stageFractions[stage]!, batch: Math.max(1, a.batch), loaded: initial });
        if (!initial) {
          d.pendingLoads.push(k);
          metrics.loads++;
        }
        changed = true;
      }
      if (changed || initial) {
        d.state.services = {};
        for (const h of d.hosting.values()) d.state.services[h.service.name] = { status: h.loaded ? 'ready' : 'loading', queueLen: 0, violationRate: d.violation[h.si]! };
      }
    }
    units = newUnits;
    placement = p;
    metrics.placements++;
    const orphans: { r: Req; d: Dev }[] = [];
    for (const d of devs) {
      if (!d.alive) continue;
      for (const j of syncHandler(d)) {
        const r = live(j);
        if (r) orphans.push({ r, d });
      }
    }
    rebuildReady();
    for (const { r, d } of orphans) {
      if (r.stage === 0) {
        release(r);
        route(r, d);
      } else drop(r, 'infer.unknown_service', d);
    }
    for (const d of devs) kick(d);
  };

  const clusterState = (): ClusterState => {
    const sec = Math.max(1, now - windowStart) / 1000;
    const observedRps: Record<string, number> = {};
    // Demand is smoothed over windows (EWMA, α = 0.5) so one bursty minute does not flip placements.
    for (const s of cfg.services) {
      const rate = arrivalsInWindow[svcIndex.get(s.name)!]! / sec;
      const prev = smoothedRps.get(s.name);
      observedRps[s.name] = prev === undefined ? rate : 0.5 * rate + 0.5 * prev;
    }
    for (const d of devs) {
      d.state.alive = d.alive;
      for (const [name, st] of Object.entries(d.state.services)) {
        st.violationRate = d.violation[svcIndex.get(name)!]!;
        st.queueLen = d.handler.queueLength(name);
      }
    }
    // A service's batch spread as its handlers formed them (EWMA like the demand), once a window
    // saw enough batches to say (a handful of batches says little about a heavy size tail).
    const observedSpread: Record<string, number> = {};
    for (const [name, si] of svcIndex) {
      const prev = smoothedSpread.get(name);
      if (spreadBatches[si]! >= MIN_SPREAD_BATCHES) {
        const x = Math.max(1, spreadLongest[si]! / spreadMean[si]!);
        observedSpread[name] = prev === undefined ? x : 0.5 * x + 0.5 * prev;
      } else if (prev !== undefined) observedSpread[name] = prev;
    }
    const spreadKnown = Object.keys(observedSpread).length > 0;
    return { nowMs: now, devices: devs.map((d) => d.state), links: cfg.links, observedRps: now > 0 ? observedRps : undefined, ...(spreadKnown ? { observedSpread } : {}) };
  };

  const replan = (): void => {
    const st = clusterState();
    for (const [k, v] of Object.entries(st.observedRps ?? {})) smoothedRps.set(k, v);
    for (const [k, v] of Object.entries(st.observedSpread ?? {})) smoothedSpread.set(k, v);
    spreadBatches.fill(0);
    spreadLongest.fill(0);
    spreadMean.fill(0);
    apply(policy.place(st, cfg.services, placement, est, placeCtx), false);
    arrivalsInWindow.fill(0);
    windowStart = now;
  };

  // t = 0: every policy starts with its initial placement already loaded (the run measures serving, not a cold start).
  apply(policy.place(clusterState(), cfg.services, placement, est, placeCtx), true);
  for (let t = syncMs; t < duration; t += syncMs) at(t, Ev.Sync);
  if (policy.replan) for (let t = placeMs; t < duration; t += placeMs) at(t, Ev.Place);
  for (const f of cfg.failures ?? []) {
    const d = byId.get(f.device);
    if (d) at(f.atMs, Ev.Fail, d);
  }

  let next = 0;
  let id = 0;
  const n = w.count;
  for (;;) {
    const ta = next < n ? w.timeMs[next]! : Infinity;
    if (ta === Infinity && events.size === 0) break;
    if (ta <= events.peekKey()) {
      now = ta;
      const i = next++;
      const spec = svcOfRow[w.service[i]!];
      if (!spec) continue;
      const ingIdx = w.ingress[i]! >= 0 ? w.ingress[i]! % devs.length : i % devs.length;
      const si = siOfRow[w.service[i]!]!;
      // enqueuedMs starts as a number: a field born undefined and later given doubles makes V8 box each one.
      const r: Req = { id: id++, service: spec.name, stage: 0, arrivalMs: now, deadlineMs: now + w.deadlineMs[i]!, sizeFactor: w.size[i]!, forwards: 0, enqueuedMs: 0, spec, si, category: spec.category, ingress: devs[ingIdx]!, unit: null, entry: null, tries: 0, tried: null, finished: false };
      inFlight[r.si]++;
      arrivalsInWindow[si]++;
      route(r, r.ingress);
      continue;
    }
    now = events.peekKey();
    const e = events.pop()!;
    switch (e.kind) {
      case Ev.Enqueue:
        enqueue(e.dev!, e.req!);
        break;
      case Ev.Done:
        done(e.dev!, e.batch!);
        break;
      case Ev.Step:
        step(e.dev!, e.group!, e.version!);
        break;
      case Ev.Loaded: {
        const d = e.dev!;
        if (!d.alive) break;
        setActive(d, -1);
        const h = d.hosting.get(e.service!);
        if (h && d.alive) {
          h.loaded = true;
          d.state.services[h.service.name] = { status: 'ready', queueLen: 0, violationRate: 0 };
          syncHandler(d);
          rebuildReady();
        }
        kick(d);
        break;
      }
      case Ev.Sync:
        for (const d of devs) {
          d.viewBacklogMs.fill(0);
          for (const h of d.hosting.values()) if (h.stage === 0) d.viewBacklogMs[h.si] = d.alive ? d.handler.backlogMs(h.service.name, 0) : Infinity;
          d.viewAt = now;
          d.sentMs.fill(0);
          for (let si = 0; si < nSvc; si++) {
            const ok = d.served[si]!;
            const bad = d.missed[si]!;
            if (ok + bad > 0) d.violation[si] = 0.25 * (bad / (ok + bad)) + 0.75 * d.violation[si]!;
          }
          d.served.fill(0);
          d.missed.fill(0);
        }
        break;
      case Ev.Place:
        replan();
        break;
      case Ev.Fail: {
        const d = e.dev!;
        if (!d.alive) break;
        setActive(d, 0);
        d.alive = false;
        d.state.alive = false;
        d.hosting.clear();
        const lost = syncHandler(d);
        const inflight = d.running.flatMap((x) => x.batch.jobs);
        for (const g of d.groups.values()) inflight.push(...g.members.map((m) => m.job));
        d.running = [];
        d.groups.clear();
        for (const j of [...lost, ...inflight]) {
          const r = live(j);
          if (r) drop(r, 'infer.no_device', d);
        }
        rebuildReady();
        if (policy.replan) replan();
        break;
      }
    }
  }
  // Requests still in flight at the end (none when the run drains) count as misses.
  for (const [name, si] of svcIndex) for (; inFlight[si]! > 0; inFlight[si]!--) metrics.drop(specs.get(name)!.category, 'infer.deadline', si);
  let busy = 0;
  for (const d of devs) {
    if (d.active > 0) d.busyMs += Math.min(now, duration) - Math.min(d.activeSince, duration);
    busy += Math.min(d.busyMs, duration);
  }
  return metrics.finish(policy.name, cfg.load ?? 1, duration, busy, devs.length);
}
