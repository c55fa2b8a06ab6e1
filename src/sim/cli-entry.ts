/**
 * `epara sim`: runs the default scenario (or a user workload) for every policy over a sweep of
 * load factors, prints the comparison table, and writes results.csv and goodput.svg.
 * The CLI engineer registers this in commander:
 *   epara sim [--trace FILE] [--out DIR] [--seed N] [--devices N] [--policies a,b] [--loads 0.5,1,2] [--duration SEC] [--scenario NAME] [--cameras N] [--hd-cameras N] [--knee-steps N] [--llm-batching request|continuous] [--workers N]
 * (`scenario` is one of mixed, llm-heavy, camera-heavy: scenario.ts SCENARIOS; --cameras / --hd-cameras override its cameras per site.)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, isEparaError } from '../errors.js';
import { resolveNumber, type NumberOptionSpec } from '../options.js';
import { bestBaseline, ceilingOver, findKnee, memoRunner, ratiosAt, type KneeBasis, type KneeResult } from './knee.js';
import type { RunMetrics } from './metrics.js';
import { formatTable, goodputSvg, toCsv } from './report.js';
import { SimRunPool, WORKERS } from './run-pool.js';
import { capacityRatios, capacityReport, type CapacityReport, type CapacityResult } from './capacity.js';
import { DEFAULT_TRACE_PATH, SCENARIO_NAMES, SCENARIO_NUMBERS, loadAzureTrace, type ScenarioName, type ScenarioOptions, type ScenarioResult } from './scenario.js';
import { LLM_BATCHING, type LlmBatching } from './simulator.js';

export interface SimCommandOptions {
  /** An epara workload file (workload.ts format): its own services, rates and length. */
  trace?: string;
  /** A file of the Azure LLM inference trace format (TIMESTAMP,ContextTokens,GeneratedTokens) for the chat services (default: the vendored conv trace). */
  azureTrace?: string;
  /** `START:END` seconds of the Azure trace to replay (END may be empty: the trace end). */
  traceWindow?: string;
  /** Disjoint, equal windows of the trace (or of --trace-window) to run, each a whole sweep; the report gives each, the mean and the worst. */
  windows?: number | string;
  /** Bisection steps of each policy's SLO capacity search (default 4; capacity.ts). */
  capacitySteps?: number | string;
  /** Workload mix of the default scenario: mixed (default), llm-heavy or camera-heavy. */
  scenario?: string;
  /** seg-cam cameras per site at load ×1 (overrides the scenario's; bench/scheduler-sweep varies it). */
  cameras?: number | string;
  /** seg-hd cameras per site at load ×1 (overrides the scenario's). */
  hdCameras?: number | string;
  out?: string;
  seed?: number | string;
  devices?: number | string;
  policies?: string | string[];
  loads?: string | number[];
  duration?: number | string;
  /**
   * Bisection steps that refine the knee (the first load where the best baseline is below 90% SLO
   * attainment) between the two grid loads that bracket it (default 3; 0 = the grid knee only).
   * Each step runs every policy once more at the probe load.
   */
  kneeSteps?: number | string;
  /** How simulated devices batch LLM requests, every policy alike: 'request' (default) or 'continuous' (iteration-level). */
  llmBatching?: string;
  /** Runs at a time, each in a worker process (default one per core; 0 = all in this process). Results do not depend on it. */
  workers?: number | string;
  /** Where to print (default process.stdout / process.stderr). */
  print?: (line: string) => void;
  printError?: (line: string) => void;
}

/** Default load sweep: from light to well past the fleet's capacity. */
export const DEFAULT_LOADS = [0.5, 1, 2, 4, 6];

/** An example value per numeric flag, for the hint of a flag that is not a number. */
const EXAMPLE: Record<string, string> = { loads: '0.5,1,2,4', seed: '3', devices: '64', duration: '300', 'knee-steps': '3', cameras: '4', 'hd-cameras': '1', workers: '2', windows: '3', 'capacity-steps': '4' };

