import { describe, expect, it } from 'vitest';
import { spreadOf } from '../../src/scheduler/allocator.js';
import { bucketedSpread, fcfsSpread } from '../../src/scheduler/batch-spread.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';

describe('batch spread: what a batch of mixed sizes costs, as each handler forms batches', () => {
  it('FCFS: the expected largest of b draws over the mean, exact', () => {
    // Sizes 1 and 3 (mean 2): the largest of 2 draws is 3 unless both are 1 (¼) → E = 2.5.
    expect(fcfsSpread([1, 3], 2)).toBeCloseTo(2.5 / 2, 12);
    expect(fcfsSpread([2, 2, 2], 16)).toBe(1);
    expect(fcfsSpread([], 16)).toBe(1);
  });

  it('length bucketing waits for less than FCFS on a heavy tail, and is 1 for equal sizes', () => {
    const heavy = Array.from({ length: 2000 }, (_, i) => Math.exp(1.4 * Math.sqrt(2) * inverseErf(2 * ((i + 0.5) / 2000) - 1)));
    const f = fcfsSpread(heavy, 16);
    const b = bucketedSpread(heavy, 16);
    expect(f).toBeGreaterThan(4);
    expect(b).toBeLessThan(f);
    expect(b).toBeGreaterThanOrEqual(1);
    expect(bucketedSpread([5, 5, 5], 16)).toBe(1);
    expect(bucketedSpread(heavy, 16)).toBe(b); // deterministic
  });

  it('the allocator charges the bucketed spread only to latency services of a length-bucketing handler, never at batch 1', () => {
    const s: ServiceSpec = { name: 'c', category: 'latency-single', kind: 'llm', memoryMiB: 1, workMs: 1, deadlineMs: 10, demandRps: 1, sizeSpread: 5, bucketedSpread: 1.5 };
    expect(spreadOf(s, 16)).toBe(5);
    expect(spreadOf(s, 16, true)).toBe(1.5);
    expect(spreadOf(s, 1, true)).toBe(1);
    expect(spreadOf({ ...s, category: 'frequency-single', targetFps: 1 }, 16, true)).toBe(5);
    expect(spreadOf({ ...s, bucketedSpread: 9 }, 16, true)).toBe(5); // never above FCFS
  });
});

/** Inverse error function (Giles' approximation): quantiles of a log-normal without randomness. */
function inverseErf(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) p = c + p * w;
  }
  return p * x;
}
