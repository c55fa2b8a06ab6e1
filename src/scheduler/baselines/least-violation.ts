/** Least violation: the replica with the lowest smoothed SLO-violation rate from the last STATE (FarFly's baseline); ties rotate. */
import { staticDemandPlacement } from './selective-replication.js';
import { staticPolicy, type Policy } from './policy.js';

export const leastViolation: Policy = staticPolicy('least-violation', 'static demand-proportional placement + lowest reported SLO-violation rate', staticDemandPlacement, () => {
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
});
