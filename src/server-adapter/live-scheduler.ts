import type { DeploymentRecord } from '../device-mgmt/registry/store.js';
import type { StateViews } from '../device-mgmt/state-view.js';
import { ConfigError } from '../errors.js';
import { sensitivityOf } from '../scheduler/categories.js';
import type { DeviceClass, ServiceSpec } from '../scheduler/types.js';
import { DECLARATION_SPECS, ServiceCatalogue, type ServiceDeclaration } from './service-catalogue.js';
import { ServiceStats, type ServiceWindow } from './service-stats.js';
import { ServiceTimes } from './service-times.js';
import { SCHEDULER_NAMES, type PlacementRound, type SchedulerConfig, type SchedulerName } from './scheduler-wiring.js';

/**
 * The scheduler a gateway runs by default. EparaServer's `scheduler` option is a policy name
 * ('epara' — the default —, 'round-robin', 'least-outstanding'), 'off', or a full SchedulerConfig
 * for a program that writes its own ServiceSpecs and Estimator. With a name, the planner's
 * services are what was deployed (the ServiceCatalogue's declarations and the deployment records:
 * version, artifact size), its demand is declared or measured (ServiceStats), and its speed model
 * is learned from INFER results (ServiceTimes). The planner, the diff and the forwarding rule are
 * src/scheduler's, through scheduler-wiring.ts.
 */
export type SchedulerOption = SchedulerName | 'off' | SchedulerConfig;

/** A deployed service nobody measured yet keeps this much planned demand, so it stays placed. */
export const MIN_DEMAND_RPS = 1;
/** Reference-device work of one request until the service is measured (ms on a gpu-server). */
export const DEFAULT_WORK_MS = 1;
/** Below this artifact size an ONNX model counts as a tiny workload (MCU / FPGA class) until declared otherwise. */
const TINY_BYTES = 1 << 20;
/** How long the built service list is reused by the router before it is rebuilt from the registry. */
const SPECS_TTL_MS = 1000;

export function resolveSchedulerOption(v: unknown): SchedulerOption {
  if (v === undefined) return 'epara';
  if (v === false) return 'off';
  if (typeof v === 'object' && v !== null && Array.isArray((v as SchedulerConfig).services)) return v as SchedulerConfig;
  if (typeof v === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(v)) return v as SchedulerOption;
  throw new ConfigError({
    code: 'config.scheduler',
    reason: `scheduler ${JSON.stringify(typeof v === 'string' ? v.slice(0, 40) : typeof v)} is not ${SCHEDULER_NAMES.join(', ')} or a SchedulerConfig`,
    hint: `choose one of ${SCHEDULER_NAMES.join(', ')}, e.g. epara serve --scheduler epara`,
    field: 'scheduler',
  });
}

export interface LiveSchedulerHost {
  /** Ready deployment records (the artifacts the planner can place). */
  readyDeployments(): DeploymentRecord[];
  views: StateViews;
  requestMs: number;
  /** The artifact formats a connected device announced in HELLO (caps.formats; undefined: not said). */
  formatsOf(deviceId: string): readonly string[] | undefined;
}

/** One finished infer() as the scheduler learns from it. */
export interface InferOutcome {
  service: string;
  deviceId?: string;
  deviceClass?: DeviceClass;
  computeUs?: number;
  latencyMs: number;
  ok: boolean;
}

export interface PlacementView {
  scheduler: SchedulerName | 'off';
  planVersion: number;
  madeAt: number | null;
  planningMs: number | null;
  devices: Array<{ id: string; units: Array<{ service: string; stage?: number; stages?: number; replicas?: number; batch?: number; share?: number }> }>;
}

export interface ServiceView extends ServiceWindow {
  service: string;
  category: ServiceDeclaration['category'];
  version?: string;
  sloMs: number;
  fps?: number;
  weight: number;
  declaredRps: number | null;
  measuredRps: number | null;
  /** The demand the planner plans for: declared, else measured, at least MIN_DEMAND_RPS. */
  plannedRps: number;
  memoryMiB: number;
  /** Measured batch-1 compute time per device class, ms. */
  serviceTimeMs: Partial<Record<DeviceClass, number>>;
  samples: number;
}

