/**
 * bench/scheduler: (1) per-class SLO capacity — for every policy, the highest load factor at
 * which every service keeps ≥ 90% (and ≥ 99%) SLO attainment, found by bisection
 * (src/sim/capacity.ts) — with EPARA ÷ round-robin and ÷ the best baseline, per trace (the shared
 * Azure conv trace and two synthetic Azure-format traces with a heavier size tail and bursty
 * arrivals), scenario (mixed, llm-heavy), seed (1, 2) and trace window (the trace cut into
 * disjoint windows; the summary reports the worst), the targets (≥ 2.1× round-robin, ≥ 1.3× the
 * best baseline, on p90) with NOT MET plainly where missed, and the no-starvation check; (2) time
 * to compute a placement for 100, 1,000 and 5,000 devices with 200 services, cold and replan, as
 * a share of the 60 s placement period (target ≤ 1%); (3) how fast the simulator runs the whole
 * hour of the Azure trace on 1,000, 2,000 and 5,000 devices (target ≤ 30 s at 5,000), EPARA
 * beside round-robin. The knee view of earlier rounds is in `epara sim` (a secondary view).
 *
 *   npm run bench -- scheduler
 *   EPARA_BENCH_PARTS=placement,simulator,capacity   which parts (default all three)
 *   EPARA_BENCH_LOADS=0.5,1,2,4   the sweep each capacity search starts from
 *   EPARA_BENCH_DURATION=120   simulated seconds per run
 *   EPARA_BENCH_SCENARIOS=mixed,llm-heavy   EPARA_BENCH_SEEDS=1,2   EPARA_BENCH_WINDOWS=3
 *   EPARA_BENCH_TRACES=conv,synthetic-code,synthetic-chat   (name prefixes)
 *   EPARA_BENCH_CAPACITY_STEPS=3   bisection steps per policy and target
 *   EPARA_BENCH_LLM_BATCHING=continuous   iteration-level LLM batching for every policy (default request)
 *   EPARA_BENCH_SIM_DEVICES=1000,2000   fleet sizes of the simulator-speed runs (default 1000,2000,5000)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envList, envNumber } from './_env.js';
import { ConfigError } from '../src/errors.js';
import { EMPTY_PLACEMENT, planPlacement } from '../src/scheduler/placement.js';
import type { ClusterState, DeviceClass, DeviceState, ServiceSpec } from '../src/scheduler/types.js';
import { PROFILES, profileEstimator } from '../src/sim/device-profiles.js';
import type { RunMetrics } from '../src/sim/metrics.js';
import { capacityRatios, capacityReport, type CapacityReport } from '../src/sim/capacity.js';
import { Rng } from '../src/sim/rng.js';
import { SimRunPool } from '../src/sim/run-pool.js';
import { AZURE_CONV, DEFAULT_LINKS, DEFAULT_TRACE_PATH, defaultFleet, loadAzureTrace, type ScenarioName } from '../src/sim/scenario.js';
import { syntheticTrace, toAzureCsv, type SyntheticTraceOptions } from '../src/sim/synthetic-trace.js';
import type { LlmBatching } from '../src/sim/simulator.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PLACEMENT_PERIOD_MS = 60_000;

/** The traces the capacity part runs on: the shared production trace and synthetic ones unlike it. */
function benchTraces(dir: string): { name: string; file: string }[] {
  const out = [{ name: 'conv (shared)', file: DEFAULT_TRACE_PATH }];
  // Fixed before the first capacity run: a code-like trace (short generations, heavy size tail)
  // and a chat-like one (long generations, heavy tail), both bursty (inter-arrival CV >= 10).
  const synth: [string, SyntheticTraceOptions][] = [
    ['synthetic-code', { rows: 12_000, contextMedian: 1500, generatedMedian: 12, sigma: 1.4, burstMean: 200, burstGapSec: 0.1, seed: 11 }],
    ['synthetic-chat', { rows: 12_000, contextMedian: 1000, generatedMedian: 200, sigma: 1.3, burstMean: 100, burstGapSec: 0.05, seed: 12 }],
  ];
  for (const [name, o] of synth) {
    const file = join(dir, `${name}.csv`);
    writeFileSync(file, toAzureCsv(syntheticTrace(o)));
    out.push({ name, file });
  }
  return out;
}

interface CapacityCell {
  trace: string;
  scenario: string;
  seed: number;
  window: string;
  cap: CapacityReport;
  starved: string[];
}

/** Services a baseline keeps ≥ 90% that EPARA drops under 50% at the same load (the no-starvation check). */
function starvation(results: readonly RunMetrics[]): string[] {
  const out: string[] = [];
  for (const load of [...new Set(results.map((m) => m.load))]) {
    const runs = results.filter((m) => m.load === load);
    const e = runs.find((m) => m.policy === 'epara');
    if (!e) continue;
    for (const [svc, st] of Object.entries(e.byService)) {
      const best = Math.max(...runs.filter((m) => m.policy !== 'epara').map((m) => m.byService[svc]?.attainment ?? 0));
      if (best >= 0.9 && st.attainment < 0.5) out.push(`×${load} ${svc} ${(st.attainment * 100).toFixed(1)}% (a baseline ${(best * 100).toFixed(1)}%)`);
    }
  }
  return out;
}

