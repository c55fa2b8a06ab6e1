/** Random: services on random feasible devices (demand-unaware, once) and a uniformly random replica per request (seeded). */
import { staticPolicy, type Policy } from './policy.js';
import { randomPlacement } from './static-placements.js';

export const random: Policy = staticPolicy('random', 'random feasible placement (static) + uniformly random replica', randomPlacement, () => ({ route: (replicas, ctx) => Math.floor(ctx.random() * replicas.length) }));
