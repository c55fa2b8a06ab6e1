/**
 * EPARA scheduler — pure (no I/O, no timers, injected clock), shared by the simulator (virtual time)
 * and the live server adapter (real time).
 *
 * Placement (run every placement period, default 60 s, and when a device is lost or joins):
 *
 *   planPlacement(state: ClusterState, services: ServiceSpec[], current: Placement, { estimator })
 *     -> { placement: Placement, actions: PlacementAction[], stats: PlacementStats }
 *
 *   - `state`: devices (class, memory, GPU count, zone, alive, services from the last STATE with their
 *     smoothed SLO-violation rate) and `observedRps` per service over the last window;
 *   - `current`: the placement in force (EMPTY_PLACEMENT at start); units still earning their place
 *     are kept without load cost, so replanning an unchanged cluster yields no actions;
 *   - `estimator`: service-time and load-time model (src/sim/device-profiles.ts `profileEstimator()`);
 *   - `actions`: per device, in order: 'deploy' (artifact missing, when DeviceState.artifacts is
 *     given), 'load' / 'configure' with settings { batch, replicas, parallelDegree, stage, maxQueue }
 *     (PLACEMENT op settings, SPEC §5.10), and 'unload'.
 *
 * Request handling (one RequestHandler per serving point):
 *
 *   const h = new RequestHandler({ clock, serviceTimeMs, admission?, dropLate?, maxQueue?, adaptiveBatch?, credits?, order? })
 *     (order 'edf' — EPARA, the default — or 'fcfs', the conventional runtime the baselines get)
 *   h.setServices(hosted)      // from the placement; returns queued jobs of services no longer hosted
 *   h.submit(job)              // admits or throws InferError: infer.deadline (501), infer.overloaded (504), infer.unknown_service (500)
 *   h.admit(job)               // the same decision without the exception: null when admitted, else the code
 *   h.next()                   // next batch to run (EDF across services; one batch per service at a time) or null
 *   h.complete(batch)          // adapts the batch size and feeds AIMD credits
 *   h.takeDropped()            // jobs discarded as late while forming batches
 *   h.predictFinishMs(service, stage, size) / h.backlogMs(service)   // for STATE and forwarding
 *
 *   chooseTarget(replicas, deadlineMs) -> { device, index, predictedFinishMs, meetsDeadline } | null
 *     the forwarding decision: earliest predicted finish, fewer reported violations on a near tie.
 *
 * Building blocks: categories.ts (four categories, SLOs, spec validation), allocator.ts (replicas,
 * model-parallel groups, batching), objective.ts (φ and marginal gains), credits.ts (AIMD),
 * edf-queue.ts, baselines/ (the policies compared in the simulator, each with its own placement —
 * baselines/static-placements.ts, baselines/selective-replication.ts — and dispatch).
 */
export * from './types.js';
export { CATEGORIES, categoryOf, sensitivityOf, gpuNeedOf, isCategory, sloOf, validateService, validateServices, type Slo } from './categories.js';
export { allocate, planReplica, planGroup, formGroups, splitModel, chooseBatch, replicasFor, adaptBatch, DEFAULT_ALLOCATOR, type AllocatorOptions, type AllocationSummary } from './allocator.js';
export { objectiveValue, marginalGain, servedValue, demandOf, DEFAULT_OBJECTIVE, type ObjectiveOptions } from './objective.js';
export { planPlacement, unitKey, EMPTY_PLACEMENT, type PlanOptions } from './placement.js';
export { diffPlacement } from './placement-diff.js';
export { PlacementLedger } from './placement-ledger.js';
export { RequestHandler, type RequestHandlerOptions, type HostedService, type Batch, type InferJob } from './request-handler.js';
export { CreditController, CREDIT_OPTIONS, type CreditOptions } from './credits.js';
export { chooseTarget, replicaSet, type ReplicaSet, type ReplicaView, type ForwardDecision } from './forwarding.js';
export { POLICIES, policyByName, type Policy } from './baselines/index.js';
export { inferError, schedError } from './errors.js';
