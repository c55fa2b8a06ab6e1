/**
 * One simulation run (simulator.ts describes the model): the fleet, the units placed on it, the
 * requests in flight and the event queue, with one method per event kind. A run is a pure
 * function of its config and seed: virtual time, seeded random streams, no I/O.
 */
import type { Policy, RouteContext, Router } from '../scheduler/baselines/policy.js';
import { KeyedHeap } from '../scheduler/keyed-heap.js';
import { slotKey, type Batch, type InferJob } from '../scheduler/request-handler.js';
import type { ClusterState, Estimator, Placement, ServiceSpec } from '../scheduler/types.js';
import { DemandWindow } from './demand-window.js';
import { buildFleet, placeOnFleet, type SimFleet } from './sim-fleet.js';
import { PROFILES, loadTimeMs, profileEstimator, serviceTimeMs } from './device-profiles.js';
import { MetricsCollector, type RunMetrics } from './metrics.js';
import { Rng } from './rng.js';
import { advance, nextDueMs, openGroup, takeDone } from './continuous-batch.js';
import { CandidateUnits } from './candidate-units.js';
import { busyMsWithin, countAt, hopMs, live, newRequest, readyUnits, refreshState, release, reportState, setActive, syncHandler, type Dev, type Group, type Req, type Unit } from './sim-entities.js';
import type { SimConfig } from './sim-config.js';
import type { Workload } from './workload.js';
import { TIME_SCALES } from '../time-scales.js';

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

export class Simulation {
  private readonly est: Estimator;
  private readonly noiseRng: Rng;
  private readonly noise: number;
  private readonly placeCtx: { random: () => number };
  private readonly policy: Policy;
  private readonly router: Router;
  private readonly specs: Map<string, ServiceSpec>;
  private readonly svcIndex = new Map<string, number>();
  private readonly metrics: MetricsCollector;
  private readonly w: Workload;
  private readonly svcOfRow: (ServiceSpec | undefined)[];
  private readonly siOfRow: number[];
  private readonly continuous: boolean;

  private now = 0;
  private seq = 0;
  // Events in time order; ties in the order they were scheduled.
  private readonly events = new KeyedHeap<Event>();
  private readonly devs: readonly Dev[];
  private readonly fleet: SimFleet;

  private units: Unit[] = [];
  /** Ready units per service index. */
  private ready: Unit[][] = [];
  private placement: Placement = { version: 0, assignments: [] };
  private readonly window: DemandWindow;
  /** Requests not finished yet, per service (those left at the end of the run count as misses). */
  private readonly inFlight: Int32Array;

  // The router's view of the candidate units of the request being routed (filled by `route`, read by index).
  private readonly candidates: CandidateUnits;
  // One context object, refilled per request (routers read it during the call and keep nothing).
  private readonly routeCtx: RouteContext;

  constructor(private readonly cfg: SimConfig) {
    const profiles = cfg.profiles ?? PROFILES;
    this.est = profileEstimator(profiles);
    const rng = new Rng(cfg.seed);
    const routeRng = rng.fork(1);
    const random = (): number => routeRng.next();
    this.noiseRng = rng.fork(2);
    this.noise = cfg.noise ?? 0.1;
    const placeRng = rng.fork(3);
    this.placeCtx = { random: (): number => placeRng.next() };
    this.policy = cfg.policy;
    this.router = this.policy.makeRouter();
    this.specs = new Map(cfg.services.map((s) => [s.name, s]));
    for (const s of cfg.services) if (!this.svcIndex.has(s.name)) this.svcIndex.set(s.name, this.svcIndex.size);
    this.metrics = new MetricsCollector([...this.svcIndex.keys()].map((n) => this.specs.get(n)!));
    this.w = cfg.workload;
    this.svcOfRow = this.w.services.map((n) => this.specs.get(n));
    this.siOfRow = this.w.services.map((n) => this.svcIndex.get(n) ?? -1);
    this.continuous = cfg.llmBatching === 'continuous';
    this.window = new DemandWindow(cfg.services, this.svcIndex, (j) => (j as Req).si);
    this.inFlight = new Int32Array(this.svcIndex.size);
    this.fleet = buildFleet(cfg, profiles, () => this.now, this.specs, this.svcIndex);
    this.devs = this.fleet.devs;
    this.candidates = new CandidateUnits(cfg.links);
    this.routeCtx = { ingress: '', service: '', nowMs: 0, deadlineMs: 0, random };
  }

