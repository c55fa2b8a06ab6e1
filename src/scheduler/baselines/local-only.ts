/**
 * Local only: every device loads, on its own, the single-device services it can serve (most demanded
 * first, while memory lasts), and a request is served by the device it arrives at or dropped — no
 * forwarding between devices, hence no model-parallel groups either.
 */
import { staticPolicy, type Policy } from './policy.js';
import { localPlacement } from './static-placements.js';

export const localOnly: Policy = staticPolicy('local-only', 'each device loads what it can serve alone; a request is served where it arrives or dropped', localPlacement, () => ({
  route(replicas, ctx) {
    for (let i = 0; i < replicas.length; i++) if (replicas.device(i) === ctx.ingress) return i;
    return null;
  },
}));
