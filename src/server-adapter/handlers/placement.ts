import type { RegistryStore } from '../../device-mgmt/registry/store.js';
import { isServing } from '../../device-mgmt/session.js';
import type { StateViews } from '../../device-mgmt/state-view.js';
import { DeployError, EparaError } from '../../errors.js';
import { WIRE, type PlacementOp } from '../../protocol/index.js';
import { EMPTY_PLACEMENT } from '../../scheduler/placement.js';
import type { Placement } from '../../scheduler/types.js';
import type { DeployAnswer, DeployOptions } from '../deployments.js';
import type { Live, LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import type { PipelinePlacementHost } from '../pipeline-placement.js';
import { placementRound, type LiveDevice, type PlacementRound, type SchedulerConfig, type SchedulerHost } from '../scheduler-wiring.js';

/**
 * PLACEMENT (SPEC §5.10), the server's side: it sends PLACEMENT and reads the PLACEMENT_ACK that
 * answers it, so nothing here is in the handler table (a device never sends PLACEMENT). The
 * placement round runs the scheduler (when configured) and the app's planner hook, one round at
 * a time.
 */
export interface PlacementHost {
  readonly live: LiveSessions;
  readonly views: StateViews;
  readonly metrics: ServerMetrics;
  readonly resultTimeoutMs: number;
  /** The scheduler's config now (undefined: scheduler off). */
  scheduler(): SchedulerConfig | undefined;
  /** A scheduler round finished (the live scheduler keeps it and closes its demand window). */
  roundDone(round: PlacementRound): void;
  store(): RegistryStore;
  deploy(opts: DeployOptions): Promise<DeployAnswer[]>;
  /** The app's planner hook, if any. */
  planner(): Promise<void> | void;
  closing(): boolean;
  emitError(err: Error): void;
  /** Told of every scheduler round (the event stream's plan.changed). */
  placed?(round: PlacementRound): void;
  /** Forms the plan's multi-device units as pipelines (model parallelism). */
  readonly pipelines?: PipelinePlacementHost;
}

/** What the scheduler knows of a live device. */
export function liveDevice(id: string, l: Live, views: StateViews): LiveDevice {
  return {
    id,
    deviceClass: l.hello.deviceClass,
    caps: { memoryKiB: l.hello.caps.memoryKiB, gpuCount: l.hello.caps.gpuCount ?? 0 },
    serving: l.conn?.isReady === true && isServing(l.session.state),
    view: views.get(id),
    inflight: l.inflight,
  };
}

export class PlacementRunner {
  private current: Placement = EMPTY_PLACEMENT;
  private running = false;
  /** The last placement round the scheduler ran (undefined without `scheduler`). */
  last: PlacementRound | undefined;

  constructor(private readonly h: PlacementHost) {}

  /** Sends one PLACEMENT to a device; resolves with its per-service results (code 0 = ok). */
  async send(deviceId: string, ops: PlacementOp[], planVersion = Date.now() % 2 ** 31): Promise<Array<{ service: string; code: number }>> {
    const conn = this.h.live.get(deviceId)?.conn;
    if (!conn?.isReady) return ops.map((o) => ({ service: o.service, code: WIRE['link.closed'] }));
    try {
      const ack = await conn.link.request({ type: 'PLACEMENT', planVersion, ops });
      if (ack.type !== 'PLACEMENT_ACK') return ops.map((o) => ({ service: o.service, code: WIRE['msg.unexpected'] }));
      return ack.results;
    } catch (err) {
      const wire = err instanceof EparaError ? err.wire ?? WIRE.internal : WIRE.internal;
      return ops.map((o) => ({ service: o.service, code: wire }));
    }
  }

  async run(): Promise<PlacementRound | undefined> {
    // One round at a time: a slow round (deployments in it) must not overlap the next tick.
    if (this.running || this.h.closing()) return undefined;
    this.running = true;
    try {
      let round: PlacementRound | undefined;
      const cfg = this.h.scheduler();
      if (cfg) {
        round = await placementRound(this.h.pipelines ? { ...this.schedulerHost, pipelines: this.h.pipelines } : this.schedulerHost, cfg, this.current, Date.now());
        this.current = round.result.placement;
        this.last = round;
        this.h.placed?.(round);
        this.h.roundDone(round);
      }
      await this.h.planner();
      return round;
    } catch (err) {
      this.h.emitError(err as Error);
      return undefined;
    } finally {
      this.running = false;
    }
  }

  private readonly schedulerHost: SchedulerHost = {
    liveDevices: () => [...this.h.live].map(([id, l]) => liveDevice(id, l, this.h.views)),
    deployments: (f) => this.h.store().listDeployments(f),
    redeploy: async (from, deviceId) => {
      // Waits for the transfer to settle: the 'load' op that follows needs the artifact on the device.
      const [rec] = await this.h.deploy({
        artifact: { sha256: from.sha256 },
        service: from.service,
        version: from.version,
        kind: from.kind,
        category: from.category,
        to: [deviceId],
        ...(from.meta ? { meta: from.meta } : {}),
        timeoutMs: this.h.resultTimeoutMs,
      });
      if (rec?.state !== 'ready') {
        throw new DeployError({ code: rec?.errorCode ?? 'deploy.load_failed', reason: `deployment of ${from.service}@${from.version} to ${deviceId} ended ${rec?.state ?? 'missing'}`, hint: 'see the deployment record and the device log' });
      }
    },
    sendPlacement: (deviceId, ops, planVersion) => this.send(deviceId, ops, planVersion),
  };
}
