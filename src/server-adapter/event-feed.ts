import type { DeploymentProgress } from '../device-mgmt/deployment/deployer.js';
import { SETTLED_DEPLOYMENT_STATES } from '../device-mgmt/deployment/state-machine.js';
import type { AuditEntry } from '../device-mgmt/registry/store.js';
import type { DeviceStateView } from '../device-mgmt/state-view.js';
import { resolveNumbers } from '../options.js';
import { errorInfo } from '../protocol/index.js';
import { EventLog } from './event-log.js';
import type { DeploymentProgressData, DeviceStateData, PlanChangedData } from './event-stream-types.js';
import type { DeviceInfo, DeviceStateChange } from './events.js';
import type { PlacementRound } from './scheduler-wiring.js';

/**
 * Turns what EparaServer emits into the stream's events (event-stream-types.ts) in its EventLog:
 * session changes become device.* kinds, STATE views become at most one device.state per device
 * per `stateEveryMs` (the newest view wins; the last one is sent when the period ends), deployment
 * progress is sent at once when its state changes and at most every `progressEveryMs` when only
 * the byte count moves, settled deployments become deployment.result, a placement round whose
 * assignments differ from the last becomes plan.changed, and every audit row is sent as is.
 * Rate limiting keeps a fleet's STATE and a large transfer's chunk acks from flushing the buffer.
 */
export interface EventFeedOptions {
  /** Events kept for `Last-Event-ID` resumes. Default 2048. */
  bufferSize?: number;
  /** At most one device.state per device in this period (0: every STATE). Default 5000 ms. */
  stateEveryMs?: number;
  /** At most one byte-count-only deployment.progress per deployment in this period. Default 500 ms. */
  progressEveryMs?: number;
}

export const EVENT_SPECS = {
  bufferSize: { default: 2048, min: 16, max: 1_000_000, integer: true },
  stateEveryMs: { default: 5000, min: 0, max: 3_600_000, integer: true, unit: 'ms' },
  progressEveryMs: { default: 500, min: 0, max: 60_000, integer: true, unit: 'ms' },
};

/** What the feed listens to: the server's own typed events. */
export interface FeedSource {
  on(event: 'device-registered', l: (info: DeviceInfo & { resumed: boolean }) => void): unknown;
  on(event: 'device-state', l: (c: DeviceStateChange) => void): unknown;
  on(event: 'device-view', l: (v: DeviceStateView) => void): unknown;
  on(event: 'deployment-progress', l: (p: DeploymentProgress) => void): unknown;
  on(event: 'audit', l: (e: AuditEntry) => void): unknown;
  on(event: 'placement', l: (r: PlacementRound) => void): unknown;
}

/** Sends at most one value per key per period: the first at once, the newest of the rest when the period ends. */
class Throttle<T> {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, { value: T; timer: NodeJS.Timeout }>();

  constructor(
    private readonly everyMs: number,
    private readonly send: (value: T) => void,
  ) {}

  offer(key: string, value: T, now = Date.now()): void {
    const p = this.pending.get(key);
    if (p) {
      p.value = value;
      return;
    }
    const wait = (this.last.get(key) ?? -Infinity) + this.everyMs - now;
    if (wait <= 0) {
      this.last.set(key, now);
      this.send(value);
      return;
    }
    const timer = setTimeout(() => {
      const q = this.pending.get(key);
      this.pending.delete(key);
      this.last.set(key, Date.now());
      if (q) this.send(q.value);
    }, wait);
    timer.unref();
    this.pending.set(key, { value, timer });
  }

  /** Count `now` as a send for the key (the caller sent something that supersedes it). */
  touch(key: string, now = Date.now()): void {
    this.drop(key);
    this.last.set(key, now);
  }

