/** Small fleets and workloads for the simulator tests. */
import type { SimDeviceSpec } from '../../src/sim/simulator.js';
import { WorkloadBuilder, type Workload } from '../../src/sim/workload.js';

export const LINKS = { intraZoneMs: 0.3, interZoneMs: 5, intraZoneMBps: 100, interZoneMBps: 10 };

/** Two GPU servers, g0 and g1, in one zone. */
export const GPU_PAIR: SimDeviceSpec[] = [
  { id: 'g0', deviceClass: 'gpu-server', zone: 'z' },
  { id: 'g1', deviceClass: 'gpu-server', zone: 'z' },
];

/** `count` requests of `service`, one every `everyMs` from t = 0, each with `deadlineMs`, landing on device `ingress`. */
export function steadyWorkload(service: string, count: number, everyMs: number, deadlineMs: number, ingress: number): Workload {
  const b = new WorkloadBuilder();
  for (let i = 0; i < count; i++) b.add({ timeMs: i * everyMs, service, size: 1, deadlineMs, flow: -1, ingress });
  return b.build(count * everyMs);
}
