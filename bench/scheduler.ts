/**
 * bench/scheduler: (1) goodput of EPARA against every baseline on the same workload in one run,
 * as ratios at every load and at the load where the best baseline falls below 90% SLO attainment
 * (request goodput, and category-balanced goodput) — read off the grid, then refined by bisection
 * on the load factor between the grid loads that bracket it (src/sim/knee.ts), for each documented scenario (mixed,
 * llm-heavy, camera-heavy: src/sim/scenario.ts SCENARIOS) on seed 1 and on a check seed that
 * replays another trace window; (2) time to compute a placement for 100, 1,000 and 5,000 devices
 * with 200 services, as a fraction of the placement period (60 s); (3) how fast the simulator
 * runs the whole hour of the Azure trace with the default camera mix on 1,000, 2,000 and 5,000
 * devices (the issue asks for thousands of devices and an hour in well under a minute), EPARA
 * beside round-robin (its dispatch makes the most, smallest batches, so it is the slow case).
 *
 *   npm run bench -- scheduler
 *   EPARA_BENCH_LOADS=1,2,4,6 EPARA_BENCH_DURATION=300 EPARA_BENCH_SCENARIOS=mixed npm run bench -- scheduler
 *   EPARA_BENCH_KNEE_STEPS=4   bisection steps that refine the knee between grid loads (0 = grid only)
 *   EPARA_BENCH_LLM_BATCHING=continuous   iteration-level LLM batching for every policy (default request)
 *   EPARA_BENCH_PARTS=simulator   only some parts: placement, simulator, goodput (default all three)
 *   EPARA_BENCH_SIM_DEVICES=1000,2000   fleet sizes of the simulator-speed runs (default 1000,2000,5000)
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envList, envNumber } from './_env.js';
import { ConfigError } from '../src/errors.js';
import { POLICIES } from '../src/scheduler/baselines/index.js';
import { EMPTY_PLACEMENT, planPlacement } from '../src/scheduler/placement.js';
import type { ClusterState, DeviceClass, DeviceState, ServiceSpec } from '../src/scheduler/types.js';
import { PROFILES, profileEstimator } from '../src/sim/device-profiles.js';
import type { RunMetrics } from '../src/sim/metrics.js';
import { bestBaseline, ceilingOver, findKnee, memoRunner, ratiosAt, type KneeBasis } from '../src/sim/knee.js';
import { formatTable } from '../src/sim/report.js';
import { Rng } from '../src/sim/rng.js';
import { SimRunPool } from '../src/sim/run-pool.js';
import { AZURE_CONV, DEFAULT_LINKS, SCENARIO_NAMES, defaultFleet, type ScenarioName, type ScenarioResult } from '../src/sim/scenario.js';
import type { LlmBatching } from '../src/sim/simulator.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PLACEMENT_PERIOD_MS = 60_000;

/** EPARA ÷ each baseline at every load, on request goodput and on category-balanced goodput. */
function ratioTable(r: ScenarioResult, loads: number[], metric: 'goodputRps' | 'balancedGoodputRps'): void {
  const baselines = r.policies.filter((p) => p !== 'epara');
  const at = (load: number, p: string): RunMetrics => r.results.find((m) => m.load === load && m.policy === p)!;
  console.log(`  EPARA ÷ baseline, ${metric === 'goodputRps' ? 'goodput (requests within SLO / s)' : 'balanced goodput (offered × mean per-category attainment)'}:`);
  console.log(`  ${'load'.padEnd(6)}${baselines.map((b) => b.padStart(18)).join('')}`);
  for (const l of loads) console.log(`  ${('×' + l).padEnd(6)}${baselines.map((b) => `${(at(l, 'epara')[metric] / at(l, b)[metric]).toFixed(2)}x`.padStart(18)).join('')}`);
}

