/**
 * What a serving policy is made of, so EPARA and every baseline run in the same simulator on the
 * same workload: a placement (where models live), a router (which replica gets a request) and the
 * device-level request-handler settings.
 */
import type { ReplicaSet } from '../forwarding.js';
import type { ClusterState, Estimator, Placement, ServiceSpec } from '../types.js';

export type { ReplicaSet } from '../forwarding.js';

export interface RouteContext {
  /** The serving point the request arrived at. */
  ingress: string;
  service: string;
  nowMs: number;
  deadlineMs: number;
  /** Seeded uniform [0, 1). */
  random: () => number;
}

export interface Router {
  /** Index of the chosen replica in `replicas` (non-empty), or null to drop the request. */
  route(replicas: ReplicaSet, ctx: RouteContext): number | null;
}

/** What a placement may draw on besides the cluster: a seeded uniform [0, 1) source (random placement). */
export interface PlacementContext {
  random: () => number;
}

export type PlacementFn = (state: ClusterState, services: ServiceSpec[], current: Placement, estimator: Estimator, ctx?: PlacementContext) => Placement;

export interface HandlerSettings {
  admission: boolean;
  dropLate: 'expired' | 'predicted';
  adaptiveBatch: boolean;
  credits: boolean;
  /** Further devices tried when the chosen one rejects the request (EPARA forwarding). */
  forwardOnReject: number;
  /** Queue order on the device: earliest deadline first (EPARA) or first come first served (a conventional runtime). */
  order: 'edf' | 'fcfs';
  /** Latency services: batch jobs of similar size together (EPARA's length bucketing; request-handler.ts). */
  sizeAwareBatch?: boolean;
}

export interface Policy {
  name: string;
  description: string;
  /** Initial placement; with `replan`, also called every placement period and on device loss/join. */
  place: PlacementFn;
  replan: boolean;
  makeRouter(): Router;
  handler: HandlerSettings;
}

/**
 * Handler settings of a conventional serving runtime (every baseline): FCFS queue, dynamic batching
 * up to the SLO-feasible batch the allocator chose for the device (what Triton / TorchServe-style
 * runtimes do), a request whose deadline already passed is discarded (the client timed out), no
 * early reject, no flow control, no forwarding.
 */
export const PLAIN_HANDLER: HandlerSettings = { admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'fcfs' };

/** A baseline that places once (no replan) and runs plain handlers: only its placement and its router are its own. */
export function staticPolicy(name: string, description: string, place: PlacementFn, makeRouter: () => Router): Policy {
  return { name, description, place, replan: false, makeRouter, handler: PLAIN_HANDLER };
}
