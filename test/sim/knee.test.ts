import { describe, expect, it } from 'vitest';
import { bestBaseline, ceilingOver, findKnee, memoRunner, ratiosAt } from '../../src/sim/knee.js';
import type { RunMetrics } from '../../src/sim/metrics.js';
import { runScenario } from '../../src/sim/scenario.js';

/** A run with only the fields the knee reads; attainments and goodputs given per policy. */
function run(policy: string, load: number, attainment: number, goodputRps: number, balancedAttainment = attainment): RunMetrics {
  return { policy, load, attainment, goodputRps, balancedAttainment, balancedGoodputRps: goodputRps * 2 } as RunMetrics;
}

/**
 * A made-up sweep: round-robin's attainment falls linearly and crosses 90% at ×3.3, alpaserve-sr
 * stays 2 points below it, EPARA stays at 99%; goodput = load × 10 × attainment.
 */
const rrAtt = (l: number): number => 1 - (l - 1) * (0.1 / 2.3);
function sweep(load: number): RunMetrics[] {
  const rr = rrAtt(load);
  return [run('epara', load, 0.99, load * 9.9), run('round-robin', load, rr, load * 10 * rr), run('alpaserve-sr', load, rr - 0.02, load * 10 * (rr - 0.02))];
}
const GRID = [1, 2, 3, 4, 6];
const gridResults = GRID.flatMap(sweep);

