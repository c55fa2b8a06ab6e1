/**
 * Pipelines in the scheduler's placement round: a unit the allocator formed over several devices
 * (a model-parallel group, in stage order, with splitModel's share per stage) is not a deploy and
 * a load per device like a replica; it is formed as a pipeline (pipeline-deploy.ts: the model cut
 * for those shares, one stage artifact per device, PLACEMENT with the stage). A group already
 * formed on the same devices with the same shares is kept; a lost one is formed again, so the
 * round after a stage device went away re-forms the group on the devices the planner picks then.
 * Pure apart from the host calls.
 */
import type { DeploymentRecord } from '../device-mgmt/registry/store.js';
import { EparaError } from '../errors.js';
import { sameShare } from '../scheduler/allocator.js';
import type { Assignment, PlacementAction, PlacementResult } from '../scheduler/types.js';
import { sourceOf, type FormPipelineOptions } from './pipeline-deploy.js';
import { isStageService, type PipelineGroup } from './pipeline-groups.js';

export interface PipelinePlacementHost {
  formPipeline(o: FormPipelineOptions): Promise<PipelineGroup>;
  pipeline(service: string): PipelineGroup | undefined;
  deployments(filter: { service?: string }): DeploymentRecord[];
}

/**
 * The deployments the planner builds its services from: the ready ones, and for a service none of
 * whose deployments is ready because it fits no device (deploy.too_large), its latest attempt, so
 * the planner sees the model and can split it. Stage artifacts (`<service>#<i>`) are not services.
 */
export function plannableDeployments(all: DeploymentRecord[]): DeploymentRecord[] {
  const records = all.filter((r) => !isStageService(r.service));
  const ready = records.filter((r) => r.state === 'ready');
  const served = new Set(ready.map((r) => r.service));
  const tooBig = new Map<string, DeploymentRecord>();
  for (const r of records) {
    if (served.has(r.service) || r.state !== 'failed' || r.errorCode !== 'deploy.too_large') continue;
    if (!tooBig.has(r.service) || tooBig.get(r.service)!.id < r.id) tooBig.set(r.service, r);
  }
  return [...ready, ...tooBig.values()];
}

/** The round's multi-device units, the first per service (one pipeline per service). */
export function pipelineUnits(result: PlacementResult): Assignment[] {
  const seen = new Set<string>();
  return result.placement.assignments.filter((a) => a.devices.length > 1 && !seen.has(a.service) && seen.add(a.service));
}

/** The round's actions without those the pipelines take over (their stages' deploys and loads). */
export function withoutPipelineActions(actions: PlacementAction[], result: PlacementResult): PlacementAction[] {
  const grouped = new Set(result.placement.assignments.filter((a) => a.devices.length > 1).map((a) => a.service));
  return actions.filter((a) => !grouped.has(a.service) || a.action === 'unload');
}

function sameGroup(g: PipelineGroup | undefined, u: Assignment): boolean {
  if (!g || g.lost || g.stages.length !== u.devices.length) return false;
  return g.stages.every((s, i) => s.deviceId === u.devices[i] && sameShare(s.share, u.stageFractions[i] ?? 0));
}

/** Forms (or keeps) each unit's pipeline; one outcome per stage device. */
export async function formPipelineUnits(h: PipelinePlacementHost, units: Assignment[]): Promise<Array<{ action: PlacementAction; outcome: string }>> {
  const out: Array<{ action: PlacementAction; outcome: string }> = [];
  for (const u of units) {
    const record = (outcome: string) => u.devices.forEach((device, i) => out.push({ action: { device, action: 'load', service: u.service, settings: { batch: u.batch, replicas: 1, parallelDegree: u.devices.length, stage: i, maxQueue: Math.max(4, u.batch * 4) } }, outcome }));
    if (sameGroup(h.pipeline(u.service), u)) {
      record('ok');
      continue;
    }
    const source = sourceOf(h.deployments({ service: u.service }));
    if (!source) {
      record('deploy.unknown');
      continue;
    }
    try {
      await h.formPipeline({ service: u.service, version: source.version, category: source.category, sha256: source.sha256, devices: u.devices, shares: u.stageFractions });
      record('ok');
    } catch (err) {
      record(err instanceof EparaError ? err.code : 'internal');
    }
  }
  return out;
}
