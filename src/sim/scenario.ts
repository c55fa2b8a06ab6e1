/**
 * Scenarios: a fleet, services and a workload, run for one or more policies and load factors.
 *
 * The default scenario (documented in docs/scheduling.md):
 *  - fleet: `devices` devices (default 64) in edge sites of 16 — each site has 2 gpu-server,
 *    4 embedded-gpu, 8 microcomputer, 1 mcu and 1 fpga devices on one LAN (zone); sites are linked
 *    by a slower WAN;
 *  - services, one per category:
 *      chat-7b   latency-single   LLM, 14 GiB (a gpu-server holds it within its SLO)
 *      chat-13b  latency-multi    LLM, 26 GiB, weight 1.8 (fits no device: a pipeline over two or more)
 *      seg-cam   frequency-single segmentation, 1 GiB, 12 ms, 5 fps cameras, 250 ms frame budget
 *      seg-hd    frequency-multi  high-resolution segmentation, 28 GiB (pipeline), 60 ms, 2 fps, 1 s budget
 *  - workload: the Azure LLM 2023 conversation trace for the two chat services (azure-trace.ts
 *    explains the split, sizes, deadlines and the time compression by the load factor), and per
 *    site `camFlowsPerSite × load` (default 2) seg-cam cameras and `hdFlowsPerSite × load` (default 1) seg-hd cameras (camera-flows.ts);
 *  - every policy starts with its own initial placement loaded; EPARA and alpaserve-sr re-place every 60 s.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { resolveNumbers } from '../options.js';
import { POLICIES, policyByName, type Policy } from '../scheduler/baselines/index.js';
import { validateServices } from '../scheduler/categories.js';
import type { DeviceClass, LinkSpec, ServiceSpec } from '../scheduler/types.js';
import { bucketedSpread, fcfsSpread } from '../scheduler/batch-spread.js';
import { DEFAULT_AZURE_MAPPING, azureRequests, batchSpread, bucketedBatchSpread, burstFactor, meanWorkMs, parseAzureTrace, traceStats, type AzureTrace, type TraceStats } from './azure-trace.js';
import { forEachCameraFrame, type Frame } from './camera-flows.js';
import type { RunMetrics } from './metrics.js';
import { Rng } from './rng.js';
import { LLM_BATCHING, simulate, type LlmBatching, type SimDeviceSpec } from './simulator.js';
import { WorkloadBuilder, parseWorkload, type Workload } from './workload.js';
import { TIME_SCALES } from '../time-scales.js';

/**
 * The repository root: the nearest folder above this module that holds package.json. Found by
 * walking up, so it is the same whether this file runs from src/sim (tsx) or dist/src/sim (build).
 */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/**
 * The Azure trace read when no other is given (`epara sim --azure-trace FILE`, `azureFile`): the
 * copy vendored in the repository (data/azure-llm-2023/, unmodified, CC BY 4.0; see its README).
 */
export const DEFAULT_TRACE_PATH = join(repoRoot(), 'data', 'azure-llm-2023', 'AzureLLMInferenceTrace_conv.csv');

/**
 * Figures of the vendored Azure conv trace (test/sim/workload.test.ts checks them against the file).
 * Only what is not sized from a trace uses them: a user workload's chat services whose rows carry
 * no sizes, and the bench's hour length. Runs on an Azure trace size everything from the file in use.
 */
export const AZURE_CONV = { meanWorkMs: 2579.6992047918907, rows: 19_366, spanSec: 3501.7219370117186, batchSpread16: 2.373578450333158, bucketedSpread16: 1.8777624414783898 } as const;

export const DEFAULT_LINKS: LinkSpec = { intraZoneMs: 0.3, interZoneMs: 5, intraZoneMBps: 117, interZoneMBps: 25 };

/**
 * One edge site (one LAN): few GPU servers, more Jetson-class modules, many Pi-class boards and a
 * few MCU / FPGA endpoints — 2 + 4 + 8 + 1 + 1 = 16 devices.
 */
export const SITE: readonly DeviceClass[] = ['gpu-server', 'gpu-server', 'embedded-gpu', 'embedded-gpu', 'embedded-gpu', 'embedded-gpu', ...Array<DeviceClass>(8).fill('microcomputer'), 'mcu', 'fpga'];

