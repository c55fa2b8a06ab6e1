/** Random: services on random feasible devices (demand-unaware, once) and a uniformly random replica per request (seeded). */
import { PLAIN_HANDLER, type Policy } from './policy.js';
import { randomPlacement } from './static-placements.js';

export const random: Policy = {
  name: 'random',
  description: 'random feasible placement (static) + uniformly random replica',
  place: randomPlacement,
  replan: false,
  makeRouter: () => ({ route: (replicas, ctx) => Math.floor(ctx.random() * replicas.length) }),
  handler: PLAIN_HANDLER,
};
