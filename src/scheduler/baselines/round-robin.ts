/**
 * Round-robin (FarFly's and Vidur's baseline): replicas spread round-robin over the feasible devices
 * (static, demand-unaware) and requests dispatched round-robin over each service's replicas.
 */
import { staticPolicy, type Policy, type Router } from './policy.js';
import { roundRobinPlacement } from './static-placements.js';

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

export const roundRobin: Policy = staticPolicy('round-robin', 'round-robin placement over feasible devices (static) + round-robin dispatch', roundRobinPlacement, roundRobinRouter);