/** Flags that only the Azure-trace mode reads: with --trace (a workload file) they would be silently dropped, so they are refused. */
const AZURE_ONLY: [keyof SimCommandOptions, string][] = [['scenario', 'scenario'], ['cameras', 'cameras'], ['hdCameras', 'hd-cameras'], ['duration', 'duration'], ['azureTrace', 'azure-trace'], ['traceWindow', 'trace-window'], ['windows', 'windows']];

/** `START:END` seconds (END empty: to the trace end). */
export function parseTraceWindow(v: string): { startSec: number; endSec: number | undefined } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)?\s*$/.exec(v);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] !== undefined ? Number(m[2]) : undefined;
  if (!m || (end !== undefined && !(end > start))) {
    throw new ConfigError({ code: 'cli.bad_option', reason: `--trace-window must be START:END in seconds with END > START (END may be left out: the trace end), got ${JSON.stringify(v)}`, hint: 'e.g. epara sim --trace-window 0:1200', field: 'trace-window' });
  }
  return { startSec: start, endSec: end };
}

function toNumber(name: string, v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new ConfigError({ code: 'cli.bad_option', reason: `--${name} must be a number, got ${JSON.stringify(v)}`, hint: `e.g. --${name} ${EXAMPLE[name] ?? '1'}`, field: name });
  return n;
}

/** A cameras-per-site flag, checked against the scenario's own range so the error names the flag. */
function perSite(name: string, v: number | string | undefined, spec: NumberOptionSpec): number | undefined {
  const n = toNumber(name, v);
  return n === undefined ? undefined : resolveNumber(`--${name}`, n, spec);
}

function toList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const l = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
  return l.length ? l : undefined;
}

/** Returns the process exit code: 0 on success, 2 for bad options or input, 1 otherwise. */
export async function simCommand(opts: SimCommandOptions = {}): Promise<number> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const printError = opts.printError ?? ((l: string) => process.stderr.write(l + '\n'));
  try {
    const loads = Array.isArray(opts.loads) ? opts.loads : toList(opts.loads)?.map((s) => toNumber('loads', s)!) ?? DEFAULT_LOADS;
    const out = resolve(opts.out ?? 'sim-out');
    const started = Date.now();
    if (opts.scenario !== undefined && !(SCENARIO_NAMES as string[]).includes(opts.scenario)) {
      throw new ConfigError({ code: 'cli.bad_option', reason: `--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(opts.scenario)}`, hint: 'e.g. --scenario llm-heavy', field: 'scenario' });
    }
    const kneeSteps = toNumber('knee-steps', opts.kneeSteps) ?? 3;
    if (!Number.isInteger(kneeSteps) || kneeSteps < 0 || kneeSteps > 8) {
      throw new ConfigError({ code: 'cli.bad_option', reason: `--knee-steps must be a whole number from 0 to 8, got ${JSON.stringify(opts.kneeSteps)}`, hint: 'e.g. --knee-steps 3 (0: report the grid knee only)', field: 'knee-steps' });
    }
    if (opts.llmBatching !== undefined && !(LLM_BATCHING as readonly string[]).includes(opts.llmBatching)) {
      throw new ConfigError({ code: 'cli.bad_option', reason: `--llm-batching must be one of ${LLM_BATCHING.join(', ')}, got ${JSON.stringify(opts.llmBatching)}`, hint: 'e.g. --llm-batching continuous', field: 'llm-batching' });
    }
    if (opts.trace !== undefined) {
      for (const [k, flag] of AZURE_ONLY) {
        if (opts[k] === undefined) continue;
        throw new ConfigError({
          code: 'cli.bad_option',
          reason: `--${flag} has no effect with --trace: a workload file sets its own services, rates and length`,
          hint: flag === 'azure-trace' ? 'use one of them: epara sim --trace FILE (an epara workload) or epara sim --azure-trace FILE' : `drop --${flag}, or replay an Azure trace instead: epara sim --azure-trace FILE --${flag} ...`,
          field: flag,
        });
      }
    }
    const windows = toNumber('windows', opts.windows) ?? 1;
    if (!Number.isInteger(windows) || windows < 1 || windows > 20) {
      throw new ConfigError({ code: 'cli.bad_option', reason: `--windows must be a whole number from 1 to 20, got ${JSON.stringify(opts.windows)}`, hint: 'e.g. --windows 3', field: 'windows' });
    }
    const capacitySteps = toNumber('capacity-steps', opts.capacitySteps) ?? 4;
    if (!Number.isInteger(capacitySteps) || capacitySteps < 0 || capacitySteps > 8) {
      throw new ConfigError({ code: 'cli.bad_option', reason: `--capacity-steps must be a whole number from 0 to 8, got ${JSON.stringify(opts.capacitySteps)}`, hint: 'e.g. --capacity-steps 4 (0: the bracket from the loads only)', field: 'capacity-steps' });
    }
    const win = opts.traceWindow !== undefined ? parseTraceWindow(opts.traceWindow) : { startSec: undefined, endSec: undefined };
    const recipe = {
      azureFile: opts.azureTrace,
      traceStartSec: win.startSec,
      traceEndSec: win.endSec,
      llmBatching: opts.llmBatching as LlmBatching | undefined,
      scenario: opts.scenario as ScenarioName | undefined,
      camFlowsPerSite: perSite('cameras', opts.cameras, SCENARIO_NUMBERS.camFlowsPerSite),
      hdFlowsPerSite: perSite('hd-cameras', opts.hdCameras, SCENARIO_NUMBERS.hdFlowsPerSite),
      traceFile: opts.trace,
      seed: toNumber('seed', opts.seed),
      devices: toNumber('devices', opts.devices),
      durationSec: toNumber('duration', opts.duration),
      policies: toList(opts.policies),
      onRun: (m: RunMetrics) => printError(`  load ×${m.load} ${m.policy}: goodput ${m.goodputRps.toFixed(1)}/s, SLO ${(m.attainment * 100).toFixed(1)}%`),
    };
    const pool = new SimRunPool(resolveNumber('--workers', toNumber('workers', opts.workers), WORKERS));
    try {
      return await sweep(pool, recipe, loads, { kneeSteps, capacitySteps, windows }, out, started, print);
    } finally {
      await pool.close();
    }
  } catch (e) {
    if (isEparaError(e)) {
      printError(e.toHuman());
      return e.code.startsWith('config.') || e.code.startsWith('cli.') || e.code.startsWith('sim.') || e.code.startsWith('sched.') ? 2 : 1;
    }
    printError(`error internal: ${(e as Error).message}`);
    return 1;
  }
}

