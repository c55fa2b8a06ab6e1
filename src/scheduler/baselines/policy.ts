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

export type PlacementFn = (state: ClusterState, services: ServiceSpec[], current: Placement, estimator: Estimator) => Placement;

export interface HandlerSettings {
  admission: boolean;
  dropLate: 'expired' | 'predicted';
  adaptiveBatch: boolean;
  credits: boolean;
  /** Further devices tried when the chosen one rejects the request (EPARA forwarding). */
  forwardOnReject: number;
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

/** Handler settings of a conventional server: EDF queue, drop what already expired, fixed batch, no early reject. */
export const PLAIN_HANDLER: HandlerSettings = { admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0 };
