/**
 * What one simulation run is made of: devices, placed units, requests in flight and the events
 * that move them (simulation.ts runs them). Plain records: per-service state lives in typed
 * arrays indexed by service, because the router reads it for every replica of every request.
 */
import { slotKey, type Batch, type HostedService, type InferJob, type RequestHandler } from '../scheduler/request-handler.js';
import type { Category, DeviceClass, DeviceState, LinkSpec, ServiceSpec } from '../scheduler/types.js';
import { serviceTimeMs, type DeviceProfile } from './device-profiles.js';

export interface SimDeviceSpec {
  id: string;
  deviceClass: DeviceClass;
  zone: string;
}

/** One placed assignment: a replica (one device) or a pipeline (a device per stage). */
export interface Unit {
  service: ServiceSpec;
  /** Index of the service (svcIndex): per-service state lives in arrays, not maps keyed by name. */
  si: number;
  devices: Dev[];
  fractions: number[];
  batch: number;
  ready: boolean;
  fixedMs: number;
  perSizeMs: number;
  /**
   * Pipelines: the latest predicted finish of the requests the router sent to this unit (what a
   * router knows without any STATE). A later stage's STATE does not show work still upstream.
   */
  busyUntilMs: number;
}

/** An open continuous batch of one hosted service on one device (llmBatching 'continuous'). */
export interface Group {
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

/** A service (or one stage of it) placed on a device. */
export interface Hosting {
  service: ServiceSpec;
  si: number;
  stage: number;
  fraction: number;
  batch: number;
  loaded: boolean;
}

export interface Dev {
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
export interface Req extends InferJob {
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

/** A device of `spec` with nothing placed yet; its handler is set by the caller. */
export function newDevice(idx: number, spec: SimDeviceSpec, zone: number, profile: DeviceProfile, nSvc: number): Dev {
  return {
    idx,
    spec,
    zone,
    order: 0,
    profile,
    state: { id: spec.id, deviceClass: spec.deviceClass, memoryMiB: profile.memoryMiB, gpuCount: profile.gpuCount, zone: spec.zone, alive: true, services: {} },
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
}

/** One link hop between two devices: nothing on the same device, the LAN within a zone, the WAN across. */
export function hopMs(a: Dev, b: Dev, links: LinkSpec): number {
  return a === b ? 0 : a.zone === b.zone ? links.intraZoneMs : links.interZoneMs;
}

/** Idle latency of a unit for a request of `size`: stage times are affine in size, so two numbers per unit suffice. */
export function unitLatency(u: Unit, size: number): number {
  return u.fixedMs + u.perSizeMs * size;
}

/** Sets the unit's two latency coefficients (fixedMs, perSizeMs) from its stages and the hops between them. */
export function unitCoefficients(u: Unit, links: LinkSpec): void {
  let fixed = 0;
  let per = 0;
  for (let i = 0; i < u.devices.length; i++) {
    const d = u.devices[i]!;
    const t0 = serviceTimeMs(d.profile, u.service, 1, u.fractions[i]!, 0);
    fixed += t0;
    per += serviceTimeMs(d.profile, u.service, 1, u.fractions[i]!, 1) - t0;
    if (i > 0) fixed += hopMs(u.devices[i - 1]!, d, links);
  }
  u.fixedMs = fixed;
  u.perSizeMs = per;
}

/**
 * The device reports STATE (every stateSyncMs): the routers' view of its first-stage backlogs is
 * taken now, the work sent since is reset, and the window's met / missed counts fold into the
 * smoothed SLO-violation rate (EWMA, α = 0.25).
 */
export function reportState(d: Dev, nowMs: number): void {
  d.viewBacklogMs.fill(0);
  // Every stage's backlog: a device holds at most one stage of a service, and a router choosing a
  // pipeline needs its later stages' waits too (candidate-units.ts).
  for (const h of d.hosting.values()) d.viewBacklogMs[h.si] = d.alive ? d.handler.backlogMs(h.service.name, h.stage) : Infinity;
  d.viewAt = nowMs;
  d.sentMs.fill(0);
  for (let si = 0; si < d.violation.length; si++) {
    const ok = d.served[si]!;
    const bad = d.missed[si]!;
    if (ok + bad > 0) d.violation[si] = 0.25 * (bad / (ok + bad)) + 0.75 * d.violation[si]!;
  }
  d.served.fill(0);
  d.missed.fill(0);
}

/** A request of `spec` arriving at `ingress` at `nowMs`, not yet routed. */
export function newRequest(id: number, spec: ServiceSpec, si: number, nowMs: number, deadlineMs: number, size: number, ingress: Dev): Req {
  // enqueuedMs starts as a number: a field born undefined and later given doubles makes V8 box each one.
  return { id, service: spec.name, stage: 0, arrivalMs: nowMs, deadlineMs: nowMs + deadlineMs, sizeFactor: size, forwards: 0, enqueuedMs: 0, spec, si, category: spec.category, ingress, unit: null, entry: null, tries: 0, tried: null, finished: false };
}

/** The router sees the request leave its entry device (finished, dropped or re-routed). */
export function release(r: Req): void {
  if (!r.entry) return;
  const o = r.entry.outstanding;
  o[r.si] = Math.max(0, o[r.si]! - 1);
  r.entry = null;
}

/** A request served (met or missed) or dropped at device `d`, for its next STATE's violation rate. */
export function countAt(d: Dev | null, r: Req, met: boolean): void {
  if (!d) return;
  (met ? d.served : d.missed)[r.si]++;
}

/** Batches and loads on `d` change by `delta` at `nowMs`; busy time accrues while any runs. */
export function setActive(d: Dev, nowMs: number, delta: number): void {
  if (d.active > 0) d.busyMs += nowMs - d.activeSince;
  d.activeSince = nowMs;
  d.active += delta;
}

/** The device's handler takes the services loaded on it; returns the jobs it no longer hosts. */
export function syncHandler(d: Dev): InferJob[] {
  const hosted: HostedService[] = [];
  for (const h of d.hosting.values()) if (h.loaded) hosted.push({ spec: h.service, stage: h.stage, workFraction: h.fraction, batch: h.batch });
  return d.handler.setServices(hosted);
}

/** The units whose every stage is alive and loaded, per service index (what the router picks from). */
export function readyUnits(units: readonly Unit[]): Unit[][] {
  const ready: Unit[][] = [];
  for (const u of units) {
    u.ready = u.devices.every((d) => d.alive && d.hosting.get(slotKey(u.service.name, u.devices.indexOf(d)))?.loaded === true);
    if (u.ready) (ready[u.si] ??= []).push(u);
  }
  return ready;
}

/** The device's state as a planner reads it: alive, and each hosted service's violation rate and queue. */
export function refreshState(d: Dev, svcIndex: ReadonlyMap<string, number>): void {
  d.state.alive = d.alive;
  for (const [name, st] of Object.entries(d.state.services)) {
    st.violationRate = d.violation[svcIndex.get(name)!]!;
    st.queueLen = d.handler.queueLength(name);
  }
}

/** The request behind a job a handler hands back, or null when it has finished meanwhile. */
export function live(j: InferJob): Req | null {
  return (j as Req).finished ? null : (j as Req);
}

/** Busy time of the whole fleet within the run's `durationMs` (a batch running at the end counts up to it). */
export function busyMsWithin(devs: readonly Dev[], nowMs: number, durationMs: number): number {
  let busy = 0;
  for (const d of devs) {
    if (d.active > 0) d.busyMs += Math.min(nowMs, durationMs) - Math.min(d.activeSince, durationMs);
    busy += Math.min(d.busyMs, durationMs);
  }
  return busy;
}