const f2 = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(2)}x`);

/**
 * Per-class SLO capacity (src/sim/capacity.ts: the highest load at which every service keeps
 * ≥ 90% / ≥ 99% SLO attainment, bisected) of every policy, per trace (the shared conv trace and
 * two synthetic ones), scenario, seed and trace window (the trace cut into disjoint windows), with
 * EPARA ÷ round-robin and ÷ the best baseline, the worst window, and the targets.
 */
async function capacityComparison(): Promise<void> {
  const loads = envList('EPARA_BENCH_LOADS', [0.5, 1, 2, 4]);
  const durationSec = envNumber('EPARA_BENCH_DURATION', { default: 120, min: 10, max: 86_400, unit: 's' });
  const scenarios = (process.env.EPARA_BENCH_SCENARIOS?.split(',').map((x) => x.trim()).filter(Boolean) ?? ['mixed', 'llm-heavy']) as ScenarioName[];
  const steps = envNumber('EPARA_BENCH_CAPACITY_STEPS', { default: 3, min: 0, max: 8, integer: true });
  const nWindows = envNumber('EPARA_BENCH_WINDOWS', { default: 3, min: 1, max: 20, integer: true });
  const seeds = envList('EPARA_BENCH_SEEDS', [1, 2], { default: 1, min: 0, max: 2 ** 32 - 1, integer: true });
  const llmBatching = (process.env.EPARA_BENCH_LLM_BATCHING || 'request') as LlmBatching;
  const dir = mkdtempSync(join(tmpdir(), 'epara-bench-traces-'));
  const traces = benchTraces(dir);
  const only = process.env.EPARA_BENCH_TRACES?.split(',').map((x) => x.trim());
  const cells: CapacityCell[] = [];
  const pool = new SimRunPool();
  const t0 = process.hrtime.bigint();
  console.log(`\n[scheduler] per-class SLO capacity on ${pool.size} worker processes: loads ${loads.join(', ')} then ${steps} bisection steps per policy, ${durationSec} s per run, seeds ${seeds.join(', ')}, ${nWindows} windows per trace, LLM batching ${llmBatching}`);
  try {
    for (const t of traces.filter((x) => !only || only.some((o) => x.name.startsWith(o)))) {
      const span = loadAzureTrace(t.file).spanSec;
      for (const scenario of scenarios) {
        for (const seed of seeds) {
          for (let w = 0; w < nWindows; w++) {
            const win = { traceStartSec: +((span * w) / nWindows).toFixed(3), traceEndSec: +((span * (w + 1)) / nWindows).toFixed(3) };
            const recipe = { azureFile: t.file, scenario, durationSec, seed, llmBatching, ...win };
            const r = await pool.runScenario({ ...recipe, loads });
            const cap = await capacityReport(r.results, r.policies, (p, l) => pool.runOne({ ...recipe, loads: [l] }, l, p), { steps });
            const window = `${win.traceStartSec.toFixed(0)}–${win.traceEndSec.toFixed(0)} s`;
            const starved = starvation(r.results);
            cells.push({ trace: t.name, scenario, seed, window, cap, starved });
            const r90 = capacityRatios(cap.capacity.p90);
            const r99 = capacityRatios(cap.capacity.p99);
            console.log(`\n  ${t.name} (${r.trace}), ${scenario}, seed ${seed}, window ${window}:`);
            console.log(`    ${'policy'.padEnd(18)} ${'p90 capacity [bracket]'.padStart(26)} ${'p99 capacity [bracket]'.padStart(26)}  p90 limited by`);
            for (const p of r.policies) {
              const d90 = cap.detail.p90[p]!;
              const d99 = cap.detail.p99[p]!;
              const br = (d: typeof d90): string => `×${d.load} [${d.bracket[0]}, ${d.bracket[1] ?? '≥'}]${d.stoppedShort ? ' short' : ''}`;
              console.log(`    ${p.padEnd(18)} ${br(d90).padStart(26)} ${br(d99).padStart(26)}  ${d90.limitedBy ?? '-'}`);
            }
            console.log(`    EPARA ÷ round-robin: p90 ${f2(r90.vsRoundRobin)}, p99 ${f2(r99.vsRoundRobin)}; ÷ best baseline: p90 ${f2(r90.vsBestBaseline)} (${r90.bestBaseline}), p99 ${f2(r99.vsBestBaseline)} (${r99.bestBaseline})`);
            console.log(`    no-starvation check (a service some baseline keeps ≥ 90% stays ≥ 50% under EPARA, at each load of the sweep): ${starved.length === 0 ? 'holds' : `FAILS: ${starved.join('; ')}`}`);
            if (cap.stoppedShort.length) console.log(`    the sweep stopped short for ${cap.stoppedShort.join(', ')} (capacity is a lower bound)`);
          }
        }
      }
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n[scheduler] capacity summary (${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s wall): per trace, scenario and seed, the WORST window's EPARA ÷ round-robin and ÷ best baseline; targets on p90: ≥ 2.1x round-robin and ≥ 1.3x best baseline`);
  console.log(`  ${'trace'.padEnd(15)} ${'scenario'.padEnd(10)} ${'seed'.padStart(4)}  ${'p90 ÷RR'.padStart(8)} ${'p90 ÷best'.padStart(10)} ${'p99 ÷RR'.padStart(8)} ${'p99 ÷best'.padStart(10)}  ${'≥2.1x RR'.padEnd(22)} ${'≥1.3x best'.padEnd(22)} starved`);
  const groups = new Map<string, CapacityCell[]>();
  for (const c of cells) {
    const k = `${c.trace}|${c.scenario}|${c.seed}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const worst = (xs: (number | null)[]): number | null => (xs.some((x) => x === null) ? null : Math.min(...(xs as number[])));
  for (const [k, cs] of groups) {
    const [trace, scenario, seed] = k.split('|');
    const w = (lvl: 'p90' | 'p99', f: 'vsRoundRobin' | 'vsBestBaseline'): number | null => worst(cs.map((c) => capacityRatios(c.cap.capacity[lvl])[f]));
    const verdict = (x: number | null, target: number): string => (x === null ? 'n/a (divisor 0)' : x >= target ? 'met' : `NOT MET (short ${((1 - x / target) * 100).toFixed(0)}%)`);
    const starved = cs.reduce((n, c) => n + c.starved.length, 0);
    console.log(`  ${trace!.padEnd(15)} ${scenario!.padEnd(10)} ${seed!.padStart(4)}  ${f2(w('p90', 'vsRoundRobin')).padStart(8)} ${f2(w('p90', 'vsBestBaseline')).padStart(10)} ${f2(w('p99', 'vsRoundRobin')).padStart(8)} ${f2(w('p99', 'vsBestBaseline')).padStart(10)}  ${verdict(w('p90', 'vsRoundRobin'), 2.1).padEnd(22)} ${verdict(w('p90', 'vsBestBaseline'), 1.3).padEnd(22)} ${starved === 0 ? 'none' : `${starved} (FAILS)`}`);
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
  console.log(`  ${'devices'.padStart(7)} ${'cold ms'.padStart(9)} ${'of period'.padStart(10)} ${'replan ms'.padStart(10)} ${'of period'.padStart(10)} ${'target ≤ 1%'.padStart(24)} ${'candidates'.padStart(11)} ${'evaluated'.padStart(10)} ${'units'.padStart(6)}`);
  for (const n of [100, 1000, 5000]) {
    const { state, services } = bigCluster(n);
    let t = process.hrtime.bigint();
    const cold = planPlacement(state, services, EMPTY_PLACEMENT, { estimator: est });
    const coldMs = Number(process.hrtime.bigint() - t) / 1e6;
    // A periodic replan starts from the current placement (the common case after the first round).
    t = process.hrtime.bigint();
    planPlacement(state, services, cold.placement, { estimator: est });
    const warmMs = Number(process.hrtime.bigint() - t) / 1e6;
    const share = (ms: number): number => (ms / PLACEMENT_PERIOD_MS) * 100;
    const verdict = [share(coldMs), share(warmMs)].every((x) => x <= 1) ? 'met' : `NOT MET (cold ${share(coldMs) > 1 ? `${(share(coldMs)).toFixed(1)}×` : 'ok'}, replan ${share(warmMs) > 1 ? `${share(warmMs).toFixed(1)}×` : 'ok'})`;
    console.log(`  ${String(n).padStart(7)} ${coldMs.toFixed(0).padStart(9)} ${share(coldMs).toFixed(2).padStart(9)}% ${warmMs.toFixed(0).padStart(10)} ${share(warmMs).toFixed(2).padStart(9)}% ${verdict.padStart(24)} ${String(cold.stats.candidates).padStart(11)} ${String(cold.stats.evaluations).padStart(10)} ${String(cold.placement.assignments.length).padStart(6)}`);
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
    const slowest = Math.max(wall.epara!, wall['round-robin']!);
    if (devices === 5000) console.log(`  target at 5,000 devices: an hour in ≤ 30 s: ${slowest <= 30 ? 'met' : `NOT MET (${slowest.toFixed(1)} s, ${(slowest / 30).toFixed(2)}× the target)`}`);
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

const PARTS = { placement: placementTiming, simulator: simulatorSpeed, capacity: capacityComparison } as const;

export async function run(): Promise<void> {
  const wanted = process.env.EPARA_BENCH_PARTS?.split(',').map((x) => x.trim()).filter(Boolean) ?? Object.keys(PARTS);
  const unknown = wanted.filter((p) => !Object.hasOwn(PARTS, p));
  if (unknown.length) throw new ConfigError({ code: 'config.invalid', reason: `EPARA_BENCH_PARTS names unknown parts: ${unknown.join(', ')}`, hint: `use some of ${Object.keys(PARTS).join(', ')}`, field: 'EPARA_BENCH_PARTS' });
  for (const p of wanted) await PARTS[p as keyof typeof PARTS]();
}