  /** Runs the whole workload and the events it causes; returns the run's metrics. */
  run(): RunMetrics {
    const { policy, w } = this;
    const duration = w.durationMs;
    // t = 0: every policy starts with its initial placement already loaded (the run measures serving, not a cold start).
    this.apply(policy.place(this.clusterState(), this.cfg.services, this.placement, this.est, this.placeCtx), true);
    const syncMs = this.cfg.stateSyncMs ?? TIME_SCALES.stateSyncMs.default;
    const placeMs = this.cfg.placementMs ?? TIME_SCALES.placementMs.default;
    for (let t = syncMs; t < duration; t += syncMs) this.at(t, Ev.Sync);
    if (policy.replan) for (let t = placeMs; t < duration; t += placeMs) this.at(t, Ev.Place);
    for (const f of this.cfg.failures ?? []) {
      const d = this.fleet.byId.get(f.device);
      if (d) this.at(f.atMs, Ev.Fail, d);
    }

    let next = 0;
    let id = 0;
    const n = w.count;
    const events = this.events;
    for (;;) {
      const ta = next < n ? w.timeMs[next]! : Infinity;
      if (ta === Infinity && events.size === 0) break;
      if (ta <= events.peekKey()) {
        this.now = ta;
        const i = next++;
        if (this.arrive(i, id)) id++;
        continue;
      }
      this.now = events.peekKey();
      const e = events.pop()!;
      switch (e.kind) {
        case Ev.Enqueue:
          this.onEnqueue(e.dev!, e.req!);
          break;
        case Ev.Done:
          this.onDone(e.dev!, e.batch!);
          break;
        case Ev.Step:
          this.onStep(e.dev!, e.group!, e.version!);
          break;
        case Ev.Loaded:
          this.onLoaded(e.dev!, e.service!);
          break;
        case Ev.Sync:
          this.onSync();
          break;
        case Ev.Place:
          this.replan();
          break;
        case Ev.Fail:
          this.onFail(e.dev!);
          break;
      }
    }
    return this.finish();
  }

  private at(t: number, kind: Ev, dev?: Dev, req?: Req, batch?: Batch, service?: string): void {
    this.events.push(t, this.seq++, { kind, dev, req, batch, service });
  }

  /** Row `i` of the workload arrives now as request `id` and is routed from its ingress; false for a row of an unknown service. */
  private arrive(i: number, id: number): boolean {
    const w = this.w;
    const spec = this.svcOfRow[w.service[i]!];
    if (!spec) return false;
    const devs = this.devs;
    const now = this.now;
    const ingIdx = w.ingress[i]! >= 0 ? w.ingress[i]! % devs.length : i % devs.length;
    const si = this.siOfRow[w.service[i]!]!;
    const r = newRequest(id, spec, si, now, w.deadlineMs[i]!, w.size[i]!, devs[ingIdx]!);
    this.inFlight[r.si]++;
    this.window.arrivals[si]++;
    this.route(r, r.ingress);
    return true;
  }

  private finishReq(r: Req): void {
    r.finished = true;
    this.inFlight[r.si]--;
    release(r);
  }

  private drop(r: Req, code: string, where: Dev | null): void {
    this.metrics.drop(r.category, code, r.si);
    countAt(where, r, false);
    this.finishReq(r);
  }

  /** Routing from `from` (ingress, or the device that rejected it). */
  private route(r: Req, from: Dev): void {
    const all = this.ready[r.si];
    const tried = r.tried;
    const cands = all ? (tried ? all.filter((u) => !tried.includes(u.devices[0]!)) : all) : undefined;
    if (!cands || cands.length === 0) {
      this.drop(r, tried ? 'infer.deadline' : 'infer.no_device', from);
      return;
    }
    this.candidates.fill(cands, r, from, this.now);
    const ctx = this.routeCtx;
    ctx.ingress = r.ingress.spec.id;
    ctx.service = r.spec.name;
    ctx.nowMs = this.now;
    ctx.deadlineMs = r.deadlineMs;
    const pick = this.router.route(this.candidates, ctx);
    if (pick === null || pick < 0 || pick >= cands.length) {
      // The router refused: EPARA when no replica can meet the deadline, local-only when the ingress does not host the service.
      this.drop(r, tried || this.policy.handler.admission ? 'infer.deadline' : 'infer.no_device', from);
      return;
    }
    const u = cands[pick]!;
    const e = u.devices[0]!;
    if (u.devices.length > 1) u.busyUntilMs = Math.max(u.busyUntilMs, this.candidates.predictedFinishMs(pick) - hopMs(u.devices[u.devices.length - 1]!, r.ingress, this.cfg.links));
    r.unit = u;
    r.entry = e;
    r.stage = 0;
    e.outstanding[r.si]++;
    e.sentMs[r.si] += serviceTimeMs(e.profile, r.spec, u.batch, u.fractions[0]!, r.sizeFactor) / u.batch;
    this.at(this.now + hopMs(from, e, this.cfg.links), Ev.Enqueue, e, r);
  }

