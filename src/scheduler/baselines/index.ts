/** EPARA and the baselines it is compared against, in report order. */
import { alpaserveSr } from './alpaserve-sr.js';
import { epara } from './epara.js';
import { leastOutstanding } from './least-outstanding.js';
import { leastViolation } from './least-violation.js';
import { localOnly } from './local-only.js';
import { powerOfTwo } from './power-of-two.js';
import { random } from './random.js';
import { roundRobin } from './round-robin.js';
import type { Policy } from './policy.js';

export type { Policy, Router, ReplicaSet, RouteContext, HandlerSettings, PlacementFn, PlacementContext } from './policy.js';
export { selectiveReplicationPlacement, staticDemandPlacement } from './selective-replication.js';
export { randomPlacement, roundRobinPlacement, localPlacement } from './static-placements.js';

export const POLICIES: readonly Policy[] = [epara, random, roundRobin, leastOutstanding, powerOfTwo, leastViolation, localOnly, alpaserveSr];

export function policyByName(name: string): Policy | undefined {
  return POLICIES.find((p) => p.name === name);
}
