/** AlpaServe-style baseline: selective replication (greedy, once) + shortest queue + early drop. */
import { leastOutstandingRouter } from './least-outstanding.js';
import type { Policy } from './policy.js';
import { selectiveReplicationPlacement } from './selective-replication.js';

export const alpaserveSr: Policy = {
  name: 'alpaserve-sr',
  description: 'AlpaServe-style selective replication (greedy, once) + shortest queue + early drop',
  place: selectiveReplicationPlacement,
  replan: false,
  makeRouter: leastOutstandingRouter,
  handler: { admission: true, dropLate: 'predicted', adaptiveBatch: false, credits: false, forwardOnReject: 0 },
};
