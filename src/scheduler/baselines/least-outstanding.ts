/** Least outstanding requests (join the shortest queue, as counted by the router; Vidur's LOR). */
import { staticDemandPlacement } from './selective-replication.js';
import { PLAIN_HANDLER, type Policy, type Router } from './policy.js';

export function leastOutstandingRouter(): Router {
  return {
    route(r) {
      let best = 0;
      for (let i = 1; i < r.length; i++) {
        const d = r.outstanding(i) - r.outstanding(best);
        if (d < 0 || (d === 0 && r.device(i) < r.device(best))) best = i;
      }
      return best;
    },
  };
}

export const leastOutstanding: Policy = {
  name: 'least-outstanding',
  description: 'static demand-proportional placement + least outstanding requests',
  place: staticDemandPlacement,
  replan: false,
  makeRouter: leastOutstandingRouter,
  handler: PLAIN_HANDLER,
};
