/**
 * SLO capacity: the highest load factor at which a policy keeps EVERY service at or above a target
 * SLO attainment (90%, and 99% for a strict SLO), as AlpaServe, DistServe and Vidur report it
 * ("maximum rate sustained at a fixed attainment"), plus the same per category.
 *
 * Why not the knee (knee.ts): the knee is set where the best baseline falls under 90% of all
 * requests, so every policy is read at the baselines' operating point, and a cheap, numerous
 * service (camera frames) can hold total attainment up while another is starved. Capacity is each
 * policy's own operating point, and the target holds per service.
 *
 * Search, per policy and criterion (pure; runs come from `runAt`):
 *  1. bracket from the runs already made (the sweep's grid): the last load that passes below the
 *     first that fails (attainment need not be monotone in load, so the first failure bounds it);
 *  2. no load fails: probe at twice the highest, up to `extend` times; still none → the sweep
 *     stopped short and the capacity is only a lower bound (`stoppedShort`);
 *     the lowest load fails: probe at half the lowest, up to `extend` times; none passes → the
 *     capacity is below every load tried (`load` 0, bracket [0, lowest failing]);
 *  3. bisect the bracket `steps` times (one run of that policy per step).
 * The capacity is the bracket's low end: the highest load seen to pass below the first failure.
 */
import { ConfigError } from '../errors.js';
import type { Category } from '../scheduler/types.js';
import { CATEGORIES } from '../scheduler/categories.js';
import type { RunMetrics } from './metrics.js';

export interface CapacityResult {
  policy: string;
  /** Highest load seen to pass (0 when none did). */
  load: number;
  /** [last passing, first failing]; high is null when no load failed (stoppedShort). */
  bracket: [number, number | null];
  /** No load tried failed: the capacity is at least `load`, the sweep did not reach it. */
  stoppedShort: boolean;
  /** The service (or category) with the lowest attainment at the first failing load. */
  limitedBy: string | null;
  /** Loads this search ran beyond the ones it was given, in order. */
  probes: number[];
}

export interface CapacityOptions {
  /** Bisection steps inside the bracket (default 4). */
  steps?: number;
  /** Doublings above the highest load (or halvings below the lowest) to find a bracket (default 3). */
  extend?: number;
  /** Probe loads are rounded to this many decimals (default 4). */
  decimals?: number;
  /** No probe above this load (capacityReport: the sweep's highest × 2^extend, so searches do not extend from each other's probes). */
  maxLoad?: number;
}

/** The share of a run's requests of one service (or category) that met their SLO, by name. */
export type Criterion = (m: RunMetrics) => { pass: boolean; worst: string | null; worstAttainment: number };

/** Every service of the run at or above `threshold` (services with no requests are not judged). */
export function everyService(threshold: number): Criterion {
  checkThreshold(threshold);
  return (m) => {
    let worst: string | null = null;
    let wa = Infinity;
    for (const [name, s] of Object.entries(m.byService)) {
      if (s.total > 0 && s.attainment < wa) {
        wa = s.attainment;
        worst = name;
      }
    }
    return { pass: wa >= threshold, worst, worstAttainment: wa };
  };
}

/** One category's attainment at or above `threshold` (a run without requests of it passes). */
export function category(c: Category, threshold: number): Criterion {
  checkThreshold(threshold);
  return (m) => {
    const s = m.byCategory[c];
    const a = s.total > 0 ? s.attainment : Infinity;
    return { pass: a >= threshold, worst: c, worstAttainment: a };
  };
}

function checkThreshold(t: number): void {
  if (!(t > 0 && t <= 1)) throw new ConfigError({ code: 'config.range', reason: `SLO attainment target ${t} is outside (0, 1]`, hint: 'use 0.9 or 0.99', field: 'threshold' });
}

/**
 * One policy's capacity under `criterion`. `known` are its runs so far (any loads); `runAt(load)`
 * runs it once more (same seed and recipe).
 */
export async function findCapacity(policy: string, known: readonly RunMetrics[], criterion: Criterion, runAt: (load: number) => Promise<RunMetrics>, opts: CapacityOptions = {}): Promise<CapacityResult> {
  const steps = opts.steps ?? 4;
  const extend = opts.extend ?? 3;
  const scale = 10 ** (opts.decimals ?? 4);
  if (!Number.isInteger(steps) || steps < 0 || steps > 20) throw new ConfigError({ code: 'config.range', reason: `capacity bisection steps ${steps} is outside 0..20`, hint: 'use 4 steps (0: the grid bracket only)', field: 'steps' });
  const runs = new Map<number, RunMetrics>();
  for (const m of known) if (m.policy === policy) runs.set(m.load, m);
  if (runs.size === 0) throw new ConfigError({ code: 'config.range', reason: `no run of ${policy} to start the capacity search from`, hint: 'run the sweep with the policy first (epara sim --policies ...)', field: 'policy' });
  const probes: number[] = [];
  const probe = async (load: number): Promise<RunMetrics> => {
    const l = Math.round(load * scale) / scale;
    let m = runs.get(l);
    if (!m) {
      m = await runAt(l);
      runs.set(l, m);
      probes.push(l);
    }
    return m;
  };
  const bracket = (): { low: number | null; high: number | null } => {
    let low: number | null = null;
    for (const l of [...runs.keys()].sort((a, b) => a - b)) {
      if (!criterion(runs.get(l)!).pass) return { low, high: l };
      low = l;
    }
    return { low, high: null };
  };
  let { low, high } = bracket();
  for (let i = 0; i < extend && high === null && low! * 2 <= (opts.maxLoad ?? Infinity) + 1e-9; i++) {
    await probe(low! * 2);
    ({ low, high } = bracket());
  }
  for (let i = 0; i < extend && low === null; i++) {
    await probe(Math.min(...runs.keys()) / 2);
    ({ low, high } = bracket());
  }
  for (let i = 0; i < steps && low !== null && high !== null; i++) {
    const mid = Math.round(((low + high) / 2) * scale) / scale;
    if (mid <= low || mid >= high) break;
    await probe(mid);
    ({ low, high } = bracket());
  }
  const limitedBy = high === null ? null : criterion(runs.get(high)!).worst;
  return { policy, load: low ?? 0, bracket: [low ?? 0, high], stoppedShort: high === null, limitedBy, probes };
}

