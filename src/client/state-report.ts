/**
 * One service's entry in STATE (SPEC §5.8) from what the device knows about it and its queue's
 * counters since the last report. The protocol version 2 keys (`memKiB`, `busyUs`) are always
 * filled in here; the link leaves them out in a version 1 session (SPEC §8).
 */
import type { ServiceState, ServiceStatus } from '../protocol/index.js';
import type { QueueCounters } from './inference.js';

export interface ReportedService {
  name: string;
  version: string;
  status: ServiceStatus;
  /** The stored artifact, when the service came from a deployment (a registered handler has none). */
  record?: { size: number };
}

const IDLE: QueueCounters = { queueLen: 0, served: 0, violations: 0, batch: 1, busyUs: 0 };

export function serviceStateOf(s: ReportedService, counters: QueueCounters | undefined): ServiceState {
  const c = counters ?? IDLE;
  const out: ServiceState = { name: s.name, version: s.version, status: s.status, queueLen: c.queueLen, served: c.served, violations: c.violations, batch: c.batch, busyUs: c.busyUs };
  // The loaded model holds at least its artifact's bytes; the runtime's own buffers are not seen here.
  if (s.record) out.memKiB = Math.ceil(s.record.size / 1024);
  return out;
}
