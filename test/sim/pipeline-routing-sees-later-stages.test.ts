/**
 * A router choosing between pipelines must see their later stages: a request that clears stage 0
 * at once still waits behind a long batch at stage 1. Two identical two-stage pipelines of one
 * latency service; a long request goes first to the first pipeline (the tie-break), and while it
 * runs at that pipeline's stage 1 (stage 0 idle again, no STATE since) a short request arrives. Seen
 * from stage 0 both pipelines are idle; only what the router sent the first one (still upstream of
 * its last stage's STATE) says it is busy. Before the fix the short request followed the
 * tie-break into the busy pipeline and missed its deadline (the conv trace's chat-13b at ×0.125 and
 * ×0.5, docs/scheduling.md §7); now it takes the idle one and meets it.
 */
import { describe, expect, it } from 'vitest';
import { epara } from '../../src/scheduler/baselines/epara.js';
import type { Policy } from '../../src/scheduler/baselines/policy.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { simulate } from '../../src/sim/simulator.js';
import { WorkloadBuilder } from '../../src/sim/workload.js';
import { LINKS } from './fixtures.js';

const BIG: ServiceSpec = { name: 'big', category: 'latency-multi', kind: 'llm', memoryMiB: 30_000, workMs: 1000, deadlineMs: 60_000, demandRps: 0.1, maxBatch: 1 };
const devices = ['g0', 'g1', 'g2', 'g3'].map((id) => ({ id, deviceClass: 'gpu-server' as const, zone: 'z' }));

/** EPARA's router and handler on two fixed pipelines (g0→g1, g2→g3), never re-planned. */
const twoPipelines: Policy = {
  ...epara,
  name: 'epara-fixed',
  replan: false,
  place: (_st, _sv, cur) => ({
    version: cur.version + 1,
    assignments: [
      { service: 'big', devices: ['g0', 'g1'], stageFractions: [0.5, 0.5], share: 1, batch: 1, rateRps: 0.1, latencyMs: 1000 },
      { service: 'big', devices: ['g2', 'g3'], stageFractions: [0.5, 0.5], share: 1, batch: 1, rateRps: 0.1, latencyMs: 1000 },
    ],
  }),
};

describe('routing between pipelines', () => {
  it('a short request does not follow the tie-break into a pipeline whose stage 1 runs a long request', () => {
    const b = new WorkloadBuilder();
    // Loads take well under 2 s; the long request (8× the mean) then holds each stage for seconds.
    b.add({ timeMs: 2000, service: 'big', size: 8, deadlineMs: 60_000, flow: -1, ingress: 0 });
    // Late in the long request's stage 1, after its stage 0 is done.
    b.add({ timeMs: 2000 + 6500, service: 'big', size: 0.1, deadlineMs: 1500, flow: -1, ingress: 0 });
    const m = simulate({ devices, services: [BIG], workload: b.build(30_000), policy: twoPipelines, seed: 1, noise: 0, links: LINKS, stateSyncMs: 3000 });
    expect(m.requests).toBe(2);
    expect(m.byCategory['latency-multi'].met).toBe(2);
  });
});