export class LiveScheduler {
  readonly catalogue: ServiceCatalogue;
  readonly times: ServiceTimes;
  /** Artifact kind of each service's latest ready deployment (what a device must take to run it). */
  private readonly kinds = new Map<string, string>();
  readonly stats = new ServiceStats();
  readonly name: SchedulerName | 'off';
  private readonly cfg: SchedulerConfig | undefined;
  private readonly explicit: boolean;
  private builtAt = -Infinity;
  /** The last placement round with when it was made and how long planning took. */
  last: { round: PlacementRound; madeAt: number; planningMs: number } | undefined;

  constructor(option: unknown, dataDir: string | undefined, private readonly h: LiveSchedulerHost) {
    const o = resolveSchedulerOption(option);
    this.times = new ServiceTimes((deviceId, service) => {
      const kind = this.kinds.get(service);
      const formats = h.formatsOf(deviceId);
      return kind === undefined || formats === undefined || formats.includes(kind);
    });
    this.catalogue = new ServiceCatalogue(dataDir);
    this.explicit = typeof o === 'object';
    this.name = typeof o === 'object' ? o.policy ?? 'epara' : o;
    this.cfg = typeof o === 'object' ? o : o === 'off' ? undefined : { services: [], estimator: this.times, policy: o };
  }

  get enabled(): boolean {
    return this.cfg !== undefined;
  }

  /** The config the planner and router use now (services rebuilt at most every SPECS_TTL_MS). */
  config(now = Date.now()): SchedulerConfig | undefined {
    if (!this.cfg || this.explicit) return this.cfg;
    if (now - this.builtAt > SPECS_TTL_MS) {
      this.cfg.services = this.specs();
      this.builtAt = now;
    }
    return this.cfg;
  }

  /** Declares (or updates) a service; fields not given keep their earlier values. */
  declare(d: ServiceDeclaration): ServiceDeclaration {
    const before = this.catalogue.get(d.service);
    const merged: ServiceDeclaration = { ...(before?.category === d.category ? before : {}), service: d.service, category: d.category };
    for (const k of ['sloMs', 'fps', 'demandRps', 'weight', 'workload'] as const) if (d[k] !== undefined) (merged as unknown as Record<string, unknown>)[k] = d[k];
    const v = this.catalogue.declare(merged);
    this.builtAt = -Infinity;
    return v;
  }

  arrived(service: string): void {
    this.stats.arrived(service);
  }

  observe(o: InferOutcome, now = Date.now()): void {
    if (o.ok && o.deviceId && o.deviceClass && o.computeUs !== undefined) this.times.observe(o.service, o.deviceId, o.deviceClass, o.computeUs / 1000);
    const spec = this.cfg?.services.find((s) => s.name === o.service);
    const budget = spec?.deadlineMs ?? this.h.requestMs;
    this.stats.finished(o.service, o.latencyMs, o.ok && o.latencyMs <= budget, now);
  }

  /** After a placement round: remember it and close the demand window it ends. */
  roundDone(round: PlacementRound): void {
    this.last = { round, madeAt: round.madeAt, planningMs: round.planningMs };
    this.stats.closeWindow(round.madeAt + round.planningMs);
    this.builtAt = -Infinity;
  }

