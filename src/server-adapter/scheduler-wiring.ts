import { EparaError } from '../errors.js';
import type { DeviceStateView } from '../device-mgmt/state-view.js';
import type { DeploymentRecord } from '../device-mgmt/registry/store.js';
import { policyByName, type Router } from '../scheduler/baselines/index.js';
import { chooseTarget, replicaSet } from '../scheduler/forwarding.js';
import { EMPTY_PLACEMENT, planPlacement, type PlanOptions } from '../scheduler/placement.js';
import { diffPlacement } from '../scheduler/placement-diff.js';
import type { ClusterState, DeviceState, Estimator, LinkSpec, Placement, PlacementAction, PlacementResult, ServiceSpec } from '../scheduler/types.js';
import type { PlacementOp } from '../protocol/index.js';
import { formPipelineUnits, pipelineUnits, withoutPipelineActions, type PipelinePlacementHost } from './pipeline-placement.js';

/**
 * Wires the scheduler (src/scheduler) into the live server: every placement period the server
 * builds a ClusterState from its sessions, HELLO caps, STATE views and deployment records, runs
 * planPlacement, and turns the resulting actions into DEPLOYs (artifact not on the device yet) and
 * PLACEMENT load / unload / configure messages. infer() then routes through the scheduler's
 * forwarding rule (earliest predicted finish, fewer violations on a tie) instead of the
 * least-loaded fallback. Pure apart from the `SchedulerHost` calls.
 */
export interface SchedulerConfig {
  /** What the gateway serves: the planner's demand, SLOs and model sizes. */
  services: ServiceSpec[];
  /** Device speed model (src/sim/device-profiles.ts `profileEstimator()` is one). */
  estimator: Estimator;
  links?: LinkSpec;
  /** Zone of a device (devices in one zone share a fast link). Default: one zone. */
  zoneOf?: (deviceId: string) => string;
  plan?: Omit<PlanOptions, 'estimator'>;
  /**
   * Which policy places and routes (default 'epara'). The baselines run their own placement
   * (src/scheduler/baselines, the simulator's) and their own router, so an operator can compare.
   */
  policy?: SchedulerName;
  /** The baselines' router, kept across requests (round-robin's counter). Made from `policy` when absent. */
  router?: Router;
}

/** The policies a live gateway can run; 'off' routes to the least-loaded ready device and places nothing. */
export const SCHEDULER_NAMES = ['epara', 'round-robin', 'least-outstanding', 'off'] as const;
export type SchedulerName = Exclude<(typeof SCHEDULER_NAMES)[number], 'off'>;

export interface LiveDevice {
  id: string;
  deviceClass: DeviceState['deviceClass'];
  caps: { memoryKiB: number; gpuCount?: number };
  serving: boolean;
  view: DeviceStateView | undefined;
  inflight: number;
}

/** What the wiring needs from the server. */
export interface SchedulerHost {
  liveDevices(): LiveDevice[];
  deployments(filter: { deviceId?: string; service?: string }): DeploymentRecord[];
  /** Send the artifact of `from` (a settled deployment of the service) to `deviceId`. */
  redeploy(from: DeploymentRecord, deviceId: string): Promise<void>;
  sendPlacement(deviceId: string, ops: PlacementOp[], planVersion: number): Promise<Array<{ service: string; code: number }>>;
  /** Forms the plan's multi-device units as pipelines (absent: they are placed device by device). */
  pipelines?: PipelinePlacementHost;
}

const DEFAULT_LINKS: LinkSpec = { intraZoneMs: 1, interZoneMs: 20, intraZoneMBps: 100, interZoneMBps: 10 };
/** Deployment states that leave the artifact stored on the device. */
const ARTIFACT_ON_DEVICE = new Set(['ready', 'rolled-back', 'undeployed']);

export function clusterState(host: SchedulerHost, cfg: SchedulerConfig, nowMs: number): ClusterState {
  const devices: DeviceState[] = host.liveDevices().map((d) => {
    const services: DeviceState['services'] = {};
    for (const s of d.view?.services ?? []) services[s.name] = { status: s.status, queueLen: s.queueLen, violationRate: s.violationRate };
    const artifacts = [...new Set(host.deployments({ deviceId: d.id }).filter((r) => ARTIFACT_ON_DEVICE.has(r.state)).map((r) => r.service))];
    return {
      id: d.id,
      deviceClass: d.deviceClass,
      // Not floored: an FPGA's 224 KiB must still hold a 10 KiB int8 model.
      memoryMiB: d.caps.memoryKiB / 1024,
      gpuCount: d.caps.gpuCount ?? 0,
      zone: cfg.zoneOf?.(d.id) ?? 'default',
      alive: d.serving,
      services,
      artifacts,
    };
  });
  return { nowMs, devices, links: cfg.links ?? DEFAULT_LINKS };
}

export interface PlacementRound {
  result: PlacementResult;
  /** Per action: 'ok' or the error code the device / server reported. */
  outcomes: Array<{ action: PlacementAction; outcome: string }>;
  /** When the round planned (epoch ms) and how long planning (not the deployments) took. */
  madeAt: number;
  planningMs: number;
}

