import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Heap } from '../../src/scheduler/heap.js';

describe('Heap', () => {
  it('pops in comparator order through any interleaving of pushes and pops', () => {
    // An op is a number to push, or null for a pop; the model is a sorted array.
    const ops = fc.array(fc.option(fc.integer({ min: -50, max: 50 }), { nil: null, freq: 3 }), { maxLength: 200 });
    fc.assert(
      fc.property(ops, (list) => {
        const h = new Heap<number>((a, b) => a < b);
        const model: number[] = [];
        for (const op of list) {
          if (op === null) {
            model.sort((a, b) => a - b);
            expect(h.pop()).toBe(model.shift());
          } else {
            h.push(op);
            model.push(op);
          }
          expect(h.size).toBe(model.length);
          expect(h.peek()).toBe(model.length ? Math.min(...model) : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with a (key, arrival) comparator it is a stable priority queue, as the event queue relies on', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 100 }), (keys) => {
        const h = new Heap<{ k: number; seq: number }>((a, b) => a.k < b.k || (a.k === b.k && a.seq < b.seq));
        keys.forEach((k, seq) => h.push({ k, seq }));
        const out: number[] = [];
        for (let e = h.pop(); e; e = h.pop()) out.push(e.seq);
        const expected = keys.map((k, seq) => ({ k, seq })).sort((a, b) => a.k - b.k || a.seq - b.seq).map((e) => e.seq);
        expect(out).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
