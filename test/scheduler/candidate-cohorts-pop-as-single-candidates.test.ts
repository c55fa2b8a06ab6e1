import { describe, expect, it } from 'vitest';
import { cohortEntry, takeNext, type CohortMember } from '../../src/scheduler/candidate-cohort.js';
import { Heap } from '../../src/scheduler/heap.js';
import type { Candidate } from '../../src/scheduler/placement-candidate.js';
import type { DeviceState, ServiceSpec } from '../../src/scheduler/types.js';
import { Rng } from '../../src/sim/rng.js';

// A cohort entry must hand out its members exactly when a heap holding each member alone would
// pop them, and skip exactly the members that heap would pop and drop one after another.
const less = (a: Candidate, b: Candidate): boolean => a.bound > b.bound || (a.bound === b.bound && a.key < b.key);
const member: CohortMember = { key: (s, d) => `${s}@${d.id}`, warm: () => false, cost: () => 1 };
const device = (id: string): DeviceState => ({ id, deviceClass: 'microcomputer', zone: 'z', alive: true, memoryMiB: 1, gpuCount: 0, services: {} });
const service = (name: string): ServiceSpec => ({ name, category: 'latency-single', kind: 'vision', memoryMiB: 1, workMs: 1, deadlineMs: 10, demandRps: 1 });

describe('candidate cohorts', () => {
  it('pop in the order single candidates would, skipping only what would be dropped on the spot', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      const bounds = [1, 2, 2, 3, 5].slice(0, 1 + Math.floor(rng.next() * 5)); // shared bounds across services: ties broken by key
      const dropped = new Set<string>();
      const plain = new Heap<Candidate>(less);
      const grouped = new Heap<Candidate>(less);
      for (const sName of ['a', 'b', 'c']) {
        const s = service(sName);
        // Each device gets at most one bound per service (one candidate per pair).
        const boundOf = new Map<string, number>();
        for (let i = 0; i < 40; i++) if (rng.next() < 0.5) boundOf.set(`d${i}`, bounds[Math.floor(rng.next() * bounds.length)]!);
        for (const bound of new Set(boundOf.values())) {
          const members: DeviceState[] = [];
          for (const d of [...boundOf].filter(([, b]) => b === bound).map(([id]) => id).sort().map(device)) {
            const key = member.key(sName, d);
            plain.push({ key, service: s, devices: [d], warm: false, bound, cost: 1 });
            if (rng.next() < 0.4) dropped.add(key);
            // Some go in alone, as a candidate re-pushed at the same bound would be: their keys
            // fall between a cohort's members, which must not overtake them.
            if (rng.next() < 0.3) grouped.push({ key, service: s, devices: [d], warm: false, bound, cost: 1 });
            else members.push(d);
          }
          if (members.length) grouped.push(cohortEntry(s, members, bound, member));
        }
      }
      // Taking a candidate may make others droppable from then on (its device fills up, as
      // accepting a unit does in the greedy): the same rule in both runs, keyed by what was taken.
      const take = (dropped: Set<string>, key: string): void => {
        const id = key.split('@')[1]!;
        if (Number(id.slice(1)) % 3 === 0) for (const sName of ['a', 'b', 'c']) dropped.add(`${sName}@${id}`);
      };
      const droppedRef = new Set(dropped);
      const expected: string[] = [];
      for (let c = plain.pop(); c; c = plain.pop()) {
        if (droppedRef.has(c.key)) continue;
        // The greedy compares a fresh gain with the next entry's bound: that must match too.
        expected.push(`${c.key} next ${plain.peek()?.bound}`);
        take(droppedRef, c.key);
      }
      const droppable = (c: Candidate): boolean => dropped.has(c.key);
      const got: string[] = [];
      for (let c = takeNext(grouped, less, droppable, member); c; c = takeNext(grouped, less, droppable, member)) {
        expect(c.cohort).toBeUndefined();
        if (droppable(c)) continue; // a lone candidate is checked by the greedy itself, as before
        got.push(`${c.key} next ${grouped.peek()?.bound}`);
        take(dropped, c.key);
      }
      expect(got).toEqual(expected);
    }
  });
});