interface KneeSummary {
  /** The first grid load with the best baseline below 90%, and EPARA ÷ each baseline there. */
  gridLoad: number;
  gridRatios: Record<string, number>;
  /** The refined knee (bisection inside the grid bracket) and EPARA ÷ each baseline there. */
  load: number;
  low: number | null;
  best: string;
  bestAttainment: number;
  ratios: Record<string, number>;
  /** Offered ÷ round-robin's metric at the refined knee: the most any policy could be ahead of it there. */
  ceiling: number;
}

/**
 * The knee (the first load where the best baseline's attainment, request-level or balanced, is
 * below 90%), first as read off the grid, then refined by bisection between the last grid load
 * at or above 90% and the first below (src/sim/knee.ts), same seed; ratios printed at both.
 */
async function knee(r: ScenarioResult, loads: number[], basis: KneeBasis, metric: 'goodputRps' | 'balancedGoodputRps', runAt: (load: number) => Promise<RunMetrics[]>, steps: number): Promise<KneeSummary | null> {
  const k = await findKnee(r.results, loads, basis, runAt, { steps });
  const label = basis === 'attainment' ? 'SLO attainment' : 'balanced SLO attainment';
  if (!k) {
    console.log(`\n  every load ran with some baseline at ≥ 90% ${label}; raise EPARA_BENCH_LOADS to find the knee`);
    return null;
  }
  const gridRuns = r.results.filter((m) => m.load === k.gridKnee);
  const gridBest = bestBaseline(gridRuns, basis)!;
  const gridRatios = ratiosAt(gridRuns, metric);
  console.log(`\n  knee (${label}) on the grid: ×${k.gridKnee}, best baseline ${gridBest.policy} at ${(gridBest.attainment * 100).toFixed(2)}%; EPARA ÷ round-robin ${gridRatios['round-robin']?.toFixed(2)}x`);
  if (k.gridLow === null) console.log(`  not refined: the best baseline is already below 90% at the lowest grid load`);
  else {
    console.log(`  refining between ×${k.gridLow} and ×${k.gridKnee} (${steps} bisection steps):`);
    for (const p of k.probes) console.log(`    ×${p.load}: best baseline ${p.best.policy} ${(p.best.attainment * 100).toFixed(2)}% → ${p.above ? 'at or above 90%' : 'below 90%'}`);
  }
  const best = bestBaseline(k.atKnee, basis)!;
  const e = k.atKnee.find((m) => m.policy === 'epara')!;
  console.log(`  refined knee (${label}): ×${k.knee} (${e.offeredRps.toFixed(1)} req/s offered; last load at or above 90%: ${k.low === null ? 'none' : '×' + k.low}), best baseline ${best.policy} at ${(best.attainment * 100).toFixed(2)}%`);
  console.log(`  ${'policy'.padEnd(20)} ${metric.padStart(18)} ${'attain.'.padStart(8)}   EPARA ÷ policy`);
  const ratios = ratiosAt(k.atKnee, metric);
  for (const m of k.atKnee) console.log(`  ${m.policy.padEnd(20)} ${m[metric].toFixed(1).padStart(18)} ${(m[basis] * 100).toFixed(1).padStart(7)}%   ${(e[metric] / m[metric]).toFixed(2)}x`);
  const rr = ratios['round-robin']!;
  const ahead = Object.values(ratios).every((x) => x > 1);
  const ceiling = ceilingOver(k.atKnee, metric) ?? NaN;
  console.log(`  target ≥ 2.1x round-robin at the refined knee: ${rr.toFixed(2)}x (${rr >= 2.1 ? 'met' : 'NOT met'}); ahead of every baseline: ${ahead ? 'yes' : 'no'}; ceiling for any policy (offered ÷ round-robin's ${metric}): ${ceiling.toFixed(2)}x`);
  return { gridLoad: k.gridKnee, gridRatios, load: k.knee, low: k.low, best: best.policy, bestAttainment: best.attainment, ratios, ceiling };
}

/**
 * Seed 1 replays the trace from its start; the check seed replays a later window of the trace
 * (traceStartSec) with other camera phases, noise and random draws, so EPARA is not judged on the
 * one seed it was developed on. Every scenario runs on both.
 */