export function defaultFleet(n: number): SimDeviceSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const cls = SITE[i % SITE.length]!;
    const site = Math.floor(i / SITE.length);
    return { id: `${cls}-${site}-${i % SITE.length}`, deviceClass: cls, zone: `site-${site}` };
  });
}

/**
 * Named workload mixes on the same fleet and services (docs/scheduling.md §5, "Scenarios"). They
 * differ only in how many cameras each site has; the LLM requests are the Azure trace in all three.
 *  - mixed (default): 2 seg-cam + 1 seg-hd cameras per site — a site with a few cameras and a
 *    chat assistant; frames are ~90% of the requests;
 *  - llm-heavy: one seg-cam and one seg-hd camera per 4 sites (×1) — an office/campus edge whose
 *    work is mostly the chat assistant (LLM ≈ 44% of the requests, nearly all of the GPU time);
 *  - camera-heavy: 8 seg-cam + 2 seg-hd cameras per site — a store or road junction with a
 *    camera per aisle/approach (video analytics), same chat traffic.
 * Explicit camFlowsPerSite / hdFlowsPerSite override the preset.
 */
export const SCENARIOS = {
  mixed: { camFlowsPerSite: 2, hdFlowsPerSite: 1 },
  'llm-heavy': { camFlowsPerSite: 0.25, hdFlowsPerSite: 0.25 },
  'camera-heavy': { camFlowsPerSite: 8, hdFlowsPerSite: 2 },
} as const satisfies Record<string, { camFlowsPerSite: number; hdFlowsPerSite: number }>;
export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export interface ScenarioOptions {
  /** Workload mix preset (default 'mixed'); sets camFlowsPerSite / hdFlowsPerSite unless given. */
  scenario?: ScenarioName;
  devices?: number;
  /** Offered-load factors to run (each one a separate run per policy). */
  loads?: number[];
  durationSec?: number;
  seed?: number;
  policies?: string[];
  /** A workload file (workload.ts format) instead of the default trace + camera mix. */
  traceFile?: string;
  /** The Azure trace file for the default workload (default: data/azure-llm-2023 in the repository). */
  azureFile?: string;
  /** Where in the Azure trace the replayed window starts, seconds (default 0). */
  traceStartSec?: number;
  /** Where it ends (default the trace end); a run needing more than the window replays it again. */
  traceEndSec?: number;
  camFlowsPerSite?: number;
  hdFlowsPerSite?: number;
  stateSyncMs?: number;
  placementMs?: number;
  failures?: { atMs: number; device: string }[];
  /**
   * How the simulated devices batch LLM requests, for every policy alike (simulator.ts): 'request'
   * (default; a batch holds its slot until its longest job is done) or 'continuous'
   * (iteration-level, as vLLM / Orca). With 'continuous' the planners get sizeSpread 1: a
   * continuous batch does not wait for its longest member.
   */
  llmBatching?: LlmBatching;
  /** Called after each run (progress). */
  onRun?: (m: RunMetrics) => void;
}

/** Ranges and defaults of runScenario's numeric options (the CLI checks its flags against the same specs). */
export const SCENARIO_NUMBERS = {
  devices: { default: 64, min: 2, max: 20_000, integer: true },
  durationSec: { default: 300, min: 1, max: 86_400 },
  seed: { default: 1, min: 0, max: 2 ** 32 - 1, integer: true },
  traceStartSec: { default: 0, min: 0, max: 1e9 },
  traceEndSec: { default: 1e9, min: 0.001, max: 1e9 },
  camFlowsPerSite: { default: 2, min: 0, max: 1000 },
  hdFlowsPerSite: { default: 1, min: 0, max: 1000 },
  stateSyncMs: TIME_SCALES.stateSyncMs,
  placementMs: TIME_SCALES.placementMs,
};

let traceCache: { path: string; trace: AzureTrace } | null = null;
/** The Azure LLM trace at `path`, parsed (cached: every run of a sweep reads the same file). */
export function loadAzureTrace(path: string, maxBytes = MAX_WORKLOAD_BYTES): AzureTrace {
  if (traceCache?.path === path) return traceCache.trace;
  // The default file ships in the package (data/); missing, it is an install problem, not a bad flag.
  const isDefault = path === DEFAULT_TRACE_PATH;
  const text = readCappedText(path, maxBytes, {
    code: 'sim.trace',
    what: isDefault ? 'the bundled Azure trace' : 'the Azure trace',
    hint: isDefault
      ? 'the installed package lacks its data/ folder: reinstall epara, or give a trace with epara sim --azure-trace FILE (or your own workload with epara sim --trace FILE)'
      : 'check the path given to epara sim --azure-trace FILE (a file of the Azure LLM inference trace format)',
    field: 'azure-trace',
  });
  const trace = parseAzureTrace(text);
  traceCache = { path, trace };
  return trace;
}

