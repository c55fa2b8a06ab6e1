import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseTarget, replicaSet, type ReplicaSet, type ReplicaView } from '../../src/scheduler/forwarding.js';

/** The same replicas with `deviceOrder` given as the rank of each id among the ids (`<` order). */
function withOrder(views: ReplicaView[], rank: (id: string) => number): ReplicaSet {
  return { ...replicaSet(views), deviceOrder: (i) => rank(views[i]!.device) };
}

// Few distinct finishes and violation rates, so near ties (and full ties down to the id) are common.
const views = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }).chain((ids) =>
  fc.tuple(
    ...ids.map((device) =>
      fc.record({
        device: fc.constant(device),
        predictedFinishMs: fc.oneof(fc.constantFrom(10, 10.5, 11, 11.5, 12), fc.constant(Infinity)),
        violationRate: fc.constantFrom(0, 0, 0.1, 0.2),
      }),
    ),
  ),
);

describe('chooseTarget with deviceOrder', () => {
  it('picks the same replica as comparing the id strings, when the order is the ids\' rank', () => {
    fc.assert(
      fc.property(views, (vs) => {
        const sorted = vs.map((v) => v.device).sort();
        const rank = (id: string): number => sorted.indexOf(id);
        expect(chooseTarget(withOrder(vs, rank), 20)?.index).toBe(chooseTarget(replicaSet(vs), 20)?.index);
      }),
      { numRuns: 500 },
    );
  });

  it('uses the order it is given for the last tie-break (reversed ranks pick the other device)', () => {
    const vs = [
      { device: 'a', predictedFinishMs: 10, violationRate: 0 },
      { device: 'b', predictedFinishMs: 10.4, violationRate: 0 },
    ];
    expect(chooseTarget(replicaSet(vs), 20)!.device).toBe('a');
    expect(chooseTarget(withOrder(vs, (id) => (id === 'a' ? 1 : 0)), 20)!.device).toBe('b');
  });
});
