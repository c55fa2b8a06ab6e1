/**
 * A device failure in the simulator: the only host of a service fails at t = 1 s.
 * Arrivals: one request every 10 ms for 2 s (200 requests, budget 100 ms), service time ≈ 11 ms.
 *  - a fixed placement that never re-plans loses every request from the failure on
 *    (the 100 arrivals at t ≥ 1000 ms, plus at most one in service on the failed device);
 *  - EPARA re-plans at once (a "significant state change"); its first plan already put a spare
 *    unit on the idle second device, which serves on (without it: a load of ≈ 324 ms, 0.3 s +
 *    0.25 s/GiB × 100 MiB, in which no request can be served).
 */
import { describe, expect, it } from 'vitest';
import { epara } from '../../src/scheduler/baselines/epara.js';
import type { Policy } from '../../src/scheduler/baselines/policy.js';
import { alpaserveSr } from '../../src/scheduler/baselines/alpaserve-sr.js';
import { roundRobin, roundRobinRouter } from '../../src/scheduler/baselines/round-robin.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { simulate } from '../../src/sim/simulator.js';
import { GPU_PAIR, LINKS, steadyWorkload } from './fixtures.js';

const S: ServiceSpec = { name: 's', category: 'latency-single', kind: 'vision', memoryMiB: 100, workMs: 10, deadlineMs: 100, demandRps: 100, maxBatch: 16 };
const devices = GPU_PAIR;
const links = LINKS;
const workload = () => steadyWorkload('s', 200, 10, 100, 1);

const fixedOnG0: Policy = {
  name: 'fixed',
  description: 'one replica on g0, never re-planned',
  place: (_st, _sv, cur) => ({ version: cur.version + 1, assignments: [{ service: 's', devices: ['g0'], stageFractions: [1], share: 1, batch: 4, rateRps: 0, latencyMs: 0 }] }),
  replan: false,
  makeRouter: roundRobinRouter,
  handler: { admission: false, dropLate: 'expired', adaptiveBatch: false, credits: false, forwardOnReject: 0, order: 'edf' },
};

describe('simulator: device failure', () => {
  it('without re-placement every request after the failure is lost', () => {
    const m = simulate({ devices, services: [S], workload: workload(), policy: fixedOnG0, seed: 1, noise: 0, links, failures: [{ atMs: 1000, device: 'g0' }] });
    expect(m.requests).toBe(200);
    expect(m.byCategory['latency-single'].met).toBeGreaterThanOrEqual(99);
    expect(m.byCategory['latency-single'].met).toBeLessThanOrEqual(100);
    expect(m.dropsByCode['infer.no_device']).toBeGreaterThanOrEqual(100);
    expect(m.loads).toBe(0);
  });

  it('EPARA re-places on the failure: the spare it put on the idle device serves on, with no load', () => {
    // EPARA's first plan puts its unit on g0 and, g1 being idle, a spare unit there
    // (spare-units.ts); the re-plan on the failure keeps g1's: nothing to load, and at most what
    // was queued or running on g0 is lost (before spare units: one load and ≈ 33 requests lost).
    const m = simulate({ devices, services: [S], workload: workload(), policy: epara, seed: 1, noise: 0, links, failures: [{ atMs: 1000, device: 'g0' }] });
    expect(m.placements).toBe(2); // the initial plan and the re-plan on failure (the 60 s period is never reached)
    expect(m.loads).toBe(0);
    const lost = m.requests - m.byCategory['latency-single'].met;
    expect(lost).toBeLessThanOrEqual(3);
  });

  it('baselines re-plan on device loss only when their definition re-plans (alpaserve-sr yes, round-robin no)', () => {
    const run = (policy: Policy) => simulate({ devices, services: [S], workload: workload(), policy, seed: 1, noise: 0, links, failures: [{ atMs: 1000, device: 'g0' }] });
    const sr = run(alpaserveSr);
    const rr = run(roundRobin);
    expect(sr.placements).toBe(2);
    expect(rr.placements).toBe(1);
    // Both placed a replica on each device and dispatch only to live replicas, so the survivor
    // keeps serving: at most the requests queued or running on g0 at the failure are lost.
    expect(sr.byCategory['latency-single'].met).toBeGreaterThanOrEqual(190);
    expect(rr.byCategory['latency-single'].met).toBeGreaterThanOrEqual(190);
    expect(sr.loads + rr.loads).toBe(0); // nothing to move: the re-plan keeps the survivor's replica
  });
});
