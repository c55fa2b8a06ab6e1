/**
 * The objective's fair-share credit (no service starves under overload), frame units' utilisation
 * cap, services sharing a GPU, and size spread in planned rates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameShareCap, planReplica, sharedCapacity } from '../../src/scheduler/allocator.js';
import { DEFAULT_OBJECTIVE, FAIR_CREDIT, marginalGain, servedValue } from '../../src/scheduler/objective.js';
import { EMPTY_PLACEMENT, planPlacement } from '../../src/scheduler/placement.js';
import type { ClusterState, DeviceState } from '../../src/scheduler/types.js';
import { LINKS, cam, device, est, llm } from './fixtures.js';

const cluster = (devices: DeviceState[]): ClusterState => ({ nowMs: 0, devices, links: LINKS });

describe('objective: fair-share credit', () => {
  it('servedValue is non-decreasing and concave in supply, for any demand and headroom', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.double({ min: 1, max: 4, noNaN: true }), fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 3, maxLength: 3 }), (d, h, xs) => {
        const [a, b, c] = [...xs].sort((p, q) => p - q) as [number, number, number];
        const va = servedValue(a, d, h);
        const vb = servedValue(b, d, h);
        const vc = servedValue(c, d, h);
        expect(vb).toBeGreaterThanOrEqual(va - 1e-9);
        expect(vc).toBeGreaterThanOrEqual(vb - 1e-9);
        // Concave: the chord from a to c lies below the curve at b.
        if (c - a > 1e-6) expect(vb).toBeGreaterThanOrEqual(va + ((vc - va) * (b - a)) / (c - a) - 1e-6 * Math.max(1, vc));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('the first request/s of a service is worth 1 + FAIR_CREDIT, the last before its demand about 1', () => {
    const d = 100;
    expect(servedValue(1e-3, d, 2) / 1e-3).toBeCloseTo(1 + FAIR_CREDIT, 3);
    expect((servedValue(d, d, 2) - servedValue(d - 1e-3, d, 2)) / 1e-3).toBeCloseTo(1, 3);
    expect((servedValue(d + 1, d, 2) - servedValue(d, d, 2)) / 1).toBeCloseTo(0.25, 6);
    expect(servedValue(10 * d, d, 2)).toBeCloseTo(servedValue(2 * d, d, 2), 9);
  });

  it('a unit for a service with nothing placed outbids an equally good unit for one already at half its demand', () => {
    const base = { weight: 1, demandRps: 10, rateRps: 1, violation: 0, loadFraction: 0, memoryFraction: 0 };
    expect(marginalGain({ ...base, suppliedRps: 0 }, DEFAULT_OBJECTIVE)).toBeGreaterThan(marginalGain({ ...base, suppliedRps: 5 }, DEFAULT_OBJECTIVE));
  });
});

describe('placement: no service starves under overload', () => {
  it('two LLMs worth the same per GPU, both far beyond the fleet: each gets GPU servers, in proportion to demand', () => {
    const gpus = Array.from({ length: 6 }, (_, i) => device(`g${i}`, 'gpu-server', `z${i % 2}`));
    const services = [llm('a', 14_336, 40), llm('b', 14_336, 20)];
    const r = planPlacement(cluster(gpus), services, EMPTY_PLACEMENT, { estimator: est });
    const a = r.stats.supplyRps.a!;
    const b = r.stats.supplyRps.b!;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    // Proportional shares: a has twice b's demand and gets more, but b is not squeezed out.
    expect(a).toBeGreaterThan(b);
    expect(b / 20).toBeGreaterThan(0.5 * (a / 40));
  });

  it('a model-parallel LLM keeps GPU servers next to a single-GPU LLM whose weighted value per GPU is the same (the ×6 starvation)', () => {
    const gpus = Array.from({ length: 8 }, (_, i) => device(`g${i}`, 'gpu-server', `z${Math.floor(i / 2)}`));
    const jetsons = Array.from({ length: 8 }, (_, i) => device(`e${i}`, 'embedded-gpu', `z${Math.floor(i / 2)}`));
    // Work per request 1.8× → weight 1.8, so both earn the same weighted requests per GPU server.
    const small = llm('chat-7b', 14_336, 25);
    const big = llm('chat-13b', 26_624, 8.3, { workMs: 4500, deadlineMs: 2000 + 5 * 4500, weight: 1.8, activationKiB: 64 });
    const r = planPlacement(cluster([...gpus, ...jetsons]), [small, big], EMPTY_PLACEMENT, { estimator: est });
    expect(r.stats.supplyRps['chat-13b']).toBeGreaterThan(0);
    expect(r.stats.supplyRps['chat-7b']).toBeGreaterThan(0);
    expect(r.placement.assignments.some((u) => u.service === 'chat-13b' && u.devices.length >= 2)).toBe(true);
  });
});

describe('allocator: frame units fill slow devices less', () => {
  it('frameShareCap falls as a batch takes more of the frame budget, and is 0 when it takes all of it', () => {
    const s = cam(10, { deadlineMs: 250 });
    const caps = [10, 27, 60, 98, 150, 200, 249].map((t) => frameShareCap(s, t));
    for (let i = 1; i < caps.length; i++) expect(caps[i]!).toBeLessThan(caps[i - 1]!);
    expect(frameShareCap(s, 250)).toBe(0);
    expect(frameShareCap(s, 98)).toBeCloseTo(0.51, 2); // a Jetson's 4-frame batch: about half its time
    expect(frameShareCap(llm('chat', 14_336, 1), 5000)).toBe(1); // latency units are not capped
  });

  it('the plan puts no frame unit on a device beyond its cap', () => {
    const devs = [device('e0', 'embedded-gpu'), device('e1', 'embedded-gpu'), device('e2', 'embedded-gpu')];
    const s = cam(60, { memoryMiB: 1024, workMs: 12, deadlineMs: 250, targetFps: 5 });
    const r = planPlacement(cluster(devs), [s], EMPTY_PLACEMENT, { estimator: est, keepWarmSpares: false });
    expect(r.placement.assignments.length).toBeGreaterThan(0);
    for (const u of r.placement.assignments) expect(u.share).toBeLessThanOrEqual(frameShareCap(s, u.latencyMs) + 1e-9);
  });
});

describe('allocator: services sharing a device', () => {
  it('sharedCapacity: one unit is 1; two on a GPU with 0.25 slowdown are 1.6; bounded by the streams', () => {
    const gpu = { streams: 4, slowdown: 0.25 };
    expect(sharedCapacity(1, gpu)).toBe(1);
    expect(sharedCapacity(2, gpu)).toBeCloseTo(1.6, 9);
    expect(sharedCapacity(4, gpu)).toBeCloseTo(4 / 1.75, 9);
    expect(sharedCapacity(9, gpu)).toBeCloseTo(4 / 1.75, 9);
    expect(sharedCapacity(3, { streams: 1, slowdown: 1 })).toBe(1); // a CPU board time-slices
    expect(sharedCapacity(3, undefined)).toBe(1);
  });

  it('the planner co-locates a camera service on a GPU server whose LLM already uses its full time', () => {
    const g = device('g0', 'gpu-server');
    const full = planPlacement(cluster([g]), [llm('chat', 14_336, 50), cam(100)], EMPTY_PLACEMENT, { estimator: est });
    const shares = full.placement.assignments.map((u) => u.share);
    expect(full.placement.assignments.map((u) => u.service).sort()).toEqual(['chat', 'seg']);
    expect(shares.reduce((a, b) => a + b, 0)).toBeGreaterThan(1);
    expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(sharedCapacity(2, est.sharing!(g)) + 1e-9);
  });
});

describe('allocator: size spread', () => {
  it('a batch lasts as long as its largest request: the planned rate of a batched unit is divided by sizeSpread', () => {
    const g = device('g0', 'gpu-server');
    const plain = planReplica(est, g, llm('chat', 14_336, 1), g.memoryMiB, 1)!;
    const spread = planReplica(est, g, llm('chat', 14_336, 1, { sizeSpread: 2.5 }), g.memoryMiB, 1)!;
    expect(spread.batch).toBe(plain.batch);
    expect(spread.rateRps).toBeCloseTo(plain.rateRps / 2.5, 9);
    const one = planReplica(est, g, llm('chat', 14_336, 1, { maxBatch: 1, sizeSpread: 2.5 }), g.memoryMiB, 1)!;
    expect(one.rateRps).toBeCloseTo(planReplica(est, g, llm('chat', 14_336, 1, { maxBatch: 1 }), g.memoryMiB, 1)!.rateRps, 9);
  });
});