  /** Forget the key (its pending value is dropped: something newer superseded it). */
  drop(key: string): void {
    const p = this.pending.get(key);
    if (p) clearTimeout(p.timer);
    this.pending.delete(key);
    this.last.delete(key);
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}

export function stateSummary(v: DeviceStateView): DeviceStateData {
  const d: DeviceStateData = {
    deviceId: v.deviceId,
    load: v.load,
    memFreeKiB: v.memFreeKiB,
    linkQuality: v.linkQuality,
    uptimeMs: v.uptimeMs,
    services: v.services.map((s) => ({ name: s.name, version: s.version, status: s.status, queueLen: s.queueLen, servedPerSec: s.servedPerSec, violationRate: s.violationRate })),
    updatedAt: v.updatedAt,
  };
  for (const k of ['gpu', 'temperatureC', 'powerMw', 'rttMs', 'rssiDbm'] as const) if (v[k] !== undefined) d[k] = v[k];
  return d;
}

function progressData(p: DeploymentProgress): DeploymentProgressData {
  const d: DeploymentProgressData = { deploymentId: p.deploymentId, deviceId: p.deviceId, service: p.service, version: p.version, state: p.state, offset: p.offset, size: p.size };
  if (p.interrupted) d.interrupted = true;
  if (p.errorCode) d.errorCode = p.errorCode;
  return d;
}

function planData(r: PlacementRound): PlanChangedData {
  return {
    version: r.result.placement.version,
    assignments: r.result.placement.assignments.map((a) => ({ service: a.service, devices: [...a.devices], batch: a.batch, share: a.share })),
    actions: r.outcomes.map((o) => ({ device: o.action.device, action: o.action.action, service: o.action.service, outcome: o.outcome })),
  };
}

/** Which services run where: equal signatures mean the plan did not change (versions count every round). */
function planSignature(p: PlanChangedData): string {
  return JSON.stringify(p.assignments.map((a) => [a.service, a.devices, a.batch]).sort());
}

export class EventFeed {
  readonly log: EventLog;
  private readonly states: Throttle<DeviceStateView>;
  private readonly progress: Throttle<DeploymentProgress>;
  /** Last state sent per unsettled deployment: a change is sent at once. */
  private readonly deploymentStates = new Map<number, string>();
  private plan = '';

  constructor(source: FeedSource, options: EventFeedOptions = {}) {
    const o = resolveNumbers(EVENT_SPECS, options as Record<string, unknown>, 'events.');
    this.log = new EventLog(o.bufferSize);
    const log = this.log;
    this.states = new Throttle(o.stateEveryMs, (v) => log.append('device.state', stateSummary(v)));
    this.progress = new Throttle(o.progressEveryMs, (p) => log.append('deployment.progress', progressData(p)));

    source.on('device-registered', (info) => {
      if (info.resumed) return; // device-state says device.back
      const d = { deviceId: info.id, state: info.state, deviceClass: info.deviceClass, ...(info.remote ? { remote: info.remote } : {}) };
      log.append('device.registered', d);
    });
    source.on('device-state', (c) => {
      const d = { deviceId: c.deviceId, state: c.state, ...(c.previous ? { previous: c.previous } : {}) };
      if (c.state === 'degraded') log.append('device.degraded', d);
      else if (c.previous === 'degraded' && (c.state === 'active' || c.state === 'registered')) log.append('device.back', d);
      else if (c.state === 'lost') {
        this.states.drop(c.deviceId);
        log.append('device.lost', d);
      } else if (c.state === 'left') {
        this.states.drop(c.deviceId);
        log.append('device.left', d);
      }
    });
    source.on('device-view', (v) => this.states.offer(v.deviceId, v));
    source.on('deployment-progress', (p) => this.onProgress(p));
    source.on('audit', (e) => {
      log.append('audit', { ...e });
      if (e.event === 'device.revoked' && e.deviceId) log.append('device.revoked', { deviceId: e.deviceId, state: 'revoked' });
    });
    source.on('placement', (r) => {
      const d = planData(r);
      const sig = planSignature(d);
      if (sig === this.plan) return;
      this.plan = sig;
      log.append('plan.changed', d);
    });
  }

  private onProgress(p: DeploymentProgress): void {
    const key = String(p.deploymentId);
    if (SETTLED_DEPLOYMENT_STATES.has(p.state)) {
      this.progress.drop(key);
      this.deploymentStates.delete(p.deploymentId);
      const d = { ...progressData(p), ...(p.errorCode ? errorText(p.errorCode) : {}) };
      this.log.append('deployment.result', d);
      return;
    }
    if (this.deploymentStates.get(p.deploymentId) !== p.state || p.interrupted || p.errorCode) {
      // A state change supersedes any byte count still waiting, and opens a period.
      this.progress.touch(key);
      this.deploymentStates.set(p.deploymentId, p.state);
      this.log.append('deployment.progress', progressData(p));
      return;
    }
    this.progress.offer(key, p);
  }

  close(): void {
    this.states.close();
    this.progress.close();
  }
}

function errorText(code: string): { reason?: string; hint?: string } {
  const row = errorInfo(code);
  return row ? { reason: row.reason, hint: row.hint } : {};
}
