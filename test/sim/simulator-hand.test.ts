/**
 * The simulator on a four-request trace whose outcome is worked out by hand.
 *
 * One gpu-server (overhead 1 ms, vision speed 1) hosts service `s` (workMs 10) with batch 1, so every
 * request takes exactly 1 + 10 = 11 ms (noise off). All requests land on that device (no link hops).
 *
 *   A arrives t=0,   budget 50 ms (deadline 50)
 *   B arrives t=5,   budget 50 ms (deadline 55)
 *   D arrives t=6,   budget 10 ms (deadline 16)
 *   C arrives t=100, budget 50 ms (deadline 150)
 *
 * Plain handler (EDF, drop only what already expired, no admission control):
 *   0–11 A (latency 11, met). At 11 the queue holds B (55) and D (16); EDF runs D first:
 *   11–22 D (latency 16 > 10, miss; it had not expired at 11 so it is not dropped).
 *   22–33 B (latency 28, met). 100–111 C (latency 11, met).
 *   → 3 met of 4: attainment 0.75, goodput 3 req/s over the 1 s run, no drops,
 *     latencies [11, 11, 16, 28]: p50 = element 2 = 16, p99 = element 3 = 28,
 *     busy [0, 33] ∪ [100, 111] = 44 ms → utilisation 0.044.
 *
 * EPARA handler (admission control):
 *   B at t=5: backlog = 6 ms left of A, predicted finish 5 + 6 + 11 = 22 ≤ 55 → admitted.
 *   D at t=6: backlog = 5 ms left of A + B's 11 = 16, predicted 6 + 16 + 11 = 33 > 16 → rejected
 *   at once (infer.deadline) instead of running late.
 *   0–11 A, 11–22 B (latency 17), 100–111 C.
 *   → 3 met, 1 dropped (infer.deadline): attainment 0.75, drop rate 0.25, latencies [11, 11, 17]:
 *     p50 = 11, p99 = 17; busy 22 + 11 = 33 ms → utilisation 0.033.
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/scheduler/baselines/policy.js';
import { roundRobinRouter } from '../../src/scheduler/baselines/round-robin.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { simulate } from '../../src/sim/simulator.js';
import { WorkloadBuilder } from '../../src/sim/workload.js';

const S: ServiceSpec = { name: 's', category: 'latency-single', kind: 'vision', memoryMiB: 100, workMs: 10, deadlineMs: 50, demandRps: 4 };

function workload() {
  const b = new WorkloadBuilder();
  for (const [t, budget] of [[0, 50], [5, 50], [6, 10], [100, 50]] as const) b.add({ timeMs: t, service: 's', size: 1, deadlineMs: budget, flow: -1, ingress: 0 });
  return b.build(1000);
}

function policy(handler: Policy['handler']): Policy {
  return {
    name: 'fixed',
    description: 'one replica of s on g, batch 1',
    place: (_st, _sv, cur) => ({ version: cur.version + 1, assignments: [{ service: 's', devices: ['g'], stageFractions: [1], share: 1, batch: 1, rateRps: 0, latencyMs: 0 }] }),
    replan: false,
    makeRouter: roundRobinRouter,
    handler,
  };
}

const run = (handler: Policy['handler']) =>
  simulate({ devices: [{ id: 'g', deviceClass: 'gpu-server', zone: 'z' }], services: [S], workload: workload(), policy: policy(handler), seed: 1, noise: 0, links: { intraZoneMs: 0.3, interZoneMs: 5, intraZoneMBps: 100, interZoneMBps: 10 } });

describe('simulator on a hand-computed trace', () => {
  it('plain EDF server: D runs late, the other three meet their deadlines', () => {
    const m = run({ admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'edf' });
    expect(m.requests).toBe(4);
    expect(m.byCategory['latency-single']).toMatchObject({ total: 4, met: 3, dropped: 0 });
    expect(m.attainment).toBe(0.75);
    expect(m.goodputRps).toBe(3);
    expect(m.dropRate).toBe(0);
    expect(m.p50Ms).toBe(16);
    expect(m.p99Ms).toBe(28);
    expect(m.utilisation).toBeCloseTo(0.044, 12);
  });

  it('admission control rejects D early with infer.deadline, and B finishes sooner', () => {
    const m = run({ admission: true, dropLate: 'predicted', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'edf' });
    expect(m.byCategory['latency-single']).toMatchObject({ total: 4, met: 3, dropped: 1 });
    expect(m.dropsByCode).toEqual({ 'infer.deadline': 1 });
    expect(m.dropRate).toBe(0.25);
    expect(m.p50Ms).toBe(11);
    expect(m.p99Ms).toBe(17);
    expect(m.utilisation).toBeCloseTo(0.033, 12);
  });
});