/** One placement round: plan, then deploy / load / unload / configure on the devices. */
export async function placementRound(host: SchedulerHost, cfg: SchedulerConfig, current: Placement, nowMs: number): Promise<PlacementRound> {
  const state = clusterState(host, cfg, nowMs);
  const t0 = performance.now();
  const result = plan(state, cfg, current ?? EMPTY_PLACEMENT);
  const planningMs = performance.now() - t0;
  const outcomes: PlacementRound['outcomes'] = [];
  const byDevice = new Map<string, PlacementAction[]>();
  // Multi-device units become pipelines (pipeline-placement.ts) when the host can form them.
  const pipes = host.pipelines;
  if (pipes) outcomes.push(...(await formPipelineUnits(pipes, pipelineUnits(result))));
  for (const a of pipes ? withoutPipelineActions(result.actions, result) : result.actions) {
    if (!byDevice.has(a.device)) byDevice.set(a.device, []);
    byDevice.get(a.device)!.push(a);
  }
  await Promise.all(
    [...byDevice].map(async ([deviceId, actions]) => {
      const ops: PlacementOp[] = [];
      const opActions: PlacementAction[] = [];
      for (const a of actions) {
        if (a.action === 'deploy') {
          const source = host
            .deployments({ service: a.service })
            .filter((r) => r.state === 'ready' && (!a.version || r.version === a.version))
            .at(-1);
          if (!source) {
            outcomes.push({ action: a, outcome: 'deploy.unknown' });
            continue;
          }
          try {
            await host.redeploy(source, deviceId);
            outcomes.push({ action: a, outcome: 'ok' });
          } catch (err) {
            outcomes.push({ action: a, outcome: err instanceof EparaError ? err.code : 'internal' });
          }
          continue;
        }
        const op: PlacementOp = { action: a.action, service: a.service };
        if (a.version) op.version = a.version;
        if (a.settings) op.settings = { ...a.settings };
        ops.push(op);
        opActions.push(a);
      }
      if (ops.length === 0) return;
      const results = await host.sendPlacement(deviceId, ops, result.placement.version);
      opActions.forEach((a, i) => outcomes.push({ action: a, outcome: results[i]?.code === 0 ? 'ok' : `wire.${results[i]?.code ?? 'none'}` }));
    }),
  );
  return { result, outcomes, madeAt: nowMs, planningMs };
}

/** What a static baseline last placed for (services | live devices), per config. */
const staticKeys = new WeakMap<SchedulerConfig, string>();

/** EPARA's planner, or a baseline's placement turned into actions by the same diff the simulator uses. */
function plan(state: ClusterState, cfg: SchedulerConfig, current: Placement): PlacementResult {
  const name = cfg.policy ?? 'epara';
  if (name === 'epara') return planPlacement(state, cfg.services, current, { estimator: cfg.estimator, ...cfg.plan });
  const policy = policyByName(name)!;
  // A static baseline places once per fleet and service set (as in the simulator, where both are
  // fixed): a round with the same services and live devices keeps what it placed.
  const key = `${cfg.services.map((s) => s.name).sort().join(',')}|${state.devices.filter((d) => d.alive).map((d) => d.id).sort().join(',')}`;
  const keep = !policy.replan && staticKeys.get(cfg) === key && current.assignments.length > 0;
  staticKeys.set(cfg, key);
  const placed = keep ? current : policy.place(state, cfg.services, current, cfg.estimator);
  const next: Placement = { version: current.version + 1, assignments: placed.assignments };
  const actions = diffPlacement(current, next, new Map(cfg.services.map((s) => [s.name, s])), new Map(state.devices.map((d) => [d.id, d])));
  const zero = { candidates: 0, evaluations: 0, accepted: 0, kept: 0, loads: 0, unloads: 0, objective: 0, demandRps: {}, supplyRps: {} };
  return { placement: next, actions, stats: zero };
}

/** Where a request went and why: the predicted finish there and at the devices passed over. */
export interface RouteDecision {
  device: string;
  policy: SchedulerName;
  /** Predicted finish, ms from now (EPARA; a baseline reports the same model's figure for comparison). */
  predictedMs: number;
  meetsDeadline: boolean;
  /** Every candidate with its predicted finish, ms from now. */
  considered: Array<{ device: string; predictedMs: number }>;
}

/**
 * The forwarding rule for infer(): predicted finish = now + (backlog + 1) × this device's service
 * time for the service, backlog = reported queue + requests this server has in flight there.
 */
export function scheduledPick(
  cfg: SchedulerConfig,
  service: string,
  candidates: Array<{ device: LiveDevice; queueLen: number; violationRate: number }>,
  nowMs: number,
  deadlineMs: number,
): RouteDecision | undefined {
  const spec = cfg.services.find((s) => s.name === service);
  if (!spec || candidates.length === 0) return undefined;
  const views = candidates.map((c) => {
    const ds: DeviceState = {
      id: c.device.id,
      deviceClass: c.device.deviceClass,
      memoryMiB: Math.floor(c.device.caps.memoryKiB / 1024),
      gpuCount: c.device.caps.gpuCount ?? 0,
      zone: 'default',
      alive: true,
      services: {},
    };
    const t = cfg.estimator.serviceTimeMs(ds, spec, 1);
    return { device: c.device.id, predictedFinishMs: nowMs + (c.queueLen + c.device.inflight + 1) * t, outstanding: c.device.inflight, violationRate: c.violationRate };
  });
  const considered = views.map((v) => ({ device: v.device, predictedMs: v.predictedFinishMs - nowMs }));
  const policy = cfg.policy ?? 'epara';
  let index: number | undefined;
  if (policy === 'epara') index = chooseTarget(views, nowMs + deadlineMs)?.index;
  else {
    cfg.router ??= policyByName(policy)!.makeRouter();
    index = cfg.router.route(replicaSet(views), { ingress: '', service, nowMs, deadlineMs: nowMs + deadlineMs, random: Math.random }) ?? undefined;
  }
  const v = index === undefined ? undefined : views[index];
  if (!v) return undefined;
  const predictedMs = v.predictedFinishMs - nowMs;
  return { device: v.device, policy, predictedMs, meetsDeadline: predictedMs <= deadlineMs, considered };
}
