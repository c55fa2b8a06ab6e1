/**
 * The knee of a load sweep, found precisely instead of read off a coarse grid.
 *
 * The target is stated at "the load where the best baseline falls below 90% SLO
 * attainment". On a grid such as ×1, 2, 3, 4, 6, 8 the first grid load past that point can sit
 * anywhere between the true crossing and the next grid point; when a baseline collapses steeply
 * (camera-heavy: round-robin goes from 58% at ×3 to 13% at ×4) the ratio read at the grid knee
 * says as much about where the grid fell as about the policies. So:
 *
 *  1. grid knee: the first grid load where the best baseline (highest attainment among the
 *     policies other than the reference, EPARA) is below the threshold; the bracket is the grid
 *     load before it (best baseline ≥ threshold) and that load;
 *  2. refinement: bisection on the load factor inside the bracket, same seed and workload recipe,
 *     every policy at each probe; a probe with the best baseline ≥ threshold becomes the new low
 *     end, one below it the new high end. The refined knee is the final high end: the lowest load
 *     seen with the best baseline below the threshold, within (bracket width ÷ 2^steps) of a
 *     crossing. Ratios are reported there.
 *
 * Attainment need not fall monotonically with load (noise, placement changes), so bisection finds
 * *a* crossing inside the bracket, not necessarily the only one; the probes are returned so a
 * report can show them. Pure: the runs come from the `runAt` callback (sync, or async such as a
 * run pool's, run-pool.ts).
 */
import { ConfigError } from '../errors.js';
import type { RunMetrics } from './metrics.js';

/** Which attainment defines the knee: request-level, or the mean of the per-category attainments. */
export type KneeBasis = 'attainment' | 'balancedAttainment';

export interface BestBaseline {
  policy: string;
  attainment: number;
}

export interface KneeProbe {
  load: number;
  best: BestBaseline;
  /** The best baseline's attainment is at or above the threshold at this load. */
  above: boolean;
}

export interface KneeResult {
  basis: KneeBasis;
  threshold: number;
  /** The first grid load with the best baseline below the threshold. */
  gridKnee: number;
  /** The grid load before it (best baseline at or above the threshold), or null when the grid starts below. */
  gridLow: number | null;
  /** The refined knee (== gridKnee when there was nothing to refine or steps = 0). */
  knee: number;
  /** The last probe at or above the threshold (the bracket's low end after refinement), or null. */
  low: number | null;
  /** Bisection probes in the order they were run. */
  probes: KneeProbe[];
  /** Every policy's run at the refined knee. */
  atKnee: RunMetrics[];
  /** Every policy's run at `low` (empty when low is null). */
  atLow: RunMetrics[];
}

export interface KneeOptions {
  /** Attainment below which a policy is past its knee (default 0.9). */
  threshold?: number;
  /** Bisection steps (default 4; 0 = the grid knee only). */
  steps?: number;
  /** The policy whose ratios are reported; not a baseline (default 'epara'). */
  reference?: string;
  /** Probe loads are rounded to this many decimals (default 4), so reports stay readable. */
  decimals?: number;
}

/** The baseline with the highest attainment among `runs` (one load); ties go to the first listed. */
export function bestBaseline(runs: readonly RunMetrics[], basis: KneeBasis, reference = 'epara'): BestBaseline | null {
  let best: BestBaseline | null = null;
  for (const m of runs) {
    if (m.policy === reference) continue;
    const a = m[basis];
    if (!Number.isFinite(a)) continue;
    if (!best || a > best.attainment) best = { policy: m.policy, attainment: a };
  }
  return best;
}

function runsAt(results: readonly RunMetrics[], load: number): RunMetrics[] {
  return results.filter((m) => m.load === load);
}

/**
 * Find the knee of a sweep and refine it by bisection. `results` is the grid (every policy at
 * every load of `loads`); `runAt(load)` runs every policy at one more load (same seed and recipe).
 * Returns null when no grid load has the best baseline below the threshold (raise the loads), or
 * when the results hold no baseline.
 */