export interface CapacityReport {
  /** Highest load with every service ≥ 90% / ≥ 99%, per policy. */
  capacity: { p90: Record<string, number>; p99: Record<string, number> };
  /** The full search results behind `capacity`. */
  detail: { p90: Record<string, CapacityResult>; p99: Record<string, CapacityResult> };
  /** Highest load at which each category holds 90%, per category then policy. */
  perCategory: Partial<Record<Category, Record<string, number>>>;
  /** Policies whose p90 or p99 search never saw a failing load. */
  stoppedShort: string[];
  /** Per category, the policies whose search never saw that category fail (its capacity is a lower bound). */
  perCategoryStoppedShort: Partial<Record<Category, string[]>>;
}

/**
 * Every policy's p90 and p99 capacity and per-category p90 capacity, from the sweep `results`
 * (every policy at some loads) and `runAt(policy, load)`. Policies are searched concurrently, so a
 * run pool keeps its workers busy.
 */
export async function capacityReport(results: readonly RunMetrics[], policies: readonly string[], runAt: (policy: string, load: number) => Promise<RunMetrics>, opts: CapacityOptions = {}): Promise<CapacityReport> {
  // One memo per policy shared by all its searches, so p90, p99 and the categories reuse probes.
  const memo = new Map<string, RunMetrics>();
  const key = (p: string, l: number): string => `${p}@${l}`;
  for (const m of results) memo.set(key(m.policy, m.load), m);
  const cats = CATEGORIES.filter((c) => results.some((m) => m.byCategory[c].total > 0));
  const gridMax = Math.max(...results.map((m) => m.load));
  opts = { ...opts, maxLoad: opts.maxLoad ?? gridMax * 2 ** (opts.extend ?? 3) };
  const one = async (p: string): Promise<[CapacityResult, CapacityResult, [Category, CapacityResult][]]> => {
    const run = async (l: number): Promise<RunMetrics> => {
      let m = memo.get(key(p, l));
      if (!m) {
        m = await runAt(p, l);
        memo.set(key(p, l), m);
      }
      return m;
    };
    const known = (): RunMetrics[] => [...memo.values()].filter((m) => m.policy === p);
    // p99 first: the p90 search then starts from its probes, and since every load that fails 90%
    // fails 99% too, the p90 capacity found is never below the p99 one.
    const p99 = await findCapacity(p, known(), everyService(0.99), run, opts);
    const p90 = await findCapacity(p, known(), everyService(0.9), run, opts);
    const byCat: [Category, CapacityResult][] = [];
    for (const c of cats) byCat.push([c, await findCapacity(p, known(), category(c, 0.9), run, opts)]);
    return [p90, p99, byCat];
  };
  const all = await Promise.all(policies.map(one));
  const out: CapacityReport = { capacity: { p90: {}, p99: {} }, detail: { p90: {}, p99: {} }, perCategory: {}, stoppedShort: [], perCategoryStoppedShort: {} };
  policies.forEach((p, i) => {
    const [p90, p99, byCat] = all[i]!;
    out.capacity.p90[p] = p90.load;
    out.capacity.p99[p] = p99.load;
    out.detail.p90[p] = p90;
    out.detail.p99[p] = p99;
    for (const [c, d] of byCat) {
      (out.perCategory[c] ??= {})[p] = d.load;
      if (d.stoppedShort) (out.perCategoryStoppedShort[c] ??= []).push(p);
    }
    if (p90.stoppedShort || p99.stoppedShort) out.stoppedShort.push(p);
  });
  return out;
}

/** EPARA's capacity over round-robin's and over the best baseline's (null where the divisor is 0 or missing). */
export function capacityRatios(cap: Record<string, number>, reference = 'epara'): { vsRoundRobin: number | null; vsBestBaseline: number | null; bestBaseline: string | null } {
  const ref = cap[reference];
  let best: string | null = null;
  for (const [p, l] of Object.entries(cap)) if (p !== reference && (best === null || l > cap[best]!)) best = p;
  const ratio = (d: number | undefined): number | null => (ref === undefined || d === undefined || !(d > 0) ? null : ref / d);
  return { vsRoundRobin: ratio(cap['round-robin']), vsBestBaseline: best === null ? null : ratio(cap[best]), bestBaseline: best };
}
