/**
 * EPARA itself as a policy: state-aware submodular placement re-run every placement period and on
 * device loss/join, earliest-predicted-finish forwarding, admission control, adaptive batching and
 * AIMD credits at every serving point.
 */
import { chooseTarget } from '../forwarding.js';
import { planPlacement } from '../placement.js';
import type { Policy } from './policy.js';

export const epara: Policy = {
  name: 'epara',
  description: 'EPARA: state-aware submodular placement + earliest-finish forwarding + admission + AIMD credits',
  place: (state, services, current, estimator) => planPlacement(state, services, current, { estimator }).placement,
  replan: true,
  makeRouter: () => ({
    route(replicas, ctx) {
      return chooseTarget(replicas, ctx.deadlineMs)?.index ?? null;
    },
  }),
  handler: { admission: true, dropLate: 'predicted', adaptiveBatch: true, credits: true, forwardOnReject: 2, order: 'edf', sizeAwareBatch: true },
};
