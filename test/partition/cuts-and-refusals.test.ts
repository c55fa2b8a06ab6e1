import { describe, expect, it } from 'vitest';
import { chooseCuts, partitionOnnx, PartitionError } from '../../src/partition/index.js';
import { deepChain, twoTowers } from './generated-nets.js';

describe('chooseCuts', () => {
  const chain = (n: number, bytes: (p: number) => number) => Array.from({ length: n - 1 }, (_, p) => ({ from: p, to: p + 1, bytes: bytes(p), typed: true }));

  it('balances by the shares asked for', () => {
    const c = chooseCuts({ weights: new Array(10).fill(10), tensors: chain(10, () => 4), shares: [0.3, 0.7] });
    expect('cuts' in c && c.cuts).toEqual([3]);
  });

  it('within the tolerance, cuts where the fewest bytes cross', () => {
    // Equal weights, shares 50/50: position 5 is the balanced cut, but the tensor after node 3 is tiny.
    const c = chooseCuts({ weights: new Array(10).fill(10), tensors: chain(10, (p) => (p === 3 ? 1 : 1000)), shares: [0.5, 0.5], tolerance: 0.15 });
    expect('cuts' in c && c.cuts).toEqual([4]);
    expect('cuts' in c && c.crossing).toEqual([{ count: 1, bytes: 1 }]);
  });

  it('never exceeds a stage cap and never cuts an untyped tensor', () => {
    const tensors = chain(10, () => 4).map((t) => (t.from === 4 ? { ...t, typed: false } : t));
    const c = chooseCuts({ weights: new Array(10).fill(10), tensors, shares: [0.5, 0.5], caps: [45, undefined] });
    expect('cuts' in c && c.cuts).toEqual([4]);
    const none = chooseCuts({ weights: new Array(4).fill(10), tensors: chain(4, () => 4), shares: [0.5, 0.5], caps: [5, 5] });
    expect('impossible' in none && none.impossible).toMatch(/more than any stage may hold/);
  });
});

describe('partitionOnnx refuses what it cannot do with a typed error', () => {
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(PartitionError);
    const pe = e as PartitionError;
    expect(pe.reason.length).toBeGreaterThan(0);
    expect(pe.hint.length).toBeGreaterThan(0);
    return pe;
  };
  it('bytes that are not a model', async () => {
    expect((await refusal(partitionOnnx(new Uint8Array([1, 2, 3, 4, 5]), { shares: [0.5, 0.5] }))).code).toBe('partition.bad_model');
  });
  it('shares that do not sum to 1, or a single stage', async () => {
    expect((await refusal(partitionOnnx(deepChain(3, 4), { shares: [0.5, 0.6] }))).code).toBe('partition.bad_request');
    expect((await refusal(partitionOnnx(deepChain(3, 4), { shares: [1] }))).code).toBe('partition.bad_request');
  });
  it('more stages than the graph can be cut into, or memory caps too small', async () => {
    expect((await refusal(partitionOnnx(twoTowers(), { shares: new Array(20).fill(0.05) }))).code).toBe('partition.cannot_cut');
    expect((await refusal(partitionOnnx(deepChain(4, 16), { shares: [0.5, 0.5], capBytes: [100, 100] }))).code).toBe('partition.cannot_cut');
  });
});
