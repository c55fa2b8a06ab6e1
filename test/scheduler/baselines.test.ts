/** The baselines are whole systems: each has its own placement (static or periodic) and dispatch. */
import { describe, expect, it } from 'vitest';
import { POLICIES, policyByName } from '../../src/scheduler/baselines/index.js';
import { localPlacement, randomPlacement, roundRobinPlacement } from '../../src/scheduler/baselines/static-placements.js';
import { selectiveReplicationPlacement, staticDemandPlacement } from '../../src/scheduler/baselines/selective-replication.js';
import type { ReplicaSet } from '../../src/scheduler/forwarding.js';
import { EMPTY_PLACEMENT } from '../../src/scheduler/placement.js';
import type { ClusterState, Placement, ServiceSpec } from '../../src/scheduler/types.js';
import { Rng } from '../../src/sim/rng.js';
import { LINKS, cam, device, est, llm } from './fixtures.js';

const devices = [device('g0', 'gpu-server'), device('g1', 'gpu-server'), device('e0', 'embedded-gpu'), device('e1', 'embedded-gpu'), device('m0', 'microcomputer'), device('m1', 'microcomputer'), device('u0', 'mcu')];
const state = (observedRps?: Record<string, number>): ClusterState => ({ nowMs: 0, devices, links: LINKS, observedRps });
const seg = cam(20);
const chat = llm('chat', 14_336, 1);
const big = llm('big', 30_000, 0.2);

/** Memory each device's units use, to check no placement overcommits a device. */
function memoryUse(p: Placement, services: ServiceSpec[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of p.assignments) {
    const s = services.find((x) => x.name === a.service)!;
    a.devices.forEach((d, i) => m.set(d, (m.get(d) ?? 0) + s.memoryMiB * a.stageFractions[i]!));
  }
  return m;
}

function feasible(p: Placement, services: ServiceSpec[]): void {
  for (const [id, used] of memoryUse(p, services)) expect(used).toBeLessThanOrEqual(devices.find((d) => d.id === id)!.memoryMiB + 1e-6);
  const seen = new Set<string>();
  for (const a of p.assignments) for (const d of a.devices) {
    expect(seen.has(`${a.service}@${d}`)).toBe(false); // at most one unit of a service per device
    seen.add(`${a.service}@${d}`);
  }
}

describe('round-robin placement', () => {
  it('is demand-unaware: the same placement whatever the declared or observed demand', () => {
    const a = roundRobinPlacement(state(), [seg, chat], EMPTY_PLACEMENT, est);
    const b = roundRobinPlacement(state({ seg: 500, chat: 0.01 }), [cam(500), llm('chat', 14_336, 0.01)], EMPTY_PLACEMENT, est);
    expect(b.assignments.map((x) => x.devices.join('+') + x.service)).toEqual(a.assignments.map((x) => x.devices.join('+') + x.service));
  });

  it('spreads replicas over the feasible devices in turn until nothing more fits', () => {
    const p = roundRobinPlacement(state(), [seg, chat], EMPTY_PLACEMENT, est);
    feasible(p, [seg, chat]);
    // First turn: seg on g0, chat on the next feasible device after it (g1).
    expect(p.assignments[0]).toMatchObject({ service: 'seg', devices: ['g0'] });
    expect(p.assignments[1]).toMatchObject({ service: 'chat', devices: ['g1'] });
    // seg ends up on every device that can serve it within SLO (the MCU cannot run vision).
    expect(p.assignments.filter((a) => a.service === 'seg').map((a) => a.devices[0]).sort()).toEqual(['e0', 'e1', 'g0', 'g1', 'm0', 'm1']);
  });

  it('builds a pipeline group for a model that fits no device', () => {
    const p = roundRobinPlacement(state(), [big], EMPTY_PLACEMENT, est);
    expect(p.assignments.length).toBeGreaterThan(0);
    expect(p.assignments.every((a) => a.devices.length >= 2)).toBe(true);
    feasible(p, [big]);
  });
});

describe('random placement', () => {
  it('is reproducible from its random source, varies with it, and never overcommits a device', () => {
    const run = (seed: number): Placement => {
      const r = new Rng(seed);
      return randomPlacement(state(), [seg, chat, big], EMPTY_PLACEMENT, est, { random: () => r.next() });
    };
    const key = (p: Placement): string => p.assignments.map((a) => `${a.service}@${a.devices.join('+')}`).join(' ');
    expect(key(run(1))).toBe(key(run(1)));
    const keys = new Set([1, 2, 3, 4, 5, 6].map((s) => key(run(s))));
    expect(keys.size).toBeGreaterThan(1);
    for (const s of [1, 2, 3]) feasible(run(s), [seg, chat, big]);
  });
});

