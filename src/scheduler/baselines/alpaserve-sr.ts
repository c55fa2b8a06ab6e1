/**
 * AlpaServe-style baseline (Li et al., OSDI 2023, "Selective Replication", greedy variant):
 * selective replication re-computed every placement period from the observed demand and on device
 * loss, model-parallel groups only where a model fits no device (no category-aware modes, no
 * credits), requests to the replica with the fewest outstanding requests, FCFS device queues with
 * dynamic batching, no EDF. Like AlpaServe's group manager (alpa_serve/simulator/controller.py,
 * GroupManager.handle_request: "Drop this request if it will exceed deadline") a replica rejects at
 * arrival a request whose predicted finish is past its deadline; it does not forward it elsewhere.
 */
import { leastOutstandingRouter } from './least-outstanding.js';
import { PLAIN_HANDLER, type HandlerSettings, type Policy } from './policy.js';
import { selectiveReplicationPlacement } from './selective-replication.js';

/** A conventional FCFS runtime plus AlpaServe's early drop of requests predicted to miss their deadline. */
export const ALPASERVE_HANDLER: HandlerSettings = { ...PLAIN_HANDLER, admission: true };

export const alpaserveSr: Policy = {
  name: 'alpaserve-sr',
  description: 'AlpaServe-style selective replication (greedy, periodic) + shortest queue, FCFS',
  place: selectiveReplicationPlacement,
  replan: true,
  makeRouter: leastOutstandingRouter,
  handler: ALPASERVE_HANDLER,
};
