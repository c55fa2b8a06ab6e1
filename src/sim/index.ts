/**
 * The EPARA simulator (virtual time, no sockets).
 *
 *   runScenario(opts) -> { results: RunMetrics[], notes, ... }    every (load, policy) of a scenario
 *   runScenarioPooled(opts, workers) / SimRunPool                   the same runs in worker processes, several at a time
 *   simulate(config) -> RunMetrics                                  one run (custom fleet/services/workload/policy)
 *   simCommand(opts) -> Promise<exit code>                          `epara sim` (table + results.csv + goodput.svg)
 *   parseWorkload(text, services) / formatWorkload(w)               the --trace FILE format (workload.ts)
 *   formatTable / toCsv / goodputSvg                                reports
 *   PROFILES / serviceTimeMs / profileEstimator                     device classes and their service-time model
 *   findKnee / ratiosAt / ceilingOver / memoRunner                   the knee of a load sweep, refined by bisection
 */
export { runScenario, defaultFleet, defaultServices, defaultWorkload, DEFAULT_LINKS, DEFAULT_TRACE_PATH, AZURE_CONV, type ScenarioOptions, type ScenarioResult } from './scenario.js';
export { runScenarioPooled, SimRunPool, WORKERS } from './run-pool.js';
export { simulate, LLM_BATCHING, type LlmBatching, type SimConfig, type SimDeviceSpec } from './simulator.js';
export { findKnee, ratiosAt, ceilingOver, memoRunner, bestBaseline, type KneeResult, type KneeOptions, type KneeBasis } from './knee.js';
export { simCommand, DEFAULT_LOADS, type SimCommandOptions } from './cli-entry.js';
export { parseWorkload, formatWorkload, WorkloadBuilder, type Workload } from './workload.js';
export { formatTable, toCsv, goodputSvg } from './report.js';
export { PROFILES, serviceTimeMs, loadTimeMs, profileEstimator, type DeviceProfile } from './device-profiles.js';
export type { RunMetrics, CategoryStats } from './metrics.js';
