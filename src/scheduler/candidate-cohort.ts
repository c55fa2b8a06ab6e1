/**
 * Cohorts: the single-device candidates of one service that start the greedy with the same stale
 * bound, held in the placement heap as one entry instead of one entry per device. Pure.
 *
 * Why: a cold plan pushes a candidate for nearly every (service, device) pair — 947,048 entries
 * for 200 services on 5,000 devices — most of which share their device class's bound, and pops
 * each one (usually only to drop it: its service is covered or its device full). Heap work and the
 * ties broken by comparing key strings were most of the planning time.
 *
 * Exactness: the members are sorted by key and share the bound, so the cohort's current member
 * (its "head", whose key, devices, warmth and cost the entry carries) is the least of them in the
 * heap's order, and the heap's top is exactly what it would be with every member pushed alone.
 * A popped cohort hands out its head as an ordinary candidate and goes back with the next member
 * as its head. Heads the greedy would pop and drop on the spot (a cheap check: chosen, service
 * covered, device full) are skipped in place while the next member still comes before the heap's
 * top — the pops the old heap would have made one after another — so the greedy takes the same
 * decisions in the same order, only without the heap traffic.
 */
import type { Heap } from './heap.js';
import type { Candidate } from './placement-candidate.js';
import type { DeviceState } from './types.js';

export interface Cohort {
  /** Every member, sorted by candidate key; `at` is the head's index. */
  members: readonly DeviceState[];
  at: number;
}

/** What a cohort needs to make a candidate of its next member. */
export interface CohortMember {
  key(service: string, d: DeviceState): string;
  warm(key: string): boolean;
  cost(d: DeviceState): number;
}

/** A cohort entry for `members` (non-empty, sorted by key), all at `bound`. */
export function cohortEntry(service: Candidate['service'], members: readonly DeviceState[], bound: number, m: CohortMember): Candidate {
  const d = members[0]!;
  const key = m.key(service.name, d);
  return { key, service, devices: [d], warm: m.warm(key), bound, cost: m.cost(d), cohort: { members, at: 0 } };
}

/** Moves the entry's head to the next member; false when there is none. */
function advance(e: Candidate, m: CohortMember): boolean {
  const co = e.cohort!;
  if (++co.at >= co.members.length) return false;
  const d = co.members[co.at]!;
  e.key = m.key(e.service.name, d);
  e.devices = [d];
  e.warm = m.warm(e.key);
  e.cost = m.cost(d);
  return true;
}

/**
 * The next candidate the greedy considers: the heap's top, or a cohort's head. Cohort heads that
 * `droppable` says the greedy would drop at once are skipped as described above (their drop has
 * no side effect: the greedy's onDrop only acts on groups, and cohorts are single devices).
 */
export function takeNext(heap: Heap<Candidate>, less: (a: Candidate, b: Candidate) => boolean, droppable: (c: Candidate) => boolean, m: CohortMember): Candidate | undefined {
  for (;;) {
    const e = heap.pop();
    if (!e || !e.cohort) return e;
    for (;;) {
      if (!droppable(e)) {
        const c: Candidate = { key: e.key, service: e.service, devices: e.devices, warm: e.warm, bound: e.bound, cost: e.cost };
        if (advance(e, m)) heap.push(e);
        return c;
      }
      if (!advance(e, m)) break;
      const top = heap.peek();
      if (top && !less(e, top)) {
        heap.push(e);
        break;
      }
    }
  }
}
