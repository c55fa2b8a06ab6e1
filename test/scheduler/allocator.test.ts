import { describe, expect, it } from 'vitest';
import { adaptBatch, allocate, chooseBatch, formGroups, planGroup, planReplica, replicasFor, splitModel } from '../../src/scheduler/allocator.js';
import { serviceTimeMs, PROFILES } from '../../src/sim/device-profiles.js';
import { LINKS, cam, device, est, llm } from './fixtures.js';

describe('allocator: data-parallel replicas', () => {
  it('a frequency flow needs ceil(target rate / one device rate) replicas', () => {
    expect(replicasFor(45, 10)).toBe(5);
    expect(replicasFor(50, 10)).toBe(5);
    expect(replicasFor(50.5, 10)).toBe(6);
    expect(replicasFor(0, 10)).toBe(0);
    expect(replicasFor(5, 0)).toBe(Infinity);
  });

  it('allocate() on microcomputers only: per-device rate from the service-time model, units = ceil(demand / rate)', () => {
    const fleet = [device('m0', 'microcomputer'), device('m1', 'microcomputer')];
    // seg on a microcomputer: t(1) = 3 + 4/0.08 = 53 ms ≤ 0.5·150 = 75; t(2) = 3 + 50·1.85 = 95.5 > 75, so batch 1.
    const s = cam(100);
    const a = allocate(est, fleet, s, LINKS);
    expect(a.mode).toBe('data-parallel');
    expect(a.batch).toBe(1);
    expect(a.perUnitRps).toBeCloseTo(1000 / 53, 6);
    expect(a.units).toBe(Math.ceil(100 / (1000 / 53)));
  });

  it('chooseBatch takes the largest power-of-two batch within the budget', () => {
    const g = device('g', 'gpu-server');
    const s = cam(10);
    const b = chooseBatch(est, g, s, 1, 75)!;
    expect(b.batch).toBe(16);
    expect(b.timeMs).toBeCloseTo(serviceTimeMs(PROFILES['gpu-server'], s, 16), 9);
    const tight = chooseBatch(est, g, s, 1, 6)!; // t(1)=5, t(2)=5.32, t(4)=5.96, t(8)=7.24
    expect(tight.batch).toBe(4);
    expect(chooseBatch(est, g, s, 1, 4)).toBeNull();
  });

  it('respects memory and GPU need: no replica where the model does not fit or an LLM has no GPU', () => {
    const s = llm('chat', 14_336, 1);
    expect(planReplica(est, device('e', 'embedded-gpu'), s, 16_384, 1)).not.toBeNull();
    expect(planReplica(est, device('e', 'embedded-gpu'), s, 14_000, 1)).toBeNull();
    expect(planReplica(est, device('m', 'microcomputer', 'z0', { memoryMiB: 64_000 }), s, 64_000, 1)).toBeNull();
    expect(planReplica(est, device('x', 'gpu-server', 'z0', { alive: false }), s, 24_576, 1)).toBeNull();
  });

  it('adaptBatch doubles under queue pressure and halves when the queue drains', () => {
    expect(adaptBatch(4, 8, 16)).toBe(8);
    expect(adaptBatch(8, 40, 16)).toBe(16);
    expect(adaptBatch(16, 100, 16)).toBe(16);
    expect(adaptBatch(8, 3, 16)).toBe(4);
    expect(adaptBatch(4, 3, 16)).toBe(4);
    expect(adaptBatch(1, 0, 16)).toBe(1);
  });
});

describe('allocator: model-parallel groups', () => {
  const big = llm('chat-13b', 26_624, 1, { workMs: 4000, deadlineMs: 30_000, activationKiB: 64 });

  it('a model that fits no device becomes a pipeline over a group whose memory holds it', () => {
    const fleet = [device('g0', 'gpu-server', 'a'), device('g1', 'gpu-server', 'b'), device('m0', 'microcomputer', 'a')];
    const a = allocate(est, fleet, big, LINKS);
    expect(a.mode).toBe('model-parallel');
    expect(a.unit!.devices.sort()).toEqual(['g0', 'g1']);
    expect(a.unit!.stageFractions.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
  });

  it('splits the model by speed, capped by free memory (water-filling)', () => {
    const g = device('g', 'gpu-server');
    const e = device('e', 'embedded-gpu');
    // Speeds 1/(1+4000) vs 1/(2+16000): ≈ 4:1 → 0.8 / 0.2, within the caps 24576/26624 and 16384/26624.
    const f = splitModel(est, [g, e], big, (d) => d.memoryMiB)!;
    expect(f[0]).toBeGreaterThan(0.79);
    expect(f[0]).toBeLessThan(0.81);
    // With only 10 GiB free on the GPU server its share is capped at 10240/26624 and the rest moves to the module.
    const capped = splitModel(est, [g, e], big, (d) => (d.id === 'g' ? 10_240 : 16_384))!;
    expect(capped[0]).toBeCloseTo(10_240 / 26_624, 9);
    expect(capped[1]).toBeCloseTo(1 - 10_240 / 26_624, 9);
    expect(splitModel(est, [g, e], big, () => 10_000)).toBeNull();
  });

  it('charges the link between stages: a slow WAN makes a group infeasible that a LAN allows', () => {
    const s = { ...big, activationKiB: 40_000, deadlineMs: 12_000 };
    const g0 = device('g0', 'gpu-server', 'a');
    const g1 = device('g1', 'gpu-server', 'a');
    const g2 = device('g2', 'gpu-server', 'b');
    const lan = planGroup(est, [g0, g1], s, (d) => d.memoryMiB, 1, LINKS)!;
    expect(lan).not.toBeNull();
    const wan = planGroup(est, [g0, g2], s, (d) => d.memoryMiB, 1, { ...LINKS, interZoneMBps: 1 });
    expect(wan === null || wan.latencyMs > lan.latencyMs).toBe(true);
  });

  it('formGroups prefers groups inside one zone and never repeats a device within a pass', () => {
    const fleet = [device('a0', 'gpu-server', 'a'), device('a1', 'gpu-server', 'a'), device('b0', 'gpu-server', 'b'), device('b1', 'embedded-gpu', 'b')];
    const groups = formGroups(est, fleet, big, (d) => d.memoryMiB, LINKS);
    expect(groups[0]!.map((d) => d.id)).toEqual(['a0', 'a1']);
    for (const g of groups) expect(new Set(g.map((d) => d.id)).size).toBe(g.length);
    expect(groups.every((g) => g.reduce((m, d) => m + d.memoryMiB, 0) >= big.memoryMiB)).toBe(true);
  });
});
