import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedHeap } from '../../src/scheduler/keyed-heap.js';

describe('KeyedHeap', () => {
  it('pops in (key, seq) order through any interleaving of pushes and pops, as a sort would', () => {
    // An op is a key to push (with the next seq), or null for a pop; the model is an array sorted by (key, seq).
    const ops = fc.array(fc.option(fc.integer({ min: -5, max: 5 }), { nil: null, freq: 3 }), { maxLength: 300 });
    fc.assert(
      fc.property(ops, (list) => {
        const h = new KeyedHeap<string>();
        const model: { key: number; seq: number }[] = [];
        let seq = 0;
        for (const op of list) {
          if (op === null) {
            model.sort((a, b) => a.key - b.key || a.seq - b.seq);
            const m = model.shift();
            expect(h.pop()).toBe(m ? `${m.key}/${m.seq}` : undefined);
          } else {
            // Seqs are pushed out of order too (the EDF queue's seq is shared by all its queues).
            const s = (seq++ * 7919) % 1009;
            h.push(op, s, `${op}/${s}`);
            model.push({ key: op, seq: s });
          }
          expect(h.size).toBe(model.length);
          const least = [...model].sort((a, b) => a.key - b.key || a.seq - b.seq)[0];
          expect(h.peek()).toBe(least ? `${least.key}/${least.seq}` : undefined);
          expect(h.peekKey()).toBe(least ? least.key : Infinity);
        }
      }),
      { numRuns: 300 },
    );
  });
});
