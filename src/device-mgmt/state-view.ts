import { EventEmitter } from 'node:events';
import type { ServiceStatus, StateMessage } from '../protocol/messages/types.js';

/**
 * Per-device view built from STATE reports (SPEC §5.8): what gateway apps and the scheduler read.
 * Rates are smoothed with an exponentially weighted moving average so one bad report does not
 * flip a placement decision: ewma' = alpha * sample + (1 - alpha) * ewma.
 */
export interface ServiceView {
  name: string;
  version: string;
  status: ServiceStatus;
  queueLen: number;
  batch?: number;
  /** Requests completed per second, smoothed. */
  servedPerSec: number;
  /** Share of requests that missed their deadline or were rejected, 0..1, smoothed. */
  violationRate: number;
  /** Memory the service holds, KiB (protocol version 2 devices report it). */
  memKiB?: number;
  /** Device time per served request, µs, smoothed (protocol version 2: STATE busyUs / served). */
  busyUsPerServed?: number;
}

export interface DeviceStateView {
  deviceId: string;
  /** 0..1 */
  load: number;
  memFreeKiB: number;
  /** 0..1 when reported. */
  gpu?: number;
  temperatureC?: number;
  powerMw?: number;
  services: ServiceView[];
  /** Smoothed round-trip time from PING/PONG and heartbeats, when measured. */
  rttMs?: number;
  /** 0..1: share of frames that arrived intact / were sent without retry, smoothed. */
  linkQuality: number;
  rssiDbm?: number;
  uptimeMs: number;
  /** Server clock (ms since epoch) of the last report. */
  updatedAt: number;
  reports: number;
}

/** The STATE fields this module reads: the protocol's StateMessage without its type tag. */
export type StateReport = Omit<StateMessage, 'type'>;

export const DEFAULT_EWMA_ALPHA = 0.3;

function ewma(prev: number | undefined, sample: number, alpha: number): number {
  return prev === undefined ? sample : alpha * sample + (1 - alpha) * prev;
}

export function emptyView(deviceId: string, now: number): DeviceStateView {
  return { deviceId, load: 0, memFreeKiB: 0, services: [], linkQuality: 1, uptimeMs: 0, updatedAt: now, reports: 0 };
}

/**
 * Folds one STATE report into the view. `served` and `violations` count since the last STATE, so
 * the per-second rate uses the device's own uptime delta (no clock sync needed).
 */
export function applyState(prev: DeviceStateView, r: StateReport, now: number, alpha = DEFAULT_EWMA_ALPHA): DeviceStateView {
  const dtMs = prev.reports > 0 && r.uptimeMs > prev.uptimeMs ? r.uptimeMs - prev.uptimeMs : undefined;
  const oldServices = new Map(prev.services.map((s) => [s.name, s]));
  const services: ServiceView[] = r.services.map((s) => {
    const old = oldServices.get(s.name);
    const finished = s.served + s.violations;
    const violationSample = finished > 0 ? s.violations / finished : 0;
    const rateSample = dtMs ? (s.served * 1000) / dtMs : undefined;
    const v: ServiceView = {
      name: s.name,
      version: s.version,
      status: s.status,
      queueLen: s.queueLen,
      servedPerSec: rateSample === undefined ? old?.servedPerSec ?? 0 : ewma(old?.servedPerSec, rateSample, alpha),
      // No finished requests in this interval tells nothing about violations: keep the estimate.
      violationRate: finished > 0 ? ewma(old?.violationRate, violationSample, alpha) : old?.violationRate ?? 0,
    };
    if (s.batch !== undefined) v.batch = s.batch;
    if (s.memKiB !== undefined) v.memKiB = s.memKiB;
    // An interval that served nothing says nothing about the time per request: keep the estimate.
    const perServed = s.busyUs !== undefined && s.served > 0 ? ewma(old?.busyUsPerServed, s.busyUs / s.served, alpha) : old?.busyUsPerServed;
    if (perServed !== undefined) v.busyUsPerServed = perServed;
    return v;
  });
  let linkQuality = prev.linkQuality;
  if (r.frames) {
    const total = r.frames.good + r.frames.badCrc + r.frames.oversize;
    if (total > 0) linkQuality = ewma(prev.reports > 0 ? prev.linkQuality : undefined, r.frames.good / total, alpha);
  } else if (r.link) {
    // Without frame counters, retries and receive errors per report are the signal.
    const bad = r.link.rxErrors + r.link.txRetries;
    linkQuality = ewma(prev.reports > 0 ? prev.linkQuality : undefined, bad === 0 ? 1 : 1 / (1 + bad), alpha);
  }
  const next: DeviceStateView = {
    deviceId: prev.deviceId,
    load: r.loadPermille / 1000,
    memFreeKiB: r.memFreeKiB,
    services,
    linkQuality,
    uptimeMs: r.uptimeMs,
    updatedAt: now,
    reports: prev.reports + 1,
  };
  if (r.gpuPermille !== undefined) next.gpu = r.gpuPermille / 1000;
  if (r.temperatureDeciC !== undefined) next.temperatureC = r.temperatureDeciC / 10;
  if (r.powerMw !== undefined) next.powerMw = r.powerMw;
  if (r.link?.rssiDbm !== undefined) next.rssiDbm = r.link.rssiDbm;
  if (prev.rttMs !== undefined) next.rttMs = prev.rttMs;
  return next;
}

export function applyRtt(prev: DeviceStateView, rttMs: number, alpha = DEFAULT_EWMA_ALPHA): DeviceStateView {
  return { ...prev, rttMs: ewma(prev.rttMs, rttMs, alpha) };
}

/** Holds every device's view and notifies subscribers of changes. */
export class StateViews {
  private readonly views = new Map<string, DeviceStateView>();
  private readonly emitter = new EventEmitter();

  constructor(private readonly alpha = DEFAULT_EWMA_ALPHA) {
    this.emitter.setMaxListeners(0);
  }

  get(deviceId: string): DeviceStateView | undefined {
    return this.views.get(deviceId);
  }

  all(): DeviceStateView[] {
    return [...this.views.values()];
  }

  report(deviceId: string, r: StateReport, now: number): DeviceStateView {
    const v = applyState(this.views.get(deviceId) ?? emptyView(deviceId, now), r, now, this.alpha);
    this.views.set(deviceId, v);
    this.emitter.emit('change', v);
    return v;
  }

  rtt(deviceId: string, rttMs: number, now: number): DeviceStateView {
    const v = applyRtt(this.views.get(deviceId) ?? emptyView(deviceId, now), rttMs, this.alpha);
    this.views.set(deviceId, v);
    this.emitter.emit('change', v);
    return v;
  }

  delete(deviceId: string): void {
    this.views.delete(deviceId);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (view: DeviceStateView) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