/**
 * Most bytes a workload file (`--trace FILE`) or Azure trace may have. The file is held as one
 * string while it is parsed (V8 cannot make a string much over 512 MiB at all), so a cap with a
 * clear error beats a crash; 256 MiB is some ten million rows (the Azure conv trace is 0.6 MiB).
 */
export const MAX_WORKLOAD_BYTES = 256 * 1024 * 1024;

const bytes = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(0)} MiB` : `${n} bytes`);

/** A text file read whole, refused with a ConfigError when missing, unreadable or over `maxBytes`. */
function readCappedText(path: string, maxBytes: number, o: { code: 'sim.trace' | 'sim.workload'; what: string; hint: string; field: string }): string {
  const cannot = (e: unknown): ConfigError => new ConfigError({ code: o.code, reason: `cannot read ${o.what} at ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, hint: o.hint, field: o.field });
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw cannot(e);
  }
  if (size > maxBytes) {
    throw new ConfigError({
      code: o.code,
      reason: `${o.what} ${path} is ${bytes(size)}, over the ${bytes(maxBytes)} limit`,
      hint: 'replay a window of it (split the file by time), or keep every k-th row and raise the load factor k-fold',
      field: o.field,
      details: { size, maxBytes },
    });
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw cannot(e);
  }
}

export function readWorkloadFile(path: string, maxBytes = MAX_WORKLOAD_BYTES): string {
  return readCappedText(path, maxBytes, { code: 'sim.workload', what: 'workload file', hint: 'check the path', field: 'trace' });
}

export function defaultServices(trace: AzureTrace | null, load: number, sites: number, o: { camFlowsPerSite: number; hdFlowsPerSite: number; llmBatching?: LlmBatching }): ServiceSpec[] {
  // Sized from the trace in use: its mean work, its arrival rate and its size spread.
  const mean = trace ? meanWorkMs(trace, DEFAULT_AZURE_MAPPING) : AZURE_CONV.meanWorkMs;
  const rate = trace ? trace.rows.length / trace.spanSec : AZURE_CONV.rows / AZURE_CONV.spanSec;
  const m = DEFAULT_AZURE_MAPPING;
  // A request-level batch of 16 chat requests lasts as long as its longest one: 2.37× the mean on
  // this trace. A continuous batch refills as each request leaves, so it has no such factor.
  const sizeSpread = o.llmBatching === 'continuous' ? 1 : trace ? batchSpread(trace, m, 16) : AZURE_CONV.batchSpread16;
  // EPARA's handler buckets requests by length, so its batches wait for less than the longest of 16.
  const bucketed = o.llmBatching === 'continuous' ? 1 : trace ? bucketedBatchSpread(trace, m, 16) : Math.min(sizeSpread, AZURE_CONV.bucketedSpread16);
  // Burstiness on the scale of each service's deadline, in trace time: at load x a deadline of
  // W seconds spans x·W seconds of the trace (the load compresses time).
  const burst = (deadlineMs: number): number => (trace ? burstFactor(trace, (load * deadlineMs) / 1000) : 1);
  const d7 = m.slackMs + m.sloScale * mean;
  const d13 = m.slackMs + m.sloScale * mean * m.bigFactor;
  return [
    { name: 'chat-7b', category: 'latency-single', kind: 'llm', memoryMiB: 14_336, workMs: mean, deadlineMs: d7, demandRps: rate * 0.75 * load, maxBatch: 16, sizeSpread, bucketedSpread: bucketed, burstFactor: burst(d7) },
    { name: 'chat-13b', category: 'latency-multi', kind: 'llm', memoryMiB: 26_624, workMs: mean * m.bigFactor, deadlineMs: d13, demandRps: rate * 0.25 * load, maxBatch: 16, activationKiB: 64, weight: m.bigFactor, sizeSpread, bucketedSpread: bucketed, burstFactor: burst(d13) },
    { name: 'seg-cam', category: 'frequency-single', kind: 'vision', memoryMiB: 1_024, workMs: 12, deadlineMs: 250, targetFps: 5, demandRps: Math.round(o.camFlowsPerSite * sites * load) * 5, maxBatch: 16 },
    { name: 'seg-hd', category: 'frequency-multi', kind: 'vision', memoryMiB: 28_672, workMs: 60, deadlineMs: 1000, targetFps: 2, demandRps: Math.round(o.hdFlowsPerSite * sites * load) * 2, maxBatch: 8, activationKiB: 2048 },
  ];
}

