/**
 * AlpaServe-style baseline (Li et al., OSDI 2023, "Selective Replication", greedy variant):
 * selective replication re-computed every placement period from the observed demand and on device
 * loss, model-parallel groups only where a model fits no device (no category-aware modes, no
 * credits), requests to the replica with the fewest outstanding requests, FCFS device queues with
 * dynamic batching, no EDF and no admission control.
 */
import { leastOutstandingRouter } from './least-outstanding.js';
import { PLAIN_HANDLER, type Policy } from './policy.js';
import { selectiveReplicationPlacement } from './selective-replication.js';

export const alpaserveSr: Policy = {
  name: 'alpaserve-sr',
  description: 'AlpaServe-style selective replication (greedy, periodic) + shortest queue, FCFS',
  place: selectiveReplicationPlacement,
  replan: true,
  makeRouter: leastOutstandingRouter,
  handler: PLAIN_HANDLER,
};