/** The windows a sweep runs: the trace window (or the whole trace) cut into `n` equal, disjoint parts. */
function windowsOf(recipe: Omit<ScenarioOptions, 'loads'>, n: number): Omit<ScenarioOptions, 'loads'>[] {
  if (n === 1 || recipe.traceFile) return [recipe];
  const span = loadAzureTrace(recipe.azureFile ?? DEFAULT_TRACE_PATH).spanSec;
  const start = recipe.traceStartSec ?? 0;
  const end = Math.min(recipe.traceEndSec ?? span, span);
  if (!(end > start)) return [recipe]; // planScenario reports the empty window
  const w = (end - start) / n;
  return Array.from({ length: n }, (_, i) => ({ ...recipe, traceStartSec: +(start + i * w).toFixed(3), traceEndSec: +(start + (i + 1) * w).toFixed(3) }));
}

/** One window's sweep and its SLO capacity (what capacity.json holds per window). */
interface WindowReport {
  window: [number, number] | null;
  capacity: CapacityReport['capacity'];
  perCategory: CapacityReport['perCategory'];
  perCategoryStoppedShort: CapacityReport['perCategoryStoppedShort'];
  brackets: { p90: Record<string, [number, number | null]>; p99: Record<string, [number, number | null]> };
  limitedBy: Record<string, string | null>;
  stoppedShort: string[];
  ratios: { p90: ReturnType<typeof capacityRatios>; p99: ReturnType<typeof capacityRatios> };
}

