/** Power of two choices: sample two replicas, send to the one with fewer outstanding requests (Ray Serve's default). */
import { staticDemandPlacement } from './selective-replication.js';
import { staticPolicy, type Policy } from './policy.js';

export const powerOfTwo: Policy = staticPolicy('power-of-two', 'static demand-proportional placement + power-of-two-choices on outstanding requests', staticDemandPlacement, () => ({
  route(replicas, ctx) {
    if (replicas.length === 1) return 0;
    const i = Math.floor(ctx.random() * replicas.length);
    let j = Math.floor(ctx.random() * (replicas.length - 1));
    if (j >= i) j++;
    return replicas.outstanding(i) <= replicas.outstanding(j) ? i : j;
  },
}));