export function defaultWorkload(trace: AzureTrace, services: ServiceSpec[], load: number, sites: number, o: { camFlowsPerSite: number; hdFlowsPerSite: number; durationSec: number; seed: number; traceStartSec?: number; traceEndSec?: number; traceName?: string }): Workload {
  const b = new WorkloadBuilder();
  const dur = o.durationSec * 1000;
  const { requests, note } = azureRequests(trace, DEFAULT_AZURE_MAPPING, { load, durationSec: o.durationSec, startSec: o.traceStartSec ?? 0, endSec: o.traceEndSec, seed: o.seed, name: o.traceName });
  for (const r of requests) b.add({ timeMs: r.timeMs, service: r.service, size: r.size, deadlineMs: r.deadlineMs, flow: -1, ingress: r.ingress });
  b.notes.push(note);
  const rng = new Rng(o.seed).fork(7);
  const cam = services.find((s) => s.name === 'seg-cam')!;
  const hd = services.find((s) => s.name === 'seg-hd')!;
  const camFlows = Math.round(o.camFlowsPerSite * sites * load);
  const hdFlows = Math.round(o.hdFlowsPerSite * sites * load);
  const add = (f: Frame): void => b.add({ timeMs: f.timeMs, service: f.service, size: 1, deadlineMs: f.deadlineMs, flow: f.flow, ingress: f.ingress });
  forEachCameraFrame({ service: 'seg-cam', flows: camFlows, fps: cam.targetFps!, budgetMs: cam.deadlineMs, firstFlowId: 0 }, dur, rng, add);
  forEachCameraFrame({ service: 'seg-hd', flows: hdFlows, fps: hd.targetFps!, budgetMs: hd.deadlineMs, firstFlowId: 100_000 }, dur, rng, add);
  b.notes.push(`camera flows: ${camFlows} × seg-cam @ ${cam.targetFps} fps, ${hdFlows} × seg-hd @ ${hd.targetFps} fps (periodic, seeded phase, ±5% jitter)`);
  return b.build(dur);
}

export interface ScenarioResult {
  scenario: ScenarioName;
  results: RunMetrics[];
  notes: string[];
  devices: number;
  durationSec: number;
  seed: number;
  policies: string[];
  loads: number[];
  llmBatching: LlmBatching;
  /** The workload's source: the Azure trace file's name, or the workload file's. */
  trace: string;
  /** What the chat services were sized from (Azure trace runs only). */
  traceStats: TraceStats | null;
  /** The trace window replayed, seconds [start, end] (Azure trace runs only). */
  window: [number, number] | null;
}

export function resolvePolicies(names?: string[]): Policy[] {
  if (!names || names.length === 0) return [...POLICIES];
  return names.map((n) => {
    const p = policyByName(n);
    if (!p) throw new ConfigError({ code: 'sim.policy', reason: `unknown policy ${JSON.stringify(n)}`, hint: `use some of ${POLICIES.map((x) => x.name).join(', ')}`, field: 'policies' });
    return p;
  });
}

/**
 * A user workload file, parsed, with the services its rows use and each one's row count. A
 * batched service's sizeSpread is the expected largest of a full batch over the mean, computed
 * from that service's own sizes in the file (not from the conv trace's).
 */
