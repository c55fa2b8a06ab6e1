/**
 * Least outstanding requests (join the shortest queue, as counted by the router; Vidur's LOR).
 * Ties go to the replica listed first, i.e. created first by the placement — what Vidur's
 * min() over its replica map and AlpaServe's select_group_id (first group with the smallest queue)
 * do. (Until this fix ties went to the alphabetically smallest device id, which made the router
 * prefer "embedded-gpu-*" Jetsons over "gpu-server-*" machines by name alone.)
 */
import { staticDemandPlacement } from './selective-replication.js';
import { staticPolicy, type Policy, type Router } from './policy.js';

export function leastOutstandingRouter(): Router {
  return {
    route(r) {
      let best = 0;
      for (let i = 1; i < r.length; i++) {
        const d = r.outstanding(i) - r.outstanding(best);
        if (d < 0) best = i;
      }
      return best;
    },
  };
}

export const leastOutstanding: Policy = staticPolicy('least-outstanding', 'static demand-proportional placement + least outstanding requests', staticDemandPlacement, leastOutstandingRouter);
