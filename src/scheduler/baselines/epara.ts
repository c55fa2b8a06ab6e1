/**
 * EPARA itself as a policy: state-aware submodular placement re-run every placement period and on
 * device loss/join, earliest-predicted-finish forwarding, admission control, adaptive batching and
 * AIMD credits at every serving point.
 */
import { chooseTarget } from '../forwarding.js';
import { planPlacement } from '../placement.js';
import type { Policy } from './policy.js';

const handler: Policy['handler'] = { admission: true, dropLate: 'predicted', adaptiveBatch: true, credits: true, forwardOnReject: 2, order: 'edf', sizeAwareBatch: true };

export const epara: Policy = {
  name: 'epara',
  description: 'EPARA: state-aware submodular placement + earliest-finish forwarding + admission + AIMD credits',
  // The planner models the batches this policy's own handler forms (length bucketing).
  place: (state, services, current, estimator) => planPlacement(state, services, current, { estimator, allocator: { lengthBucketing: handler.sizeAwareBatch === true } }).placement,
  replan: true,
  makeRouter: () => ({
    route(replicas, ctx) {
      return chooseTarget(replicas, ctx.deadlineMs)?.index ?? null;
    },
  }),
  handler,
};