function userWorkload(path: string, base: ServiceSpec[]): { parsed: Workload; used: ServiceSpec[]; counts: Map<string, number> } {
  let text = readWorkloadFile(path);
  if (/^\uFEFF?"?TIMESTAMP"?,"?ContextTokens/.test(text.slice(0, 64))) {
    throw new ConfigError({ code: 'sim.workload', reason: `${path} is an Azure LLM inference trace (TIMESTAMP,ContextTokens,GeneratedTokens), not an epara workload file`, hint: `run it with epara sim --azure-trace ${path}`, field: 'trace' });
  }
  const parsed = parseWorkload(text, new Map(base.map((s) => [s.name, s])));
  text = '';
  const perIndex = new Array<number>(parsed.services.length).fill(0);
  const sizes: number[][] = parsed.services.map(() => []);
  for (let i = 0; i < parsed.count; i++) {
    perIndex[parsed.service[i]!]!++;
    sizes[parsed.service[i]!]!.push(parsed.size[i]!);
  }
  const counts = new Map(parsed.services.map((name, k) => [name, perIndex[k]!]));
  const index = new Map(parsed.services.map((name, k) => [name, k]));
  const spreads = (s: ServiceSpec): Pick<ServiceSpec, 'sizeSpread' | 'bucketedSpread'> => {
    const xs = sizes[index.get(s.name) ?? -1] ?? [];
    const b = s.maxBatch ?? 16;
    return { sizeSpread: Math.min(1000, fcfsSpread(xs, b)), bucketedSpread: Math.min(1000, bucketedSpread(xs, b)) };
  };
  const used = [
    // The default chat services: their spreads come from this file's sizes (1 under continuous batching, which does not wait for a batch's longest request).
    ...base.map((s) => (s.kind === 'llm' && s.sizeSpread !== 1 && counts.has(s.name) ? { ...s, ...spreads(s) } : s)),
    // A declared service keeps a spread it states; else it gets its sizes' spreads when they vary.
    ...parsed.declared.map((s) => (s.sizeSpread !== undefined || !counts.has(s.name) ? s : { ...s, ...spreads(s) })),
  ].filter((s) => counts.has(s.name));
  return { parsed, used, counts };
}


/**
 * A scenario's options checked and resolved, its workload source read: everything a run needs
 * except the load and the policy. `planScenario` throws every option or input error a run could
 * (so the run pool, run-pool.ts, reports them once, from this process, before it starts a run).
 */
export interface ScenarioPlan {
  name: ScenarioName;
  o: Record<keyof typeof SCENARIO_NUMBERS, number>;
  llmBatching: LlmBatching;
  loads: number[];
  policies: Policy[];
  fleet: SimDeviceSpec[];
  sites: number;
  /** The user workload (`traceFile`), parsed once and replayed at each load. */
  user: ReturnType<typeof userWorkload> | null;
  /** The Azure trace for the default workload (null with a user workload). */
  trace: AzureTrace | null;
  /** The file the workload comes from (its base name appears in every report). */
  traceName: string;
}

export function planScenario(opts: ScenarioOptions = {}): ScenarioPlan {
  const name = opts.scenario ?? 'mixed';
  if (!Object.hasOwn(SCENARIOS, name)) {
    throw new ConfigError({ code: 'sim.scenario', reason: `unknown scenario ${JSON.stringify(name)}`, hint: `use one of ${SCENARIO_NAMES.join(', ')}`, field: 'scenario' });
  }
  const preset = SCENARIOS[name];
  const given: Record<string, unknown> = { ...preset };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) given[k] = v;
  const o = resolveNumbers(SCENARIO_NUMBERS, given as Partial<Record<keyof typeof SCENARIO_NUMBERS, unknown>>);
  const llmBatching = opts.llmBatching ?? 'request';
  if (!LLM_BATCHING.includes(llmBatching)) {
    throw new ConfigError({ code: 'sim.llm_batching', reason: `unknown LLM batching ${JSON.stringify(llmBatching)}`, hint: `use one of ${LLM_BATCHING.join(', ')}`, field: 'llmBatching' });
  }
  const loads = opts.loads ?? [1];
  for (const l of loads) {
    if (typeof l !== 'number' || !Number.isFinite(l) || l <= 0 || l > 1000) throw new ConfigError({ code: 'config.range', reason: `load factor ${l} is outside (0, 1000]`, hint: 'use loads such as 0.5,1,2', field: 'loads' });
  }
  const policies = resolvePolicies(opts.policies);
  const sites = Math.ceil(o.devices / SITE.length);
  if (opts.traceFile && opts.azureFile) {
    throw new ConfigError({ code: 'sim.workload', reason: 'a workload file and an Azure trace were both given', hint: 'use one: epara sim --trace FILE (an epara workload) or epara sim --azure-trace FILE', field: 'azure-trace' });
  }
  const user = opts.traceFile ? userWorkload(opts.traceFile, defaultServices(null, 1, sites, { ...o, llmBatching })) : null;
  const trace = user ? null : loadAzureTrace(opts.azureFile ?? DEFAULT_TRACE_PATH);
  if (trace && o.traceStartSec >= Math.min(o.traceEndSec, trace.spanSec)) {
    throw new ConfigError({ code: 'config.range', reason: `trace window ${o.traceStartSec}:${o.traceEndSec === SCENARIO_NUMBERS.traceEndSec.default ? 'end' : o.traceEndSec} s is empty (the trace spans 0–${trace.spanSec.toFixed(0)} s)`, hint: `pick a window inside it, e.g. epara sim --trace-window 0:${Math.floor(trace.spanSec)}`, field: 'trace-window' });
  }
  const traceName = basename(opts.traceFile ?? opts.azureFile ?? DEFAULT_TRACE_PATH);
  return { name, o, llmBatching, loads, policies, fleet: defaultFleet(o.devices), sites, user, trace, traceName };
}

