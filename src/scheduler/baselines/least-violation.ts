/** Least violation: the replica with the lowest smoothed SLO-violation rate from the last STATE (FarFly's baseline); ties rotate. */
import { staticDemandPlacement } from './selective-replication.js';
import { PLAIN_HANDLER, type Policy } from './policy.js';

export const leastViolation: Policy = {
  name: 'least-violation',
  description: 'static demand-proportional placement + lowest reported SLO-violation rate',
  place: staticDemandPlacement,
  replan: false,
  makeRouter: () => {
    let turn = 0;
    return {
      route(replicas) {
        let min = Infinity;
        for (let i = 0; i < replicas.length; i++) min = Math.min(min, replicas.violationRate(i));
        const ties: number[] = [];
        for (let i = 0; i < replicas.length; i++) if (replicas.violationRate(i) <= min + 1e-9) ties.push(i);
        return ties[turn++ % ties.length]!;
      },
    };
  },
  handler: PLAIN_HANDLER,
};
