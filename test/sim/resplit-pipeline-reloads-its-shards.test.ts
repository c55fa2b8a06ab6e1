/**
 * A replan that keeps a pipeline on the same devices but splits the model differently needs new
 * shards on them: the simulator charges that as loads (the stage serves nothing until its shard is
 * in), as it does for a new unit. One two-stage service over two GPU servers, a request every
 * 10 ms for 3 s (budget 100 ms), a replan every second.
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/scheduler/baselines/policy.js';
import { roundRobinRouter } from '../../src/scheduler/baselines/round-robin.js';
import type { Assignment, ServiceSpec } from '../../src/scheduler/types.js';
import { simulate } from '../../src/sim/simulator.js';
import { GPU_PAIR, LINKS, steadyWorkload } from './fixtures.js';

const S: ServiceSpec = { name: 'big', category: 'latency-multi', kind: 'vision', memoryMiB: 30_000, workMs: 10, deadlineMs: 100, demandRps: 100, maxBatch: 4 };

const pipeline = (split: number[]): Assignment => ({ service: 'big', devices: ['g0', 'g1'], stageFractions: split, share: 1, batch: 4, rateRps: 0, latencyMs: 0 });

/** First plan [0.5, 0.5]; every replan returns `later`. */
function policy(later: number[]): Policy {
  return {
    name: 'fixed-split',
    description: 'one pipeline over g0+g1',
    place: (_st, _sv, cur) => ({ version: cur.version + 1, assignments: [pipeline(cur.version === 0 ? [0.5, 0.5] : later)] }),
    replan: true,
    makeRouter: roundRobinRouter,
    handler: { admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'edf' },
  };
}

const run = (later: number[]) => simulate({ devices: GPU_PAIR, services: [S], workload: steadyWorkload('big', 300, 10, 100, 0), policy: policy(later), seed: 1, noise: 0, links: LINKS, placementMs: 1000 });

describe('simulator: re-split pipeline', () => {
  it('a replan with the same split loads nothing and keeps serving', () => {
    const m = run([0.5, 0.5]);
    expect(m.placements).toBe(3); // t = 0, 1 s, 2 s
    expect(m.loads).toBe(0);
    expect(m.byCategory['latency-multi'].met).toBe(300);
  });

  it('a replan that moves the split loads both shards again, and the pipeline is down while they load', () => {
    const m = run([0.7, 0.3]);
    // Both stages' shards change at 1 s; the replan at 2 s asks for the same split again: no more loads.
    expect(m.loads).toBe(2);
    expect(m.unloads).toBe(0);
    // A 0.7 × 30,000 MiB shard loads for seconds (0.3 s + 0.25 s/GiB): what arrives from 1 s on is lost.
    const met = m.byCategory['latency-multi'].met;
    expect(met).toBeGreaterThanOrEqual(99);
    expect(met).toBeLessThanOrEqual(101);
  });
});
