import type { DeploymentState } from '../../device-mgmt/registry/store.js';
import { isServing } from '../../device-mgmt/session.js';
import type { StateViews } from '../../device-mgmt/state-view.js';
import { EparaError, InferError } from '../../errors.js';
import { resolveNumber } from '../../options.js';
import { WIRE, type Tensor } from '../../protocol/index.js';
import type { LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import { pickDevice, routable, type RouteCandidate } from '../routing.js';
import { scheduledPick, type RouteDecision, type SchedulerConfig } from '../scheduler-wiring.js';
import type { InferOutcome } from '../live-scheduler.js';
import { liveDevice } from './placement.js';

/**
 * INFER (SPEC §5.12), the server's side: routing a request to a device, the deadline and its
 * retransmissions, INFER_CANCEL when nobody waits any more. The server sends INFER_REQUEST and
 * reads the INFER_RESPONSE that answers it; a device sends nothing of this family on its own,
 * so nothing here is in the handler table.
 */
export interface InferResult {
  outputs: Tensor[];
  deviceId: string;
  queueUs?: number;
  computeUs?: number;
  /** Where the scheduler sent the request and why (absent when it routed least-loaded: scheduler off or service unknown to it). */
  route?: RouteDecision;
}

export interface InferHost {
  readonly live: LiveSessions;
  readonly views: StateViews;
  readonly metrics: ServerMetrics;
  readonly requestMs: number;
  readonly inferRetries: number;
  /** The scheduler's config now (undefined: scheduler off). */
  scheduler(): SchedulerConfig | undefined;
  /** A request arrived for the service (measured demand). */
  arrived(service: string): void;
  /** A request finished: what the scheduler learns (service time, SLO attainment). */
  finished(o: InferOutcome): void;
  /** What deployments say of (device, service) now: routing trusts it over a lagging STATE. */
  latestState(deviceId: string, service: string): DeploymentState | undefined;
}

export class InferRouter {
  /** infer() calls in flight; a graceful close waits for them. */
  readonly inflight = new Set<Promise<unknown>>();
  private nextRequestId = 1;

  constructor(private readonly h: InferHost) {}

  /** Devices that can take `service` now: serving sessions with the service ready. */
  candidates(service: string): RouteCandidate[] {
    const out: RouteCandidate[] = [];
    for (const [id, l] of this.h.live) {
      if (!l.conn?.isReady || !isServing(l.session.state)) continue;
      const v = this.h.views.get(id);
      const reported = v?.services.find((s) => s.name === service);
      if (!routable(this.h.latestState(id, service), reported?.status)) continue;
      out.push({ deviceId: id, load: v?.load ?? 0, queueLen: reported?.queueLen ?? 0, inflight: l.inflight, violationRate: reported?.violationRate ?? 0 });
    }
    return out;
  }

  async infer(service: string, inputs: Tensor[], opts: { deadlineMs?: number; deviceId?: string; flowId?: number }): Promise<InferResult> {
    const h = this.h;
    const deadlineMs = resolveNumber('deadlineMs', opts.deadlineMs, { default: h.requestMs, min: 1, max: 600_000, integer: true, unit: 'ms' });
    const t0 = performance.now();
    const cands = this.candidates(service).filter((c) => !opts.deviceId || c.deviceId === opts.deviceId);
    h.arrived(service);
    const sched = h.scheduler();
    const decision =
      sched && sched.services.some((s) => s.name === service)
        ? scheduledPick(
            sched,
            service,
            cands.flatMap((c) => {
              const l = h.live.get(c.deviceId);
              return l ? [{ device: liveDevice(c.deviceId, l, h.views), queueLen: c.queueLen, violationRate: c.violationRate }] : [];
            }),
            Date.now(),
            deadlineMs,
          )
        : undefined;
    // A device the speed model cannot place (Infinity everywhere) still serves what it has loaded.
    const pick = decision?.device ?? pickDevice(cands);
    const l = pick === undefined ? undefined : h.live.get(pick);
    const conn = l?.conn;
    if (pick === undefined || !l || !conn) {
      h.metrics.inferLatency.observe({ service, outcome: 'infer.no_device' }, 0);
      h.finished({ service, latencyMs: 0, ok: false });
      throw new InferError({
        code: 'infer.no_device',
        wire: WIRE['infer.no_device'],
        reason: `no connected device has service ${service} ready${opts.deviceId ? ` (asked for ${opts.deviceId})` : ''}`,
        hint: 'deploy the service (epara deploy) and check `epara devices` for ready, active devices',
        details: { service, connected: h.live.size },
      });
    }
    const requestId = this.nextRequestId;
    this.nextRequestId = (this.nextRequestId % 0xffffffff) + 1;
    l.inflight++;
    // The deadline bounds the whole call. Within it the request is retransmitted (RTX) so a frame
    // lost on a noisy UART/SPP link does not cost the whole budget; the device answers a
    // retransmission of a request it already runs from its response cache, never twice. Attempt
    // timeouts grow ×1.5 (FrameLink), so the first is sized for all of them to fit the deadline.
    const retries = h.inferRetries;
    let span = 0;
    for (let k = 0; k <= retries; k++) span += Math.min(4, 1.5 ** k);
    const call = conn.link.request(
      { type: 'INFER_REQUEST', requestId, service, inputs, deadlineUs: deadlineMs * 1000, ...(opts.flowId !== undefined ? { flowId: opts.flowId } : {}) },
      { timeoutMs: Math.max(1, deadlineMs / span), retries },
    );
    this.inflight.add(call);
    try {
      const r = await call;
      if (r.type !== 'INFER_RESPONSE') {
        throw new InferError({ code: 'infer.runtime', reason: `device ${pick} answered INFER_REQUEST with ${r.type}`, hint: 'update the device firmware' });
      }
      const latencyMs = performance.now() - t0;
      h.metrics.inferLatency.observe({ service, outcome: 'ok' }, latencyMs / 1000);
      const out: InferResult = { outputs: r.outputs, deviceId: pick };
      if (r.queueUs !== undefined) out.queueUs = r.queueUs;
      if (r.computeUs !== undefined) out.computeUs = r.computeUs;
      if (decision) out.route = decision;
      h.finished({ service, deviceId: pick, deviceClass: l.hello.deviceClass, ...(r.computeUs !== undefined ? { computeUs: r.computeUs } : {}), latencyMs, ok: true });
      return out;
    } catch (err) {
      let e = err as EparaError;
      if (e instanceof EparaError && e.code === 'link.timeout') {
        e = new InferError({
          code: 'infer.deadline',
          wire: WIRE['infer.deadline'],
          reason: `device ${pick} did not answer ${service} within the ${deadlineMs} ms deadline`,
          hint: 'raise deadlineMs, or deploy the service on more devices',
          details: { deviceId: pick, deadlineMs },
          cause: err,
        });
        // Tell the device to stop working on a request nobody waits for.
        void l.conn?.link.notify({ type: 'INFER_CANCEL', requestId }).catch(() => undefined);
      }
      h.metrics.inferLatency.observe({ service, outcome: e instanceof EparaError ? e.code : 'internal' }, (performance.now() - t0) / 1000);
      h.finished({ service, deviceId: pick, latencyMs: performance.now() - t0, ok: false });
      throw e;
    } finally {
      l.inflight--;
      this.inflight.delete(call);
    }
  }
}
