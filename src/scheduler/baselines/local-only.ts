/**
 * Local only: a request is served where it lands when that device hosts the service; otherwise by
 * one fixed replica chosen from the ingress id (no load-aware forwarding).
 */
import { selectiveReplicationPlacement } from './selective-replication.js';
import { PLAIN_HANDLER, type Policy } from './policy.js';

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const localOnly: Policy = {
  name: 'local-only',
  description: 'selective-replication placement + serve at the ingress device (else a fixed home replica)',
  place: selectiveReplicationPlacement,
  replan: false,
  makeRouter: () => ({
    route(replicas, ctx) {
      for (let i = 0; i < replicas.length; i++) if (replicas.device(i) === ctx.ingress) return i;
      return hash(ctx.ingress + ctx.service) % replicas.length;
    },
  }),
  handler: PLAIN_HANDLER,
};