/** The sweep(s), the tables, the capacities, the knees and the files, on `pool`. */
async function sweep(pool: SimRunPool, base: Omit<ScenarioOptions, 'loads'>, loads: number[], steps: { kneeSteps: number; capacitySteps: number; windows: number }, out: string, started: number, print: (l: string) => void): Promise<number> {
  mkdirSync(out, { recursive: true });
  const reports: WindowReport[] = [];
  const allRuns: RunMetrics[] = [];
  let head: ScenarioResult | null = null;
  const recipes = windowsOf(base, steps.windows);
  for (const [wi, recipe] of recipes.entries()) {
    const r = await pool.runScenario({ ...recipe, loads });
    head ??= r;
    const where = r.window ? `, window ${r.window[0]}–${r.window[1].toFixed(0)} s` : '';
    print(`${wi > 0 ? '\n' : ''}epara sim: ${r.trace}${where}, scenario ${r.scenario}, ${r.devices} devices, ${r.durationSec} s per run, seed ${r.seed}, policies ${r.policies.join(', ')}, LLM batching ${r.llmBatching}${recipes.length > 1 ? ` (window ${wi + 1} of ${recipes.length})` : ''}`);
    if (r.traceStats && wi === 0) {
      const t = r.traceStats;
      print(`  sized from ${r.trace}: ${t.rows} requests over ${t.spanSec.toFixed(0)} s (${t.ratePerSec.toFixed(2)}/s), mean work ${t.meanWorkMs.toFixed(0)} ms, expected longest of 16 ${t.spread16.toFixed(2)}× the mean, inter-arrival CV ${t.interArrivalCv.toFixed(2)}`);
    }
    for (const n of r.notes) print(`  ${n}`);
    print('');
    print(formatTable(r.results));
    const cap = await capacityReport(r.results, r.policies, (p, l) => pool.runOne({ ...recipe, loads: [l] }, l, p), { steps: steps.capacitySteps });
    const rep: WindowReport = {
      window: r.window,
      capacity: cap.capacity,
      perCategory: cap.perCategory,
      perCategoryStoppedShort: cap.perCategoryStoppedShort,
      brackets: { p90: mapValues(cap.detail.p90, (d) => d.bracket), p99: mapValues(cap.detail.p99, (d) => d.bracket) },
      limitedBy: mapValues(cap.detail.p90, (d) => d.limitedBy),
      stoppedShort: cap.stoppedShort,
      ratios: { p90: capacityRatios(cap.capacity.p90), p99: capacityRatios(cap.capacity.p99) },
    };
    reports.push(rep);
    print('');
    for (const l of formatCapacity(cap, r.policies)) print(l);
    allRuns.push(...r.results);
    if (recipes.length === 1) {
      writeFileSync(join(out, 'results.csv'), toCsv(r.results, r.trace));
      const probes = await reportKnees(r, steps.kneeSteps, async (load) => (await pool.runScenario({ ...recipe, loads: [load] })).results, print);
      if (probes.length > 0) writeFileSync(join(out, 'knee.csv'), toCsv(probes, r.trace));
      writeFileSync(join(out, 'goodput.svg'), goodputSvg(r.results, `Goodput vs offered load (${r.trace}, ${r.devices} devices, seed ${r.seed})`));
    }
  }
  const summary = summarise(reports);
  if (recipes.length > 1) {
    writeFileSync(join(out, 'results.csv'), toCsv(allRuns, head!.trace));
    writeFileSync(join(out, 'goodput.svg'), goodputSvg(head!.results, `Goodput vs offered load (${head!.trace}, first of ${recipes.length} windows, ${head!.devices} devices, seed ${head!.seed})`));
    print('');
    print(`SLO capacity over ${recipes.length} windows of ${head!.trace} (mean / worst):`);
    for (const p of head!.policies) print(`  ${p.padEnd(18)} p90 ×${fmt(summary.capacityMean.p90[p]!)} / ×${fmt(summary.capacity.p90[p]!)}   p99 ×${fmt(summary.capacityMean.p99[p]!)} / ×${fmt(summary.capacity.p99[p]!)}`);
    print(`  EPARA ÷ round-robin, worst window: p90 ${ratio(summary.worstRatios.p90.vsRoundRobin)}, p99 ${ratio(summary.worstRatios.p99.vsRoundRobin)}; EPARA ÷ best baseline, worst window: p90 ${ratio(summary.worstRatios.p90.vsBestBaseline)}, p99 ${ratio(summary.worstRatios.p99.vsBestBaseline)}`);
  }
  const h = head!;
  const json = {
    trace: h.trace,
    scenario: h.scenario,
    devices: h.devices,
    durationSec: h.durationSec,
    seed: h.seed,
    llmBatching: h.llmBatching,
    loads,
    policies: h.policies,
    traceStats: h.traceStats,
    ...summary,
    windows: reports,
  };
  writeFileSync(join(out, 'capacity.json'), JSON.stringify(json, null, 2) + '\n');
  print('');
  print(`wrote ${join(out, 'results.csv')}, ${join(out, 'capacity.json')}${existsSync(join(out, 'knee.csv')) && recipes.length === 1 ? `, ${join(out, 'knee.csv')} (knee probe runs)` : ''} and ${join(out, 'goodput.svg')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (h.traceStats) print('Azure LLM trace: Azure Public Dataset (CC BY 4.0), Patel et al., "Splitwise", ISCA 2024.');
  return 0;
}

const fmt = (x: number): string => String(+x.toFixed(4));
const ratio = (x: number | null): string => (x === null ? 'n/a (divisor below the lowest load tried)' : `${x.toFixed(2)}x`);

function mapValues<T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** Across windows: the worst (lowest) and mean capacity per policy, and the worst window's EPARA ratios. */
function summarise(reports: WindowReport[]): {
  capacity: CapacityReport['capacity'];
  capacityMean: CapacityReport['capacity'];
  perCategory: CapacityReport['perCategory'];
  ratios: WindowReport['ratios'];
  worstRatios: WindowReport['ratios'];
  stoppedShort: string[];
} {
  const agg = (pick: (r: WindowReport) => Record<string, number>, f: (xs: number[]) => number): Record<string, number> => {
    const keys = Object.keys(pick(reports[0]!));
    return Object.fromEntries(keys.map((k) => [k, f(reports.map((r) => pick(r)[k] ?? 0))]));
  };
  const min = (xs: number[]): number => Math.min(...xs);
  const mean = (xs: number[]): number => +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4);
  const capacity = { p90: agg((r) => r.capacity.p90, min), p99: agg((r) => r.capacity.p99, min) };
  const perCategory: CapacityReport['perCategory'] = {};
  for (const c of Object.keys(reports[0]!.perCategory) as (keyof CapacityReport['perCategory'])[]) perCategory[c] = agg((r) => r.perCategory[c] ?? {}, min);
  const worstOf = (k: 'p90' | 'p99'): ReturnType<typeof capacityRatios> => {
    const lowest = (f: (x: ReturnType<typeof capacityRatios>) => number | null): number | null => {
      const xs = reports.map((r) => f(r.ratios[k]));
      return xs.some((x) => x === null) ? null : Math.min(...(xs as number[]));
    };
    return { vsRoundRobin: lowest((x) => x.vsRoundRobin), vsBestBaseline: lowest((x) => x.vsBestBaseline), bestBaseline: null };
  };
  return {
    capacity,
    capacityMean: { p90: agg((r) => r.capacity.p90, mean), p99: agg((r) => r.capacity.p99, mean) },
    perCategory,
    ratios: { p90: capacityRatios(capacity.p90), p99: capacityRatios(capacity.p99) },
    worstRatios: { p90: worstOf('p90'), p99: worstOf('p99') },
    stoppedShort: [...new Set(reports.flatMap((r) => r.stoppedShort))],
  };
}

/** The capacity table of one sweep (the headline), with EPARA's ratios and a stopped-short warning. */
export function formatCapacity(cap: CapacityReport, policies: readonly string[]): string[] {
  const cats = Object.keys(cap.perCategory) as (keyof CapacityReport['perCategory'])[];
  const SHORT: Record<string, string> = { 'latency-single': 'lat-1', 'latency-multi': 'lat-N', 'frequency-single': 'freq-1', 'frequency-multi': 'freq-N' };
  const head = ['policy', 'p90 (every service)', 'p99 (every service)', ...cats.map((c) => `${SHORT[c]} p90`), 'p90 limited by'];
  const br = (d: CapacityResult): string => `×${fmt(d.load)} [${fmt(d.bracket[0])}, ${d.bracket[1] === null ? '≥' : fmt(d.bracket[1])}]${d.stoppedShort ? ' (stopped short)' : ''}`;
  const rows = policies.map((p) => [p, br(cap.detail.p90[p]!), br(cap.detail.p99[p]!), ...cats.map((c) => `${cap.perCategoryStoppedShort[c]?.includes(p) ? '≥' : ''}×${fmt(cap.perCategory[c]![p]!)}`), cap.detail.p90[p]!.limitedBy ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = ['SLO capacity: the highest load factor at which every service keeps ≥ 90% (p90) / ≥ 99% (p99) SLO attainment, [last load passing, first failing]; per category ≥ 90%:', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (policies.includes('epara')) {
    for (const k of ['p90', 'p99'] as const) {
      const r = capacityRatios(cap.capacity[k]);
      out.push(`  EPARA ÷ round-robin, ${k}: ${ratio(r.vsRoundRobin)}; EPARA ÷ best baseline (${r.bestBaseline ?? '-'}), ${k}: ${ratio(r.vsBestBaseline)}`);
    }
  }
  if (cap.stoppedShort.length > 0) out.push(`  the sweep stopped short: ${cap.stoppedShort.join(', ')} kept every service at its target at the highest load tried (capacity is at least that); add higher --loads`);
  return out;
}

/**
 * The knee on request-level and on balanced attainment: read off the grid, then refined by
 * bisection (knee.ts). Prints one block per basis; returns the probe runs (for knee.csv). Needs
 * EPARA and at least one baseline among the policies; otherwise prints nothing.
 */
async function reportKnees(r: ScenarioResult, steps: number, run: (load: number) => Promise<RunMetrics[]>, print: (l: string) => void): Promise<RunMetrics[]> {
  if (!r.policies.includes('epara') || r.policies.length < 2) return [];
  const runAt = memoRunner(r.results, run);
  const probes = new Map<number, RunMetrics[]>();
  const bases: [KneeBasis, 'goodputRps' | 'balancedGoodputRps', string][] = [['attainment', 'goodputRps', 'SLO attainment'], ['balancedAttainment', 'balancedGoodputRps', 'balanced SLO attainment']];
  print('');
  for (const [basis, metric, label] of bases) {
    const k: KneeResult | null = await findKnee(r.results, r.loads, basis, async (l) => {
      const runs = await runAt(l);
      probes.set(l, runs);
      return runs;
    }, { steps });
    if (!k) {
      print(`knee (${label}): none — some baseline stays at or above 90% at every load; add higher --loads`);
      continue;
    }
    const gridBest = bestBaseline(r.results.filter((m) => m.load === k.gridKnee), basis)!;
    const best = bestBaseline(k.atKnee, basis)!;
    const ratios = Object.entries(ratiosAt(k.atKnee, metric)).map(([p, x]) => `${p} ${x.toFixed(2)}x`).join(', ');
    const grid = `grid ×${k.gridKnee} (best baseline ${gridBest.policy} ${(gridBest.attainment * 100).toFixed(2)}%)`;
    const refined = k.gridLow === null ? 'not refined (below 90% at the lowest load)' : k.probes.length === 0 ? `not refined (${steps} steps)` : `refined ×${k.knee} after ${k.probes.length} bisection steps (best baseline ${best.policy} ${(best.attainment * 100).toFixed(2)}%; last load at or above 90%: ×${k.low})`;
    print(`knee (${label}): ${grid}; ${refined}`);
    print(`  EPARA ÷ baseline, ${metric === 'goodputRps' ? 'goodput' : 'balanced goodput'}, at ×${k.knee}: ${ratios}`);
    const ceiling = ceilingOver(k.atKnee, metric);
    if (ceiling !== null) print(`  ceiling: no policy can be more than ${ceiling.toFixed(2)}x round-robin at ×${k.knee} (offered ÷ its ${metric === 'goodputRps' ? 'goodput' : 'balanced goodput'})`);
  }
  return [...probes.values()].flat().sort((a, b) => a.load - b.load);
}