describe('knee refinement (src/sim/knee.ts)', () => {
  it('the best baseline is the highest attainment among the non-reference policies', () => {
    expect(bestBaseline(sweep(4), 'attainment')).toEqual({ policy: 'round-robin', attainment: rrAtt(4) });
    // EPARA is higher but is not a baseline.
    expect(bestBaseline(sweep(4), 'attainment')!.policy).not.toBe('epara');
    expect(bestBaseline([run('epara', 1, 1, 1)], 'attainment')).toBeNull();
  });

  it('bisects between the last grid load at or above 90% and the first below it', async () => {
    const asked: number[] = [];
    const k = await findKnee(gridResults, GRID, 'attainment', (l) => (asked.push(l), sweep(l)), { steps: 4 });
    expect(k).not.toBeNull();
    expect(k!.gridLow).toBe(3);
    expect(k!.gridKnee).toBe(4);
    // 3.5 below → 3.25 above → 3.375 below → 3.3125 below (crossing at 3.3).
    expect(asked).toEqual([3.5, 3.25, 3.375, 3.3125]);
    expect(k!.probes.map((p) => [p.load, p.above])).toEqual([[3.5, false], [3.25, true], [3.375, false], [3.3125, false]]);
    expect(k!.knee).toBe(3.3125);
    expect(k!.low).toBe(3.25);
    expect(k!.knee - 3.3).toBeLessThan(1 / 16);
    expect(k!.atKnee.every((m) => m.load === 3.3125)).toBe(true);
    expect(k!.atLow.every((m) => m.load === 3.25)).toBe(true);
    // Ratios are read at the refined knee, not at the grid's ×4.
    const r = ratiosAt(k!.atKnee, 'goodputRps');
    expect(r['round-robin']).toBeCloseTo(9.9 / (10 * rrAtt(3.3125)), 10);
    expect(r['round-robin']).toBeLessThan(ratiosAt(gridResults.filter((m) => m.load === 4), 'goodputRps')['round-robin']!);
    expect(Object.keys(r).sort()).toEqual(['alpaserve-sr', 'round-robin']);
  });

  it('steps = 0 gives the grid knee; a grid that starts below the threshold cannot be refined', async () => {
    const g = await findKnee(gridResults, GRID, 'attainment', () => {
      throw new Error('must not run');
    }, { steps: 0 });
    expect(g).toMatchObject({ gridKnee: 4, knee: 4, gridLow: 3, low: 3, probes: [] });
    const late = [4, 6].flatMap(sweep);
    const k = await findKnee(late, [4, 6], 'attainment', () => {
      throw new Error('must not run');
    });
    expect(k).toMatchObject({ gridKnee: 4, knee: 4, gridLow: null, low: null, probes: [], atLow: [] });
  });

  it('no knee on the grid → null; bad settings → typed errors', async () => {
    expect(await findKnee([1, 2].flatMap(sweep), [1, 2], 'attainment', sweep)).toBeNull();
    await expect(findKnee(gridResults, GRID, 'attainment', sweep, { steps: -1 })).rejects.toThrow(/knee refinement steps -1 is outside 0\.\.20/);
    await expect(findKnee(gridResults, GRID, 'attainment', sweep, { threshold: 1.5 })).rejects.toThrow(/threshold 1\.5/);
  });

  it('the ceiling over round-robin is offered ÷ its goodput, and no policy\'s ratio exceeds it', () => {
    const runs = [
      { ...run('epara', 4, 0.99, 99), offeredRps: 100 },
      { ...run('round-robin', 4, 0.8, 80), offeredRps: 100 },
    ] as RunMetrics[];
    expect(ceilingOver(runs, 'goodputRps')).toBeCloseTo(1.25, 12);
    expect(ratiosAt(runs, 'goodputRps')['round-robin']!).toBeLessThanOrEqual(ceilingOver(runs, 'goodputRps')!);
    // balancedGoodputRps is 2 × goodput in this fixture: half the ceiling.
    expect(ceilingOver(runs, 'balancedGoodputRps')).toBeCloseTo(0.625, 12);
    expect(ceilingOver(runs, 'goodputRps', 'alpaserve-sr')).toBeNull();
    expect(ceilingOver([{ ...run('round-robin', 4, 0, 0), offeredRps: 100 } as RunMetrics], 'goodputRps')).toBeNull();
  });

  it('uses the balanced attainment when asked, and the memo runs each load once for both bases', async () => {
    const balanced = (l: number): RunMetrics[] => sweep(l).map((m) => ({ ...m, balancedAttainment: m.policy === 'epara' ? 0.99 : m.attainment - 0.05 }));
    const grid = GRID.flatMap(balanced);
    let calls = 0;
    const runner = memoRunner(grid, (l) => (calls++, balanced(l)));
    const a = (await findKnee(grid, GRID, 'attainment', runner, { steps: 3 }))!;
    const b = (await findKnee(grid, GRID, 'balancedAttainment', runner, { steps: 3 }))!;
    // balanced = request-level − 5 points: crossing at 1 + 0.05 × 23 = 2.15, in the ×2–×3 bracket.
    expect([b.gridLow, b.gridKnee]).toEqual([2, 3]);
    expect(b.knee).toBe(2.25);
    expect(a.knee).toBe(3.375);
    expect(calls).toBe(6);
    const again = (await findKnee(grid, GRID, 'attainment', runner, { steps: 3 }))!;
    expect(again.knee).toBe(a.knee);
    expect(calls).toBe(6);
  });

  it('refines a real (tiny) sweep: probes are simulated runs of every policy at the probe load', async () => {
    const base = { scenario: 'camera-heavy' as const, devices: 16, durationSec: 8, seed: 1, policies: ['epara', 'round-robin'] };
    const grid = runScenario({ ...base, loads: [1, 8] });
    const k = await findKnee(grid.results, [1, 8], 'attainment', (l) => runScenario({ ...base, loads: [l] }).results, { steps: 2 });
    expect(k).not.toBeNull();
    expect(k!.gridKnee).toBe(8);
    expect(k!.probes).toHaveLength(2);
    expect(k!.probes[0]!.load).toBe(4.5);
    expect(k!.atKnee.map((m) => m.policy)).toEqual(['epara', 'round-robin']);
    expect(k!.atKnee.every((m) => m.load === k!.knee)).toBe(true);
    expect(k!.atKnee.find((m) => m.policy === 'round-robin')!.attainment).toBeLessThan(0.9);
    if (k!.low !== null && k!.low !== 1) expect(k!.atLow.find((m) => m.policy === 'round-robin')!.attainment).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});