async function goodputComparison(): Promise<void> {
  const loads = envList('EPARA_BENCH_LOADS', [0.5, 1, 2, 3, 4, 6, 8]);
  const durationSec = envNumber('EPARA_BENCH_DURATION', { default: 240, min: 10, max: 86_400, unit: 's' });
  const scenarios = (process.env.EPARA_BENCH_SCENARIOS?.split(',').map((x) => x.trim()).filter(Boolean) ?? SCENARIO_NAMES) as ScenarioName[];
  const kneeSteps = envNumber('EPARA_BENCH_KNEE_STEPS', { default: 4, min: 0, max: 12, integer: true });
  // runScenario rejects anything but request / continuous (ConfigError sim.llm_batching)
  const llmBatching = (process.env.EPARA_BENCH_LLM_BATCHING || 'request') as LlmBatching;
  const runs = [{ seed: 1, traceStartSec: 0 }, { seed: 2, traceStartSec: 1800 }];
  const summary: { scenario: string; seed: number; metric: string; k: KneeSummary | null }[] = [];
  // Runs in worker processes, one per core (src/sim/run-pool.ts): same results as in this process.
  const pool = new SimRunPool();
  console.log(`\n[scheduler] goodput runs on ${pool.size} worker processes`);
  try {
    for (const scenario of scenarios) {
      for (const { seed, traceStartSec } of runs) {
        const t0 = process.hrtime.bigint();
        const r = await pool.runScenario({ scenario, loads, durationSec, seed, traceStartSec, llmBatching });
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(`\n[scheduler] goodput, scenario ${scenario}: ${r.devices} devices, ${durationSec} s per run, seed ${r.seed}, trace from ${traceStartSec} s, LLM batching ${llmBatching}, loads ${loads.join(', ')} (${secs.toFixed(1)} s wall for ${r.results.length} runs)`);
        for (const n of r.notes) console.log(`  ${n}`);
        console.log(formatTable(r.results));
        console.log('');
        ratioTable(r, loads, 'goodputRps');
        ratioTable(r, loads, 'balancedGoodputRps');
        // Probe runs: every policy at one more load, same seed and trace window; shared by both knees.
        let probeRuns = 0;
        const t1 = process.hrtime.bigint();
        const runAt = memoRunner(r.results, (load) => {
          probeRuns += r.policies.length;
          return pool.runScenario({ scenario, loads: [load], durationSec, seed, traceStartSec, llmBatching }).then((x) => x.results);
        });
        summary.push({ scenario, seed, metric: 'goodput', k: await knee(r, loads, 'attainment', 'goodputRps', runAt, kneeSteps) });
        summary.push({ scenario, seed, metric: 'balanced', k: await knee(r, loads, 'balancedAttainment', 'balancedGoodputRps', runAt, kneeSteps) });
        console.log(`  (knee refinement: ${probeRuns} more runs, ${(Number(process.hrtime.bigint() - t1) / 1e9).toFixed(1)} s wall)`);
      }
    }
  } finally {
    await pool.close();
  }
  // One line per scenario, seed and metric: EPARA ÷ each baseline at the refined knee, the verdict,
  // and EPARA ÷ round-robin at the grid knee for comparison.
  const baselines = POLICIES.map((p) => p.name).filter((p) => p !== 'epara');
  console.log(`\n[scheduler] summary: EPARA ÷ baseline at the refined knee (first load where the best baseline is below 90%, bisected ${kneeSteps} steps inside the grid bracket)`);
  console.log(`  ${'scenario'.padEnd(13)}${'seed'.padStart(5)} ${'metric'.padEnd(9)}${'grid'.padStart(6)}${'RR@grid'.padStart(9)}${'knee'.padStart(9)}${baselines.map((b) => b.slice(0, 12).padStart(13)).join('')}   ≥2.1x RR   ahead of all   ceiling ÷ RR`);
  for (const { scenario, seed, metric, k } of summary) {
    if (!k) {
      console.log(`  ${scenario.padEnd(13)}${String(seed).padStart(5)} ${metric.padEnd(9)}${'none'.padStart(6)}`);
      continue;
    }
    const ahead = baselines.every((b) => (k.ratios[b] ?? Infinity) > 1);
    console.log(`  ${scenario.padEnd(13)}${String(seed).padStart(5)} ${metric.padEnd(9)}${('×' + k.gridLoad).padStart(6)}${`${k.gridRatios['round-robin']!.toFixed(2)}x`.padStart(9)}${('×' + k.load).padStart(9)}${baselines.map((b) => `${(k.ratios[b] ?? NaN).toFixed(2)}x`.padStart(13)).join('')}   ${(k.ratios['round-robin']! >= 2.1 ? 'met' : 'NOT met').padEnd(9)}  ${(ahead ? 'yes' : 'no').padEnd(12)}   ${k.ceiling.toFixed(2)}x`);
  }
}

