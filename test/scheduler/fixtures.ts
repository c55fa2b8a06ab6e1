/** Small clusters and services for the scheduler tests (profiles from src/sim/device-profiles.ts). */
import { PROFILES, profileEstimator } from '../../src/sim/device-profiles.js';
import type { DeviceClass, DeviceState, LinkSpec, ServiceSpec } from '../../src/scheduler/types.js';

export const est = profileEstimator();
export const LINKS: LinkSpec = { intraZoneMs: 0.3, interZoneMs: 5, intraZoneMBps: 117, interZoneMBps: 25 };

export function device(id: string, cls: DeviceClass, zone = 'z0', extra: Partial<DeviceState> = {}): DeviceState {
  const p = PROFILES[cls];
  return { id, deviceClass: cls, memoryMiB: p.memoryMiB, gpuCount: p.gpuCount, zone, alive: true, services: {}, ...extra };
}

export function cam(demandRps: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name: 'seg', category: 'frequency-single', kind: 'vision', memoryMiB: 400, workMs: 4, deadlineMs: 150, targetFps: 10, demandRps, maxBatch: 16, ...extra };
}

export function llm(name: string, memoryMiB: number, demandRps: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name, category: memoryMiB > 24_576 ? 'latency-multi' : 'latency-single', kind: 'llm', memoryMiB, workMs: 2500, deadlineMs: 30_000, demandRps, maxBatch: 16, ...extra };
}