  /** Starts what the device can start now: pending model loads first, then batches its handler picks. */
  private kick(d: Dev): void {
    while (d.alive) {
      const slotFree = d.active < d.profile.concurrency;
      const load = slotFree ? d.pendingLoads.shift() : undefined;
      if (load !== undefined) {
        const h = d.hosting.get(load);
        if (!h) continue;
        const ms = loadTimeMs(d.profile, h.service.memoryMiB * h.fraction);
        setActive(d, this.now, 1);
        this.at(this.now + ms, Ev.Loaded, d, undefined, undefined, load);
        continue;
      }
      // Without a free slot only a join to an open continuous batch can start (it needs no slot).
      const batch = slotFree ? d.handler.next() : this.continuous ? d.handler.next({ joinOnly: true }) : null;
      for (const j of d.handler.takeDropped()) {
        const r = live(j);
        if (r) this.drop(r, 'infer.deadline', d);
      }
      if (!batch) return;
      if (batch.continuous) {
        this.join(d, batch);
        continue;
      }
      if (batch.jobs.length > 1 && batch.stage === 0) this.window.observeBatch(batch);
      // Services sharing the device run concurrently, each slowed by the others (FarFly's MT measurement).
      const factor = (1 + d.profile.mtSlowdown * d.active) * Math.exp(this.noise * this.noiseRng.normal());
      const h = d.hosting.get(slotKey(batch.service, batch.stage))!;
      const jobs = batch.jobs;
      const offs = new Array<number>(jobs.length);
      let longest = -Infinity;
      for (let k = 0; k < jobs.length; k++) {
        offs[k] = serviceTimeMs(d.profile, h.service, jobs.length, h.fraction, jobs[k]!.sizeFactor) * factor;
        longest = Math.max(longest, offs[k]!);
      }
      setActive(d, this.now, 1);
      // Jobs of one batch leave as their own work is done.
      d.running.push({ batch, offs });
      this.at(this.now + longest, Ev.Done, d, undefined, batch);
    }
  }

  /** A request reaches device `d` (its entry, or a later pipeline stage). */
  private onEnqueue(d: Dev, r: Req): void {
    const policy = this.policy;
    if (!d.alive || !d.handler.hosts(r.spec.name, r.stage)) {
      if (r.stage === 0 && r.tries < policy.handler.forwardOnReject + 1) {
        r.tries++;
        release(r);
        this.route(r, d.alive ? d : r.ingress);
      } else this.drop(r, 'infer.unknown_service', d);
      return;
    }
    r.forwards = r.tries;
    const code = d.handler.admit(r);
    if (code !== null) {
      if (r.stage === 0 && r.tries < policy.handler.forwardOnReject) {
        r.tries++;
        (r.tried ??= []).push(d);
        release(r);
        this.route(r, d);
      } else this.drop(r, code, d);
      return;
    }
    this.kick(d);
  }

  /** A job's work on device `d` ended at `t`: on to the next pipeline stage, or the response goes back to the ingress. */
  private jobDone(d: Dev, j: InferJob, t: number): void {
    const r = live(j);
    if (!r) return;
    const u = r.unit!;
    if (r.stage + 1 < u.devices.length) {
      const next = u.devices[r.stage + 1]!;
      const links = this.cfg.links;
      const transfer = ((r.spec.activationKiB ?? 0) / 1024 / (d.zone === next.zone ? links.intraZoneMBps : links.interZoneMBps)) * 1000;
      r.stage++;
      this.at(Math.max(this.now, t + hopMs(d, next, links) + transfer), Ev.Enqueue, next, r);
      return;
    }
    const finish = t + hopMs(d, r.ingress, this.cfg.links);
    const met = finish <= r.deadlineMs;
    this.metrics.complete(r.category, finish - r.arrivalMs, met, r.si);
    countAt(r.entry, r, met);
    this.finishReq(r);
  }

  /** A request-level batch ends: its slot is free and each job moves on. */
  private onDone(d: Dev, batch: Batch): void {
    let k = 0;
    while (k < d.running.length && d.running[k]!.batch !== batch) k++;
    if (k === d.running.length) return;
    const { offs } = d.running[k]!;
    d.running.splice(k, 1);
    setActive(d, this.now, -1);
    d.handler.complete(batch);
    const jobs = batch.jobs;
    for (let i = 0; i < jobs.length; i++) this.jobDone(d, jobs[i]!, batch.startMs + offs[i]!);
    this.kick(d);
  }

