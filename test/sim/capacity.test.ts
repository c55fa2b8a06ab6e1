import { describe, expect, it } from 'vitest';
import { capacityRatios, capacityReport, everyService, findCapacity } from '../../src/sim/capacity.js';
import type { RunMetrics } from '../../src/sim/metrics.js';

/** A run whose services' attainments are given; the rest of the metrics do not matter here. */
function run(policy: string, load: number, att: Record<string, number>): RunMetrics {
  const byService: RunMetrics['byService'] = {};
  for (const [name, a] of Object.entries(att)) byService[name] = { category: name === 'cam' ? 'frequency-single' : 'latency-single', total: 1000, met: Math.round(a * 1000), dropped: 0, attainment: a };
  const cat = (c: string): { total: number; met: number; dropped: number; attainment: number } => {
    const xs = Object.values(byService).filter((s) => s.category === c);
    const total = xs.reduce((p, s) => p + s.total, 0);
    const met = xs.reduce((p, s) => p + s.met, 0);
    return { total, met, dropped: 0, attainment: total ? met / total : NaN };
  };
  return { policy, load, durationSec: 1, requests: 0, offeredRps: 0, goodputRps: 0, attainment: 0, balancedAttainment: 0, balancedGoodputRps: 0, byCategory: { 'latency-single': cat('latency-single'), 'latency-multi': cat('latency-multi'), 'frequency-single': cat('frequency-single'), 'frequency-multi': cat('frequency-multi') }, byService, p50Ms: 0, p99Ms: 0, dropRate: 0, dropsByCode: {}, utilisation: 0, loads: 0, unloads: 0, placements: 0 };
}

// Two services: 'cam' holds 100% until ×8; 'chat' falls linearly, 1 − load/20 (90% at ×2, 99% at ×0.2).
const model = (policy: string, load: number): RunMetrics => run(policy, load, { chat: Math.max(0, 1 - load / 20), cam: load < 8 ? 1 : 0.5 });

describe('SLO capacity (capacity.ts)', () => {
  it('is the highest load with EVERY service at the target, bracketed and refined by bisection', async () => {
    const grid = [1, 2.5, 4].map((l) => model('p', l));
    const probes: number[] = [];
    const c = await findCapacity('p', grid, everyService(0.9), async (l) => (probes.push(l), model('p', l)), { steps: 4 });
    // Grid bracket [1, 2.5]; four halvings → within 1.5/16 of the crossing at ×2, on the passing side.
    expect(c.load).toBeLessThanOrEqual(2);
    expect(c.load).toBeGreaterThan(2 - 1.5 / 16);
    expect(c.bracket[1]! - c.bracket[0]).toBeCloseTo(1.5 / 16, 3); // probe loads are rounded to 4 decimals
    expect(c.limitedBy).toBe('chat');
    expect(c.stoppedShort).toBe(false);
    expect(probes).toEqual(c.probes);
  });

  it('extends past the sweep when nothing failed, and says it stopped short when it still did not', async () => {
    const alwaysOk = async (l: number): Promise<RunMetrics> => run('p', l, { chat: 1 });
    const c = await findCapacity('p', [run('p', 1, { chat: 1 })], everyService(0.9), alwaysOk, { steps: 2, extend: 2 });
    expect(c.stoppedShort).toBe(true);
    expect(c.load).toBe(4);
    expect(c.bracket).toEqual([4, null]);
    // One doubling finds the failure (cam fails from ×8): the sweep reached it, then bisection.
    const d = await findCapacity('p', [model('p', 5)].map((m) => run('p', m.load, { cam: 1 })), everyService(0.9), async (l) => run('p', l, { cam: l < 8 ? 1 : 0.5 }), { steps: 3 });
    expect(d.stoppedShort).toBe(false);
    expect(d.bracket[1]).toBeGreaterThanOrEqual(8);
    expect(d.load).toBeLessThan(8);
  });

  it('is 0 with the bracket [0, lowest] when even the halved loads fail', async () => {
    const never = async (l: number): Promise<RunMetrics> => run('p', l, { chat: 0.5 });
    const c = await findCapacity('p', [run('p', 1, { chat: 0.5 })], everyService(0.9), never, { extend: 2 });
    expect(c.load).toBe(0);
    expect(c.bracket).toEqual([0, 0.25]);
  });

  it('reports p90, p99 (never above p90) and per-category capacity for every policy, and EPARA ratios', async () => {
    const runs = [0.5, 1, 2, 4].flatMap((l) => [model('epara', l * 2), model('round-robin', l)].map((m, i) => ({ ...m, load: l, policy: i === 0 ? 'epara' : 'round-robin' })));
    // EPARA at load l behaves as round-robin at 2l: half its capacity.
    const at = async (p: string, l: number): Promise<RunMetrics> => ({ ...(p === 'epara' ? model(p, l * 2) : model(p, l)), load: l, policy: p });
    const r = await capacityReport(runs, ['epara', 'round-robin'], at, { steps: 5 });
    expect(r.capacity.p90['round-robin']).toBeGreaterThan(1.9);
    expect(r.capacity.p90.epara).toBeGreaterThan(0.95);
    expect(r.capacity.p90.epara).toBeLessThanOrEqual(1);
    for (const p of ['epara', 'round-robin']) expect(r.capacity.p99[p]!).toBeLessThanOrEqual(r.capacity.p90[p]!);
    expect(Object.keys(r.perCategory).sort()).toEqual(['frequency-single', 'latency-single']);
    expect(r.perCategory['frequency-single']!['round-robin']).toBeGreaterThan(7);
    const ratios = capacityRatios(r.capacity.p90);
    expect(ratios.bestBaseline).toBe('round-robin');
    expect(ratios.vsRoundRobin!).toBeCloseTo(r.capacity.p90.epara! / r.capacity.p90['round-robin']!, 9);
  });
});