export async function findKnee(
  results: readonly RunMetrics[],
  loads: readonly number[],
  basis: KneeBasis,
  runAt: (load: number) => RunMetrics[] | Promise<RunMetrics[]>,
  opts: KneeOptions = {},
): Promise<KneeResult | null> {
  const threshold = opts.threshold ?? 0.9;
  const steps = opts.steps ?? 4;
  const reference = opts.reference ?? 'epara';
  const decimals = opts.decimals ?? 4;
  if (!(threshold > 0 && threshold <= 1)) throw new ConfigError({ code: 'config.range', reason: `knee threshold ${threshold} is outside (0, 1]`, hint: 'use an attainment such as 0.9', field: 'threshold' });
  if (!Number.isInteger(steps) || steps < 0 || steps > 20) throw new ConfigError({ code: 'config.range', reason: `knee refinement steps ${steps} is outside 0..20`, hint: 'use 3 or 4 bisection steps, 0 for the grid knee only', field: 'steps' });
  const sorted = [...new Set(loads)].sort((a, b) => a - b);
  let gridLow: number | null = null;
  let gridKnee: number | null = null;
  for (const l of sorted) {
    const best = bestBaseline(runsAt(results, l), basis, reference);
    if (!best) return null;
    if (best.attainment < threshold) {
      gridKnee = l;
      break;
    }
    gridLow = l;
  }
  if (gridKnee === null) return null;
  let low = gridLow;
  let high = gridKnee;
  let atHigh = runsAt(results, gridKnee);
  let atLow = gridLow === null ? [] : runsAt(results, gridLow);
  const probes: KneeProbe[] = [];
  const scale = 10 ** decimals;
  for (let i = 0; i < steps && low !== null; i++) {
    const mid = Math.round(((low + high) / 2) * scale) / scale;
    if (mid <= low || mid >= high) break; // the bracket is narrower than the rounding
    const runs = await runAt(mid);
    const best = bestBaseline(runs, basis, reference);
    if (!best) break;
    const above = best.attainment >= threshold;
    probes.push({ load: mid, best, above });
    if (above) {
      low = mid;
      atLow = runs;
    } else {
      high = mid;
      atHigh = runs;
    }
  }
  return { basis, threshold, gridKnee, gridLow, knee: high, low, probes, atKnee: atHigh, atLow };
}

/** The reference policy's metric over each other policy's at one load (`runs`): EPARA ÷ baseline. */
export function ratiosAt(runs: readonly RunMetrics[], metric: 'goodputRps' | 'balancedGoodputRps', reference = 'epara'): Record<string, number> {
  const ref = runs.find((m) => m.policy === reference);
  const out: Record<string, number> = {};
  if (!ref) return out;
  for (const m of runs) if (m.policy !== reference) out[m.policy] = ref[metric] / m[metric];
  return out;
}

/**
 * The most any policy could be ahead of `baseline` at one load (`runs`): offered ÷ the baseline's
 * metric, since no policy serves more than is offered (balanced goodput is offered × an
 * attainment, so the same bound). Null when the baseline did not run or served nothing.
 */
export function ceilingOver(runs: readonly RunMetrics[], metric: 'goodputRps' | 'balancedGoodputRps', baseline = 'round-robin'): number | null {
  const b = runs.find((m) => m.policy === baseline);
  return b && b[metric] > 0 ? b.offeredRps / b[metric] : null;
}

/**
 * A memo around a per-load runner, so the request-level and the balanced knee (two bisections over
 * the same sweep) never run the same load twice. Seeds the cache with the grid.
 */
export function memoRunner(results: readonly RunMetrics[], run: (load: number) => RunMetrics[] | Promise<RunMetrics[]>): (load: number) => Promise<RunMetrics[]> {
  const cache = new Map<number, RunMetrics[] | Promise<RunMetrics[]>>();
  for (const m of results) cache.set(m.load, [...((cache.get(m.load) as RunMetrics[] | undefined) ?? []), m]);
  return async (load) => {
    let r = cache.get(load);
    if (!r) {
      r = run(load);
      cache.set(load, r);
    }
    return r;
  };
}