  /** After a change to an open continuous batch: its next step, or close it and free its slot when empty. */
  private reschedule(d: Dev, g: Group): void {
    g.version++;
    if (g.members.length === 0) {
      d.groups.delete(g.key);
      setActive(d, this.now, -1);
      return;
    }
    this.events.push(nextDueMs(d, g, this.now), this.seq++, { kind: Ev.Step, dev: d, group: g, version: g.version });
  }

  private join(d: Dev, batch: Batch): void {
    const k = slotKey(batch.service, batch.stage);
    const h = d.hosting.get(k)!;
    let g = d.groups.get(k);
    if (g) advance(d, g, this.now);
    else {
      g = openGroup(k, h, batch.stage, this.now);
      d.groups.set(k, g);
      setActive(d, this.now, 1);
    }
    for (const j of batch.jobs) g.members.push({ job: j, remainingMs: serviceTimeMs(d.profile, h.service, 1, h.fraction, j.sizeFactor) * Math.exp(this.noise * this.noiseRng.normal()) });
    this.reschedule(d, g);
  }

  /** The next member of an open continuous batch is due: the members done leave. */
  private onStep(d: Dev, g: Group, version: number): void {
    if (d.groups.get(g.key) !== g || g.version !== version) return;
    advance(d, g, this.now);
    for (const job of takeDone(g, this.now)) {
      d.handler.completeJob(g.service.name, g.stage, job.id);
      this.jobDone(d, job, this.now);
    }
    this.reschedule(d, g);
    this.kick(d);
  }

  /** A model load on `d` finished: the service is ready there. */
  private onLoaded(d: Dev, service: string): void {
    if (!d.alive) return;
    setActive(d, this.now, -1);
    const h = d.hosting.get(service);
    if (h && d.alive) {
      h.loaded = true;
      d.state.services[h.service.name] = { status: 'ready', queueLen: 0, violationRate: 0 };
      syncHandler(d);
      this.ready = readyUnits(this.units);
    }
    this.kick(d);
  }

  /** Every device reports STATE: the routers' view of backlogs and SLO violations is refreshed. */
  private onSync(): void {
    for (const d of this.devs) reportState(d, this.now);
  }

  /** A device fails: it stops and loses its queues and running work; a replanning policy re-places. */
  private onFail(d: Dev): void {
    if (!d.alive) return;
    setActive(d, this.now, 0);
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
      if (r) this.drop(r, 'infer.no_device', d);
    }
    this.ready = readyUnits(this.units);
    if (this.policy.replan) this.replan();
  }

  /** Puts placement `p` on the fleet: loads and unloads, new units, orphaned requests re-routed. */
  private apply(p: Placement, initial: boolean): void {
    const { devs, metrics } = this;
    const newUnits = placeOnFleet(p, this.fleet, metrics, initial);
    this.units = newUnits;
    this.placement = p;
    metrics.placements++;
    const orphans: { r: Req; d: Dev }[] = [];
    for (const d of devs) {
      if (!d.alive) continue;
      for (const j of syncHandler(d)) {
        const r = live(j);
        if (r) orphans.push({ r, d });
      }
    }
    this.ready = readyUnits(this.units);
    for (const { r, d } of orphans) {
      if (r.stage === 0) {
        release(r);
        this.route(r, d);
      } else this.drop(r, 'infer.unknown_service', d);
    }
    for (const d of devs) this.kick(d);
  }

  /** What a policy's planner sees: every device's state and the window's observed demand and batch spread. */
  private clusterState(): ClusterState {
    const now = this.now;
    const observedRps = this.window.observedRps(now);
    for (const d of this.devs) refreshState(d, this.svcIndex);
    const observedSpread = this.window.observedSpread();
    const spreadKnown = Object.keys(observedSpread).length > 0;
    return { nowMs: now, devices: this.devs.map((d) => d.state), links: this.cfg.links, observedRps: now > 0 ? observedRps : undefined, ...(spreadKnown ? { observedSpread } : {}) };
  }

  /** A replanning policy re-places with the window's demand; a new window starts. */
  private replan(): void {
    const st = this.clusterState();
    this.window.roll(st, this.now);
    this.apply(this.policy.place(st, this.cfg.services, this.placement, this.est, this.placeCtx), false);
  }

  private finish(): RunMetrics {
    const { metrics, now } = this;
    const duration = this.w.durationMs;
    // Requests still in flight at the end (none when the run drains) count as misses.
    for (const [name, si] of this.svcIndex) for (; this.inFlight[si]! > 0; this.inFlight[si]!--) metrics.drop(this.specs.get(name)!.category, 'infer.deadline', si);
    return metrics.finish(this.policy.name, this.cfg.load ?? 1, duration, busyMsWithin(this.devs, now, duration), this.devs.length);
  }
}