/** A fleet of n devices (sites of 16 as in the default scenario) and 200 services of all four categories. */
function bigCluster(n: number): { state: ClusterState; services: ServiceSpec[] } {
  const devices: DeviceState[] = defaultFleet(n).map((d) => {
    const p = PROFILES[d.deviceClass as DeviceClass];
    return { id: d.id, deviceClass: d.deviceClass, zone: d.zone, alive: true, memoryMiB: p.memoryMiB, gpuCount: p.gpuCount, services: {} };
  });
  const rng = new Rng(7);
  const services: ServiceSpec[] = [];
  for (let i = 0; i < 200; i++) {
    const k = i % 10;
    const scale = n / 100;
    if (k < 5) services.push({ name: `seg-${i}`, category: 'frequency-single', kind: 'vision', memoryMiB: 200 + 400 * rng.next(), workMs: 2 + 6 * rng.next(), deadlineMs: 150, targetFps: 10, demandRps: 20 * scale * rng.next(), maxBatch: 16 });
    else if (k < 7) services.push({ name: `det-${i}`, category: 'latency-single', kind: 'vision', memoryMiB: 500 + 1500 * rng.next(), workMs: 5 + 20 * rng.next(), deadlineMs: 300, demandRps: 10 * scale * rng.next(), maxBatch: 8 });
    else if (k < 9) services.push({ name: `chat-${i}`, category: 'latency-single', kind: 'llm', memoryMiB: 8000 + 6000 * rng.next(), workMs: 2000 + 1000 * rng.next(), deadlineMs: 15_000, demandRps: 0.2 * scale * rng.next(), maxBatch: 16 });
    else services.push({ name: `big-${i}`, category: 'latency-multi', kind: 'llm', memoryMiB: 26_000 + 8000 * rng.next(), workMs: 4000, deadlineMs: 30_000, demandRps: 0.05 * scale * rng.next(), maxBatch: 16, activationKiB: 64 });
  }
  return { state: { nowMs: 0, devices, links: DEFAULT_LINKS }, services };
}

function placementTiming(): void {
  const est = profileEstimator();
  console.log(`\n[scheduler] time to compute a placement (200 services), as a fraction of the ${PLACEMENT_PERIOD_MS / 1000} s placement period`);
  console.log(`  ${'devices'.padStart(7)} ${'cold ms'.padStart(9)} ${'replan ms'.padStart(10)} ${'of period'.padStart(10)} ${'candidates'.padStart(11)} ${'evaluated'.padStart(10)} ${'units'.padStart(6)}`);
  for (const n of [100, 1000, 5000]) {
    const { state, services } = bigCluster(n);
    let t = process.hrtime.bigint();
    const cold = planPlacement(state, services, EMPTY_PLACEMENT, { estimator: est });
    const coldMs = Number(process.hrtime.bigint() - t) / 1e6;
    // A periodic replan starts from the current placement (the common case after the first round).
    t = process.hrtime.bigint();
    planPlacement(state, services, cold.placement, { estimator: est });
    const warmMs = Number(process.hrtime.bigint() - t) / 1e6;
    const worst = Math.max(coldMs, warmMs);
    console.log(`  ${String(n).padStart(7)} ${coldMs.toFixed(0).padStart(9)} ${warmMs.toFixed(0).padStart(10)} ${((worst / PLACEMENT_PERIOD_MS) * 100).toFixed(2).padStart(9)}% ${String(cold.stats.candidates).padStart(11)} ${String(cold.stats.evaluations).padStart(10)} ${String(cold.placement.assignments.length).padStart(6)}`);
  }
}

