/**
 * The discrete-event simulator (ParaSim-like): runs a policy's placement, router and the scheduler's
 * RequestHandler against simulated devices (service-time models from device-profiles.ts, with
 * seeded log-normal noise) and simulated links, in virtual time. One run is a pure function of its
 * config and seed.
 *
 * What is modelled: requests land on an ingress device and are sent (one link hop) to the entry
 * device of a placed unit; each device runs one batch at a time, choosing among all the services it
 * hosts by earliest deadline; pipeline groups pass each request stage to stage over the link; the
 * response goes back to the ingress. Model loads occupy the device (so churn costs serving time).
 * Every `stateSyncMs` devices report STATE (backlog, per-service SLO-violation EWMA) — the only view
 * of other devices' load the EPARA and least-violation routers get; every `placementMs` (and when a
 * device fails) a replanning policy re-places with the demand observed in the last window.
 * Simplifications: one shared router view stands for the per-device handlers' views; payload
 * transfer of requests is ignored (activations between pipeline stages are charged).
 *
 * LLM batching (`llmBatching`, the same for every policy): 'request' (default) runs a batch as one
 * unit that holds its device slot until its longest job is done (jobs leave as their own work is
 * done, but no new job joins); 'continuous' is iteration-level batching (vLLM, Orca) for services
 * of kind 'llm': the batch stays open, a queued job joins while fewer than maxBatch are in flight,
 * and every member advances at the per-step rate of the current occupancy n,
 * 1 / ((1 + batchBeta · (n − 1)) · (1 + mtSlowdown · other batches on the device)), so a job of
 * isolated time t alone finishes after t and n equal jobs together after t · (1 + batchBeta · (n − 1)),
 * as a request-level batch of n would (the fixed overhead is part of t). Each job leaves when its
 * own work is done. The rate is re-evaluated whenever a job joins or leaves (a job's noise is drawn
 * once, at its join); other services' batches starting or ending in between do not change it.
 *
 * Where the code is: simulation.ts (the Simulation class: the event loop, one method per event
 * kind), sim-entities.ts (devices, units, requests), sim-fleet.ts (building the fleet, putting a
 * placement on it), candidate-units.ts (the router's view), continuous-batch.ts, demand-window.ts
 * (what a replan is told). scripts/sim-check.ts prints the metrics hashes of the check
 * configurations that a refactor must leave byte-identical.
 */
import type { RunMetrics } from './metrics.js';
import type { SimConfig } from './sim-config.js';
import { Simulation } from './simulation.js';

export { LLM_BATCHING, type LlmBatching, type SimConfig } from './sim-config.js';
export type { SimDeviceSpec } from './sim-entities.js';
export { MIN_SPREAD_BATCHES } from './demand-window.js';

/** One run: the Simulation (simulation.ts) of `cfg`, start to end. */
export function simulate(cfg: SimConfig): RunMetrics {
  return new Simulation(cfg).run();
}
