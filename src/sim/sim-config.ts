/**
 * A simulation run's configuration (simulator.ts describes the model; simulation.ts runs it).
 */
import type { Policy } from '../scheduler/baselines/policy.js';
import type { DeviceClass, LinkSpec, ServiceSpec } from '../scheduler/types.js';
import type { DeviceProfile } from './device-profiles.js';
import type { SimDeviceSpec } from './sim-entities.js';
import type { Workload } from './workload.js';

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
  /** How LLM services batch (default 'request'; simulator.ts's header). Every policy runs the same. */
  llmBatching?: LlmBatching;
}

export type LlmBatching = 'request' | 'continuous';

export const LLM_BATCHING: readonly LlmBatching[] = ['request', 'continuous'];