/**
 * Wall time of one simulated hour (the Azure conv trace's 3,501 s at load ×1, the default `mixed`
 * cameras: 2 seg-cam + 1 seg-hd per 16-device site) per fleet size, EPARA and round-robin, with
 * the requests simulated per wall second and the larger of the two runs' peak resident memory
 * (each run is a process of its own).
 */
function simulatorSpeed(): void {
  const sizes = envList('EPARA_BENCH_SIM_DEVICES', [1000, 2000, 5000], { default: 1000, min: 16, max: 20_000, integer: true, unit: 'devices' });
  const durationSec = Math.floor(AZURE_CONV.spanSec);
  console.log(`\n[scheduler] simulator speed: ${durationSec} s of virtual time (the whole Azure conv trace at ×1) with the default camera mix, one policy per run, each run in a fresh process`);
  console.log(`  ${'devices'.padStart(7)} ${'requests'.padStart(10)} ${'epara s'.padStart(8)} ${'req/s'.padStart(9)} ${'round-robin s'.padStart(14)} ${'req/s'.padStart(9)} ${'epara ÷ RR time'.padStart(16)} ${'peak RSS'.padStart(9)}`);
  for (const devices of sizes) {
    const wall: Record<string, number> = {};
    let requests = 0;
    let rss = 0;
    for (const policy of ['epara', 'round-robin']) {
      const run = simulateHourInChild(devices, policy);
      wall[policy] = run.seconds;
      requests = run.requests;
      rss = Math.max(rss, run.maxRssMB);
    }
    console.log(`  ${String(devices).padStart(7)} ${String(requests).padStart(10)} ${wall.epara!.toFixed(1).padStart(8)} ${Math.round(requests / wall.epara!).toString().padStart(9)} ${wall['round-robin']!.toFixed(1).padStart(14)} ${Math.round(requests / wall['round-robin']!).toString().padStart(9)} ${`${(wall.epara! / wall['round-robin']!).toFixed(2)}x`.padStart(16)} ${`${rss.toFixed(0)} MB`.padStart(9)}`);
  }
}

/** One simulated hour in a process of its own (bench/scheduler-procs/sim-hour-child.ts says why). */
function simulateHourInChild(devices: number, policy: string): { requests: number; seconds: number; maxRssMB: number } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'scheduler-procs', 'sim-hour-child.ts'), String(devices), policy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = child.stdout?.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    // not bad input: the child crashed (its stderr is above)
    throw new Error(`the simulator-speed run (${devices} devices, ${policy}) exited with ${child.status ?? child.signal}; rerun it alone: npx tsx bench/scheduler-procs/sim-hour-child.ts ${devices} ${policy}`);
  }
  return JSON.parse(line) as { requests: number; seconds: number; maxRssMB: number };
}

const PARTS = { placement: placementTiming, simulator: simulatorSpeed, goodput: goodputComparison } as const;

export async function run(): Promise<void> {
  const wanted = process.env.EPARA_BENCH_PARTS?.split(',').map((x) => x.trim()).filter(Boolean) ?? Object.keys(PARTS);
  const unknown = wanted.filter((p) => !Object.hasOwn(PARTS, p));
  if (unknown.length) throw new ConfigError({ code: 'config.invalid', reason: `EPARA_BENCH_PARTS names unknown parts: ${unknown.join(', ')}`, hint: `use some of ${Object.keys(PARTS).join(', ')}`, field: 'EPARA_BENCH_PARTS' });
  for (const p of wanted) await PARTS[p as keyof typeof PARTS]();
}
