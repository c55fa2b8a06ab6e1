/** Round-robin over the replicas of each service (FarFly's and Vidur's baseline). */
import { selectiveReplicationPlacement } from './selective-replication.js';
import { PLAIN_HANDLER, type Policy, type Router } from './policy.js';

export function roundRobinRouter(): Router {
  const next = new Map<string, number>();
  return {
    route(replicas, ctx) {
      const i = next.get(ctx.service) ?? 0;
      next.set(ctx.service, i + 1);
      return i % replicas.length;
    },
  };
}

export const roundRobin: Policy = {
  name: 'round-robin',
  description: 'selective-replication placement + round-robin',
  place: selectiveReplicationPlacement,
  replan: false,
  makeRouter: roundRobinRouter,
  handler: PLAIN_HANDLER,
};