describe('local placement (local-only)', () => {
  it('every device loads the single-device services it can serve, no groups', () => {
    const p = localPlacement(state(), [seg, chat, big], EMPTY_PLACEMENT, est);
    expect(p.assignments.every((a) => a.devices.length === 1)).toBe(true);
    expect(p.assignments.some((a) => a.service === 'big')).toBe(false);
    const on = (d: string): string[] => p.assignments.filter((a) => a.devices[0] === d).map((a) => a.service).sort();
    expect(on('g0')).toEqual(['chat', 'seg']);
    expect(on('m0')).toEqual(['seg']);
    expect(on('u0')).toEqual([]);
  });

  it('the local-only router serves at the ingress or drops', () => {
    const router = policyByName('local-only')!.makeRouter();
    const replicas = (ids: string[]): ReplicaSet => ({ length: ids.length, device: (i) => ids[i]!, outstanding: () => 0, violationRate: () => 0, predictedFinishMs: () => 0 });
    const ctx = (ingress: string) => ({ ingress, service: 'seg', nowMs: 0, deadlineMs: 100, random: () => 0.5 });
    expect(router.route(replicas(['g0', 'm0']), ctx('m0'))).toBe(1);
    expect(router.route(replicas(['g0', 'm0']), ctx('e1'))).toBeNull();
  });
});

describe('demand-proportional placements', () => {
  it('the static one uses the declared demand; selective replication follows the observed demand', () => {
    // Two LLMs that each need a whole GPU device: 4 slots (2 gpu-servers, 2 embedded GPUs) to share.
    const s1 = llm('a', 14_336, 1);
    const s2 = llm('b', 14_336, 1);
    const observed = { a: 4, b: 0.1 };
    const units = (p: Placement, name: string): number => p.assignments.filter((x) => x.service === name).length;
    const fixed = staticDemandPlacement(state(observed), [s1, s2], EMPTY_PLACEMENT, est);
    expect(units(fixed, 'a')).toBe(units(fixed, 'b')); // equal declared demand: equal shares, observed demand ignored
    expect(units(fixed, 'a')).toBe(2);
    const sr = selectiveReplicationPlacement(state(observed), [s1, s2], EMPTY_PLACEMENT, est);
    expect(units(sr, 'a')).toBeGreaterThan(units(sr, 'b'));
  });
});

describe('policy definitions', () => {
  it('only EPARA has EDF, credits and forwarding; EPARA and alpaserve-sr (AlpaServe drops requests predicted to miss) admit by deadline; both re-plan, the others are static', () => {
    for (const p of POLICIES) {
      const isEpara = p.name === 'epara';
      expect(p.handler.order).toBe(isEpara ? 'edf' : 'fcfs');
      expect(p.handler.admission).toBe(isEpara || p.name === 'alpaserve-sr');
      expect(p.handler.forwardOnReject > 0).toBe(isEpara);
      expect(p.handler.credits).toBe(isEpara);
      expect(p.replan).toBe(isEpara || p.name === 'alpaserve-sr');
    }
    expect(POLICIES.map((p) => p.name)).toEqual(['epara', 'random', 'round-robin', 'least-outstanding', 'power-of-two', 'least-violation', 'local-only', 'alpaserve-sr']);
  });
});

describe('least-outstanding dispatch', () => {
  const set = (outstanding: number[], ids: string[]): ReplicaSet => ({
    length: outstanding.length,
    device: (i) => ids[i]!,
    outstanding: (i) => outstanding[i]!,
    predictedFinishMs: () => 0,
    violationRate: () => 0,
  });
  const ctx = { ingress: 'x', service: 's', nowMs: 0, deadlineMs: 1, random: () => 0.5 };

  it('picks the fewest outstanding requests; on a tie the replica the placement listed first, whatever the device names', () => {
    const r = policyByName('least-outstanding')!.makeRouter();
    expect(r.route(set([3, 1, 2], ['a', 'b', 'c']), ctx)).toBe(1);
    expect(r.route(set([1, 0, 0], ['z', 'y', 'a']), ctx)).toBe(1);
    expect(policyByName('alpaserve-sr')!.makeRouter().route(set([0, 0], ['gpu-server-0', 'embedded-gpu-0']), ctx)).toBe(0);
  });
});
