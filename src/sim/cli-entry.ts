/**
 * `epara sim`: runs the default scenario (or a user workload) for every policy over a sweep of
 * load factors, prints the comparison table, and writes results.csv and goodput.svg.
 * The CLI engineer registers this in commander:
 *   epara sim [--trace FILE] [--out DIR] [--seed N] [--devices N] [--policies a,b] [--loads 0.5,1,2] [--duration SEC] [--scenario NAME]
 * (`scenario` is one of mixed, llm-heavy, camera-heavy: scenario.ts SCENARIOS.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, isEparaError } from '../errors.js';
import { formatTable, goodputSvg, toCsv } from './report.js';
import { SCENARIO_NAMES, runScenario, type ScenarioName } from './scenario.js';

export interface SimCommandOptions {
  trace?: string;
  /** Workload mix of the default scenario: mixed (default), llm-heavy or camera-heavy. */
  scenario?: string;
  out?: string;
  seed?: number | string;
  devices?: number | string;
  policies?: string | string[];
  loads?: string | number[];
  duration?: number | string;
  /** Where to print (default process.stdout / process.stderr). */
  print?: (line: string) => void;
  printError?: (line: string) => void;
}

/** Default load sweep: from light to well past the fleet's capacity. */
export const DEFAULT_LOADS = [0.5, 1, 2, 4, 6];

function toNumber(name: string, v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new ConfigError({ code: 'cli.bad_option', reason: `--${name} must be a number, got ${JSON.stringify(v)}`, hint: `e.g. --${name} 48`, field: name });
  return n;
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
    const r = runScenario({
      scenario: opts.scenario as ScenarioName | undefined,
      traceFile: opts.trace,
      seed: toNumber('seed', opts.seed),
      devices: toNumber('devices', opts.devices),
      durationSec: toNumber('duration', opts.duration),
      policies: toList(opts.policies),
      loads,
      onRun: (m) => printError(`  load ×${m.load} ${m.policy}: goodput ${m.goodputRps.toFixed(1)}/s, SLO ${(m.attainment * 100).toFixed(1)}%`),
    });
    print(`epara sim: scenario ${r.scenario}, ${r.devices} devices, ${r.durationSec} s per run, seed ${r.seed}, policies ${r.policies.join(', ')}`);
    for (const n of r.notes) print(`  ${n}`);
    print('');
    print(formatTable(r.results));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.csv'), toCsv(r.results));
    writeFileSync(join(out, 'goodput.svg'), goodputSvg(r.results, `Goodput vs offered load (${r.devices} devices, seed ${r.seed})`));
    print('');
    print(`wrote ${join(out, 'results.csv')} and ${join(out, 'goodput.svg')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    print('Azure LLM trace: Azure Public Dataset (CC BY 4.0), Patel et al., "Splitwise", ISCA 2024.');
    return 0;
  } catch (e) {
    if (isEparaError(e)) {
      printError(e.toHuman());
      return e.code.startsWith('config.') || e.code.startsWith('cli.') || e.code.startsWith('sim.') || e.code.startsWith('sched.') ? 2 : 1;
    }
    printError(`error internal: ${(e as Error).message}`);
    return 1;
  }
}
