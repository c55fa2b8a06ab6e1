/**
 * Continuous (iteration-level) batching of LLM services in the simulated device runtime, on traces
 * worked out by hand. One gpu-server (overhead 1 ms, LLM speed 1, batchBeta 0.08, noise off) hosts
 * `chat` (workMs 1000); requests land on it (no link hops). A job of size s takes t = 1 + 1000·s ms
 * alone; with n jobs in flight every member advances at 1 / (1 + 0.08 (n − 1)).
 *
 * Trace 1: A (size 1) at t = 0, B (size 0.5) at t = 100.
 *   continuous: A alone 0–100 (901 ms of work left). B (501 ms) joins at 100; two in flight, rate
 *   1/1.08: B is done after 501 × 1.08 = 541.08 ms → leaves at 641.08 (latency 541.08); A has
 *   400 ms left, alone again → leaves at 1041.08 (latency 1041.08). Busy 0–1041.08.
 *   request-level: A's batch (alone) holds the device 0–1001; B runs 1001–1502 (latency 1402).
 *   C (size 0.001: 2 ms) at t = 3000 runs alone in both: latencies sorted [2, B, A] → p50 = B, p99 = A.
 *
 * Trace 2 (maxBatch 2): three jobs of size 1 at t = 0.
 *   continuous: two run together and leave at 1001 × 1.08 = 1081.08; the third joins then, alone,
 *   and leaves at 2082.08.
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/scheduler/baselines/policy.js';
import { roundRobinRouter } from '../../src/scheduler/baselines/round-robin.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { simulate, type LlmBatching } from '../../src/sim/simulator.js';
import { WorkloadBuilder } from '../../src/sim/workload.js';

const CHAT: ServiceSpec = { name: 'chat', category: 'latency-single', kind: 'llm', memoryMiB: 100, workMs: 1000, deadlineMs: 60_000, demandRps: 1, maxBatch: 4 };

function policy(service: string): Policy {
  return {
    name: 'fixed',
    description: 'one replica on g',
    place: (_st, _sv, cur) => ({ version: cur.version + 1, assignments: [{ service, devices: ['g'], stageFractions: [1], share: 1, batch: 1, rateRps: 0, latencyMs: 0 }] }),
    replan: false,
    makeRouter: roundRobinRouter,
    handler: { admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'fcfs' },
  };
}

function run(spec: ServiceSpec, jobs: [number, number][], llmBatching: LlmBatching) {
  const b = new WorkloadBuilder();
  for (const [t, size] of jobs) b.add({ timeMs: t, service: spec.name, size, deadlineMs: spec.deadlineMs, flow: -1, ingress: 0 });
  return simulate({ devices: [{ id: 'g', deviceClass: 'gpu-server', zone: 'z' }], services: [spec], workload: b.build(5000), policy: policy(spec.name), seed: 1, noise: 0, llmBatching, links: { intraZoneMs: 0.3, interZoneMs: 5, intraZoneMBps: 100, interZoneMBps: 10 } });
}

// C (size 0.001, 2 ms alone) at t = 3000 is a lone marker, so p50 / p99 of the three latencies are B's and A's.
const TRACE1: [number, number][] = [[0, 1], [100, 0.5], [3000, 0.001]];

describe('simulator: continuous batching of LLM services', () => {
  it('a short request joins a running batch and leaves when its own work is done', () => {
    const m = run(CHAT, TRACE1, 'continuous');
    expect(m.byCategory['latency-single']).toMatchObject({ total: 3, met: 3, dropped: 0 });
    expect(m.p50Ms).toBeCloseTo(541.08, 9);
    expect(m.p99Ms).toBeCloseTo(1041.08, 9);
    expect(m.utilisation).toBeCloseTo((1041.08 + 2) / 5000, 9);
  });

  it('request-level batching (the default) makes it wait for the running batch', () => {
    const m = run(CHAT, TRACE1, 'request');
    expect(m.p50Ms).toBeCloseTo(1001, 9);
    expect(m.p99Ms).toBeCloseTo(1402, 9);
  });

  it('no more than maxBatch in flight: the third job joins when a place frees', () => {
    const m = run({ ...CHAT, maxBatch: 2 }, [[0, 1], [0, 1], [0, 1]], 'continuous');
    expect(m.byCategory['latency-single']).toMatchObject({ total: 3, met: 3 });
    expect(m.p50Ms).toBeCloseTo(1081.08, 9);
    expect(m.p99Ms).toBeCloseTo(2082.08, 9);
    expect(m.utilisation).toBeCloseTo(2082.08 / 5000, 9);
  });

  it('services of other kinds batch as before', () => {
    const vision = { ...CHAT, name: 'seg', kind: 'vision' };
    const trace: [number, number][] = [[0, 1], [100, 0.5], [120, 1]];
    expect(run(vision, trace, 'continuous')).toEqual(run(vision, trace, 'request'));
  });
});
