/**
 * The live testbed's scenario, one definition for both sides of the comparison: the fleet, the
 * services and the workload at a load factor, built from the simulator's own functions
 * (src/sim/scenario.ts: defaultFleet, defaultServices, defaultWorkload — the Azure conv trace
 * mapped as `epara sim` maps it, plus seeded camera flows). The live run (bench/live.ts) replays
 * exactly these rows against a real EparaServer; the simulator runs them in virtual time.
 *
 * Only the services that fit one device are kept (chat-7b, latency-single; seg-cam,
 * frequency-single), on both sides alike: the split services (chat-13b, seg-hd) would need a
 * fixture model that must be cut for the emulated fleet, and a run that forms pipelines at every
 * placement; the live gateway does run them (bench/pipeline.ts measures that), this bench does not.
 */
import { DEFAULT_AZURE_MAPPING } from '../../src/sim/azure-trace.js';
import { DEFAULT_TRACE_PATH, SITE, defaultFleet, defaultServices, defaultWorkload, loadAzureTrace } from '../../src/sim/scenario.js';
import { WorkloadBuilder, type Workload } from '../../src/sim/workload.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import type { SimDeviceSpec } from '../../src/sim/simulator.js';

export const LIVE_SERVICES = ['chat-7b', 'seg-cam'] as const;

export interface LiveScenarioOptions {
  devices: number;
  camFlowsPerSite: number;
  durationSec: number;
  seed: number;
}

export function liveFleet(o: LiveScenarioOptions): SimDeviceSpec[] {
  return defaultFleet(o.devices);
}

export function sitesOf(o: LiveScenarioOptions): number {
  return Math.ceil(o.devices / SITE.length);
}

/** The services and the rows of one load factor (the simulator's mapping, the kept services only). */
export function liveWorkloadAt(o: LiveScenarioOptions, load: number): { services: ServiceSpec[]; workload: Workload } {
  const trace = loadAzureTrace(DEFAULT_TRACE_PATH);
  const sites = sitesOf(o);
  const mix = { camFlowsPerSite: o.camFlowsPerSite, hdFlowsPerSite: 0 };
  const all = defaultServices(trace, load, sites, mix);
  const full = defaultWorkload(trace, all, load, sites, { ...mix, durationSec: o.durationSec, seed: o.seed, traceName: 'Azure LLM trace AzureLLMInferenceTrace_conv.csv' });
  const keep = new Set<string>(LIVE_SERVICES);
  const b = new WorkloadBuilder();
  for (let i = 0; i < full.count; i++) {
    const service = full.services[full.service[i]!]!;
    if (keep.has(service)) b.add({ timeMs: full.timeMs[i]!, service, size: full.size[i]!, deadlineMs: full.deadlineMs[i]!, flow: full.flow[i]!, ingress: full.ingress[i]! });
  }
  b.notes.push(...full.notes, `kept ${LIVE_SERVICES.join(', ')} (single-device services); ${DEFAULT_AZURE_MAPPING.bigFactor}× chat-13b rows and seg-hd flows left out on both sides`);
  return { services: all.filter((s) => keep.has(s.name)), workload: b.build(full.durationMs) };
}
