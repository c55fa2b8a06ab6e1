/**
 * Shared types of the EPARA scheduler. Everything here is plain data so the same planner and
 * request handler run in the simulator (virtual time) and in the live server adapter (real time).
 */

// The device classes are the wire protocol's (HELLO deviceClass); one definition for all areas.
export type { DeviceClass } from '../protocol/messages/types.js';
import type { DeviceClass } from '../protocol/messages/types.js';
export { DEVICE_CLASSES } from '../protocol/messages/catalogue.js';

/** Request sensitivity axis: a per-request deadline, or a flow with a target frame rate. */
export type Sensitivity = 'latency' | 'frequency';
/** GPU-need axis: the model fits one device, or it needs a group of devices (model parallel). */
export type GpuNeed = 'single' | 'multi';
export type Category = 'latency-single' | 'latency-multi' | 'frequency-single' | 'frequency-multi';

/** What the scheduler needs to know about a service. Times are milliseconds, rates per second. */
export interface ServiceSpec {
  name: string;
  version?: string;
  category: Category;
  /** Model footprint when loaded (weights + runtime working set). */
  memoryMiB: number;
  /** Workload kind, used by service-time models to pick a device's speed (e.g. 'llm', 'vision', 'tiny'). */
  kind: string;
  /** Mean work of one request at batch 1, in ms on the reference device (a gpu-server). */
  workMs: number;
  /** Latency: the per-request budget. Frequency: the budget of one frame (from capture to result). */
  deadlineMs: number;
  /** Frequency services: frames per second each flow needs. */
  targetFps?: number;
  /** Expected request rate (frequency: flows × fps). Placement replaces it with the observed rate when known. */
  demandRps: number;
  /** Relative importance in the objective (default 1). */
  weight?: number;
  /** Time to load the model on a device (default: from the estimator, else 500 ms). */
  loadMs?: number;
  /** Activation bytes handed from one pipeline stage to the next per request (model-parallel groups). */
  activationKiB?: number;
  /** Upper bound on the batch size (default 16). */
  maxBatch?: number;
  /**
   * Requests of different sizes (LLM prompts and generations): the expected size of the largest
   * request in a full batch over the mean size (≥ 1, default 1). A batch runs until its longest
   * request is done, so a unit's rate is planned at batch / (t(batch) · sizeSpread). Measured from
   * the workload (azure-trace.ts batchSpread: 2.38 for the Azure conversation trace at batch 16).
   */
  sizeSpread?: number;
  /**
   * The same for batches formed by length bucketing (EPARA's handler: only requests at most twice
   * the head's size join), which wait for less than the longest of a random batch
   * (batch-spread.ts bucketedSpread). Planned with when the allocator's `lengthBucketing` is on;
   * default sizeSpread.
   */
  bucketedSpread?: number;
  /**
   * How bursty the service's arrivals are on the time scale of its deadline: the 99th percentile of
   * the requests arriving in a deadline-long window over the mean (≥ 1, default 1), measured from
   * the workload in use. EPARA's planner covers demand × burstFactor: a plan sized to the mean rate
   * put chat-7b of a bursty trace on two batch-1 Jetsons at low load and dropped its bursts.
   */
  burstFactor?: number;
}

export type ServiceStatus = 'loading' | 'ready' | 'failed' | 'unloaded';

/** One service as a device last reported it in STATE. */
export interface ServiceState {
  status: ServiceStatus;
  queueLen: number;
  /** Smoothed (EWMA) fraction of this service's requests that missed their SLO on this device, 0..1. */
  violationRate: number;
}

/** One device as known from HELLO caps and the last STATE. */
export interface DeviceState {
  id: string;
  deviceClass: DeviceClass;
  memoryMiB: number;
  gpuCount: number;
  /** Devices in one zone share a fast link; links between zones are slower (see LinkSpec). */
  zone: string;
  alive: boolean;
  /** Loaded (or loading) services, by name. */
  services: Record<string, ServiceState>;
  /** Services whose artifact is already stored on the device (no DEPLOY needed before a load). */
  artifacts?: string[];
}

export interface LinkSpec {
  intraZoneMs: number;
  interZoneMs: number;
  intraZoneMBps: number;
  interZoneMBps: number;
}

export interface ClusterState {
  nowMs: number;
  devices: DeviceState[];
  links: LinkSpec;
  /** Observed request rate per service over the last window; overrides ServiceSpec.demandRps. */
  observedRps?: Record<string, number>;
  /**
   * Per service, the longest request of the batches its handlers formed lately over their
   * members' mean size (batches of two or more, smoothed). A planner that plans for the handler
   * that formed them (`lengthBucketing` for EPARA's) uses it instead of the spec's estimate: it is
   * what that handler's batching does on the workload in use, not a model of it.
   */
  observedSpread?: Record<string, number>;
}

/**
 * Service-time model the planner and handlers use. `workFraction` is the share of the model a
 * pipeline stage holds (1 for a whole replica); `sizeFactor` scales for one request's size
 * (an LLM prompt twice the mean is 2). Returns Infinity when the device cannot run the kind at all.
 */
export interface Estimator {
  serviceTimeMs(device: DeviceState, service: ServiceSpec, batch: number, workFraction?: number, sizeFactor?: number): number;
  loadTimeMs(device: DeviceState, service: ServiceSpec, memoryMiB: number): number;
  /**
   * How the device runs batches of different services: up to `streams` at once (GPU streams / MPS),
   * each slowed by `slowdown` per other running batch. Without it a device is time-sliced (1, 0).
   */
  sharing?(device: DeviceState): { streams: number; slowdown: number };
}

/**
 * One placed unit: a replica on one device (devices.length === 1) or a pipeline group whose
 * stages run on devices[0], devices[1], … in order (model parallelism).
 */
export interface Assignment {
  service: string;
  devices: string[];
  /** Share of the model each stage holds; sums to 1. */
  stageFractions: number[];
  /** Fraction of the devices' time this unit may use, 0..1 (several services share a device). */
  share: number;
  /** Batch size the allocator chose for this unit. */
  batch: number;
  /** Requests per second this unit serves within SLO at `share` (planning figure). */
  rateRps: number;
  /** Latency of one request at `batch` with an idle device, including links (planning figure). */
  latencyMs: number;
}

export interface Placement {
  version: number;
  assignments: Assignment[];
}

export interface PlacementSettings {
  batch: number;
  replicas: number;
  parallelDegree: number;
  stage: number;
  maxQueue: number;
}

/** What the device-management layer must do to realise a plan, per device. */
export interface PlacementAction {
  device: string;
  action: 'deploy' | 'load' | 'unload' | 'configure';
  service: string;
  version?: string;
  settings?: PlacementSettings;
}

export interface PlacementStats {
  candidates: number;
  evaluations: number;
  accepted: number;
  kept: number;
  loads: number;
  unloads: number;
  objective: number;
  demandRps: Record<string, number>;
  supplyRps: Record<string, number>;
}

export interface PlacementResult {
  placement: Placement;
  actions: PlacementAction[];
  stats: PlacementStats;
}