  /** The planner's view of every deployed service (declared, or recorded by a deployment). */
  specs(): ServiceSpec[] {
    const ready = this.h.readyDeployments();
    const latest = new Map<string, DeploymentRecord>();
    for (const r of ready) if (!latest.has(r.service) || latest.get(r.service)!.id < r.id) latest.set(r.service, r);
    const out: ServiceSpec[] = [];
    for (const [name, rec] of latest) {
      this.kinds.set(name, rec.kind);
      const d = this.catalogue.get(name) ?? { service: name, category: rec.category };
      out.push(this.spec(d, rec));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private spec(d: ServiceDeclaration, rec: DeploymentRecord): ServiceSpec {
    const frequency = sensitivityOf(d.category) === 'frequency';
    const fps = frequency ? d.fps ?? DECLARATION_SPECS.fps.default : undefined;
    // Memory: the artifact, or what a device reports the loaded service takes (STATE memKiB), whichever is more.
    let memKiB = rec.size / 1024;
    for (const v of this.h.views.all()) for (const s of v.services) if (s.name === d.service && s.memKiB !== undefined) memKiB = Math.max(memKiB, s.memKiB);
    const kind = d.workload ?? (rec.kind === 'int8-fc-weights' || rec.size < TINY_BYTES ? 'tiny' : 'vision');
    const measured = this.stats.measuredRps(d.service);
    const demandRps = d.demandRps ?? Math.max(frequency ? fps! : MIN_DEMAND_RPS, measured ?? 0);
    return {
      name: d.service,
      version: rec.version,
      category: d.category,
      memoryMiB: memKiB / 1024,
      kind,
      workMs: this.times.impliedWorkMs(d.service, kind) ?? DEFAULT_WORK_MS,
      deadlineMs: d.sloMs ?? (frequency ? 1000 / fps! : this.h.requestMs),
      ...(fps !== undefined ? { targetFps: fps } : {}),
      demandRps,
      weight: d.weight ?? DECLARATION_SPECS.weight.default,
    };
  }

  placementView(liveDeviceIds: string[]): PlacementView {
    const plan = this.last?.round.result.placement;
    const units = new Map<string, PlacementView['devices'][number]['units']>(liveDeviceIds.map((id) => [id, []]));
    const replicas = new Map<string, number>();
    for (const a of plan?.assignments ?? []) replicas.set(a.service, (replicas.get(a.service) ?? 0) + 1);
    for (const a of plan?.assignments ?? []) {
      a.devices.forEach((id, i) => {
        if (!units.has(id)) units.set(id, []);
        const u: PlacementView['devices'][number]['units'][number] = { service: a.service, replicas: replicas.get(a.service)!, batch: a.batch, share: Math.round(a.share * 1000) / 1000 };
        if (a.devices.length > 1) Object.assign(u, { stage: i, stages: a.devices.length });
        units.get(id)!.push(u);
      });
    }
    return {
      scheduler: this.name,
      planVersion: plan?.version ?? 0,
      madeAt: this.last?.madeAt ?? null,
      planningMs: this.last ? Math.round(this.last.planningMs * 100) / 100 : null,
      devices: [...units].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, u]) => ({ id, units: u })),
    };
  }

  servicesView(now = Date.now()): ServiceView[] {
    const cfg = this.config(now);
    const specs = cfg?.services ?? this.specs();
    return specs.map((s) => {
      const d = this.catalogue.get(s.name);
      const perClass = this.times.perClass(s.name);
      const measured = this.stats.measuredRps(s.name);
      return {
        service: s.name,
        category: s.category,
        ...(s.version ? { version: s.version } : {}),
        sloMs: Math.round(s.deadlineMs * 100) / 100,
        ...(s.targetFps !== undefined ? { fps: s.targetFps } : {}),
        weight: s.weight ?? 1,
        declaredRps: d?.demandRps ?? null,
        measuredRps: measured === undefined ? null : Math.round(measured * 1000) / 1000,
        plannedRps: s.demandRps,
        memoryMiB: Math.round(s.memoryMiB * 1000) / 1000,
        serviceTimeMs: Object.fromEntries(Object.entries(perClass).map(([c, m]) => [c, Math.round(m!.ms * 1000) / 1000])),
        samples: Object.values(perClass).reduce((n, m) => n + m!.samples, 0),
        ...this.stats.window(s.name, now),
      };
    });
  }
}