/** The services and the workload of a plan at one load factor (validated). */
export function workloadAt(plan: ScenarioPlan, load: number): { services: ServiceSpec[]; workload: Workload } {
  const { o, llmBatching, sites } = plan;
  let services: ServiceSpec[];
  let workload: Workload;
  if (plan.user) {
    const { parsed, used, counts } = plan.user;
    // Time compressed by the load factor (rows stay in order, so no re-sort).
    const timeMs = parsed.timeMs.map((t) => t / load);
    workload = { ...parsed, timeMs, durationMs: timeMs[parsed.count - 1]! + 1, declared: [...parsed.declared], notes: [...parsed.notes, `time compressed ×${load}`] };
    services = used.map((s) => ({ ...s, demandRps: (counts.get(s.name) ?? 0) / (workload.durationMs / 1000) }));
  } else {
    services = defaultServices(plan.trace, load, sites, { ...o, llmBatching });
    workload = defaultWorkload(plan.trace!, services, load, sites, { ...o, traceName: `Azure LLM trace ${plan.traceName}` });
  }
  validateServices(services);
  return { services, workload };
}

/** One run of a plan: one policy at one load, on the workload `workloadAt` built for that load. */
export function runPlanned(plan: ScenarioPlan, opts: ScenarioOptions, load: number, policy: Policy, at: { services: ServiceSpec[]; workload: Workload }): RunMetrics {
  const { o } = plan;
  return simulate({ devices: plan.fleet, services: at.services, workload: at.workload, policy, seed: o.seed, links: DEFAULT_LINKS, stateSyncMs: o.stateSyncMs, placementMs: o.placementMs, failures: opts.failures, load, llmBatching: plan.llmBatching });
}

/** The report's notes: the workload notes of the first load, each prefixed with its load. */
export function loadNotes(load: number, workloadNotes: readonly string[]): string[] {
  return workloadNotes.map((n) => `load ×${load}: ${n}`);
}

export function scenarioResult(plan: ScenarioPlan, results: RunMetrics[], notes: string[]): ScenarioResult {
  const t = plan.trace;
  return {
    scenario: plan.name, results, notes, devices: plan.o.devices, durationSec: plan.o.durationSec, seed: plan.o.seed, policies: plan.policies.map((p) => p.name), loads: plan.loads, llmBatching: plan.llmBatching,
    trace: plan.traceName,
    traceStats: t ? traceStats(t, DEFAULT_AZURE_MAPPING) : null,
    window: t ? [plan.o.traceStartSec, Math.min(plan.o.traceEndSec, t.spanSec)] : null,
  };
}

/**
 * Run every (load, policy) pair of a scenario, in this process, one after the other.
 * Deterministic for a given options object. `runScenarioPooled` (run-pool.ts) runs the same pairs
 * in child processes, several at a time, with the same results.
 */
export function runScenario(opts: ScenarioOptions = {}): ScenarioResult {
  const plan = planScenario(opts);
  const results: RunMetrics[] = [];
  let notes: string[] = [];
  for (const load of plan.loads) {
    const at = workloadAt(plan, load);
    if (load === plan.loads[0]) notes = loadNotes(load, at.workload.notes);
    for (const p of plan.policies) {
      const m = runPlanned(plan, opts, load, p, at);
      results.push(m);
      opts.onRun?.(m);
    }
  }
  return scenarioResult(plan, results, notes);
}
