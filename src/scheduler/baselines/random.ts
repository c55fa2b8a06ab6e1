/** Uniformly random replica (seeded). */
import { selectiveReplicationPlacement } from './selective-replication.js';
import { PLAIN_HANDLER, type Policy } from './policy.js';

export const random: Policy = {
  name: 'random',
  description: 'selective-replication placement + uniformly random replica',
  place: selectiveReplicationPlacement,
  replan: false,
  makeRouter: () => ({ route: (replicas, ctx) => Math.floor(ctx.random() * replicas.length) }),
  handler: PLAIN_HANDLER,
};
