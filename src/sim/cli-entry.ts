/**
 * `epara sim`: runs the default scenario (or a user workload) for every policy over a sweep of
 * load factors, prints the comparison table, and writes results.csv and goodput.svg.
 * The CLI engineer registers this in commander:
 *   epara sim [--trace FILE] [--out DIR] [--seed N] [--devices N] [--policies a,b] [--loads 0.5,1,2] [--duration SEC] [--scenario NAME] [--cameras N] [--hd-cameras N] [--knee-steps N] [--llm-batching request|continuous] [--workers N]
 * (`scenario` is one of mixed, llm-heavy, camera-heavy: scenario.ts SCENARIOS; --cameras / --hd-cameras override its cameras per site.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, isEparaError } from '../errors.js';
import { resolveNumber, type NumberOptionSpec } from '../options.js';
import { bestBaseline, ceilingOver, findKnee, memoRunner, ratiosAt, type KneeBasis, type KneeResult } from './knee.js';
import type { RunMetrics } from './metrics.js';
import { formatTable, goodputSvg, toCsv } from './report.js';
import { SimRunPool, WORKERS } from './run-pool.js';
import { SCENARIO_NAMES, SCENARIO_NUMBERS, type ScenarioName, type ScenarioOptions, type ScenarioResult } from './scenario.js';
import { LLM_BATCHING, type LlmBatching } from './simulator.js';

export interface SimCommandOptions {
  trace?: string;
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
const EXAMPLE: Record<string, string> = { loads: '0.5,1,2,4', seed: '3', devices: '64', duration: '300', 'knee-steps': '3', cameras: '4', 'hd-cameras': '1', workers: '2' };

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
    const recipe = {
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
      return await sweep(pool, recipe, loads, kneeSteps, out, started, print);
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

/** The sweep, the table, the knees and the files, on `pool`. */
async function sweep(pool: SimRunPool, recipe: Omit<ScenarioOptions, 'loads'>, loads: number[], kneeSteps: number, out: string, started: number, print: (l: string) => void): Promise<number> {
  const r = await pool.runScenario({ ...recipe, loads });
  print(`epara sim: scenario ${r.scenario}, ${r.devices} devices, ${r.durationSec} s per run, seed ${r.seed}, policies ${r.policies.join(', ')}, LLM batching ${r.llmBatching}`);
  for (const n of r.notes) print(`  ${n}`);
  print('');
  print(formatTable(r.results));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.csv'), toCsv(r.results));
  const probes = await reportKnees(r, kneeSteps, async (load) => (await pool.runScenario({ ...recipe, loads: [load] })).results, print);
  if (probes.length > 0) writeFileSync(join(out, 'knee.csv'), toCsv(probes));
  writeFileSync(join(out, 'goodput.svg'), goodputSvg(r.results, `Goodput vs offered load (${r.devices} devices, seed ${r.seed})`));
  print('');
  print(`wrote ${join(out, 'results.csv')}${probes.length > 0 ? `, ${join(out, 'knee.csv')} (knee probe runs)` : ''} and ${join(out, 'goodput.svg')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  print('Azure LLM trace: Azure Public Dataset (CC BY 4.0), Patel et al., "Splitwise", ISCA 2024.');
  return 0;
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
