import { livenessVerdict, type LivenessPolicy } from '../../device-mgmt/session.js';
import type { StateViews } from '../../device-mgmt/state-view.js';
import { errorInfo } from '../../protocol/index.js';
import type { AuditFn, LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import type { RefusalLimiter } from '../refusal-limiter.js';
import type { ServerHandlers } from './context.js';

/**
 * Liveness and state (SPEC §7.2, §7.3): HEARTBEAT, STATE, PING, BYE and a device's ERROR
 * notification, and the sweep that degrades silent sessions, loses expired ones and probes
 * round-trip times.
 */
export interface LivenessHost {
  readonly live: LiveSessions;
  readonly views: StateViews;
  readonly metrics: ServerMetrics;
  readonly refusals: RefusalLimiter;
  readonly policy: LivenessPolicy & { rttProbeMs: number };
  audit: AuditFn;
}

export function livenessHandlers(h: LivenessHost): Pick<ServerHandlers, 'HEARTBEAT' | 'STATE' | 'PING' | 'BYE' | 'ERROR'> {
  return {
    HEARTBEAT: (_m, { live, reply, now }) => {
      h.live.heard(live, now);
      if (reply) void reply({ type: 'HEARTBEAT_ACK', leaseMs: h.policy.leaseMs }).catch(() => undefined);
    },
    STATE: (m, { deviceId, live, now }) => {
      h.live.heard(live, now);
      h.views.report(deviceId, m, now);
    },
    // Answered by the link once the session is welcomed (pingGate); kept for a link without it.
    PING: (m, { reply }) => {
      if (reply) void reply(m.data ? { type: 'PONG', data: m.data } : { type: 'PONG' }).catch(() => undefined);
    },
    BYE: (_m, { deviceId, live, now }) => h.live.end(deviceId, live, 'bye', now),
    ERROR: (m, { deviceId, conn }) => h.audit({ event: 'device.error', deviceId, remote: conn.remote, detail: `${errorInfo(m.code)?.name ?? m.code}: ${m.reason}` }),
  };
}

/** One pass over every session: degrade the silent, lose the expired, probe round-trip times. */
export function sweep(h: LivenessHost, now: number): void {
  for (const r of h.refusals.summary(now)) h.audit({ event: 'auth.refusals_suppressed', remote: r.remote, detail: r.detail }, 'immediate');
  const base = h.policy;
  for (const [id, l] of h.live) {
    // SPEC §7.2: any frame from the device counts as heard, not only HEARTBEAT and STATE (a
    // device busy answering DEPLOY_CHUNKs is alive).
    const framesIn = l.conn?.link.stats.framesIn ?? 0;
    if (framesIn > l.framesIn) {
      l.framesIn = framesIn;
      if (l.session.state !== 'registered') h.live.heard(l, now);
    }
    const limits = l.conn?.ready?.limits;
    const policy = limits ? { ...base, heartbeatMs: limits.keepaliveMs } : base;
    const v = livenessVerdict({ state: l.session.state, lastHeardAt: l.session.lastHeardAt, linkOpen: l.conn !== undefined }, now, policy);
    if (v === 'missed') h.live.apply(l.session, 'missed', now);
    else if (v === 'lease_expired') h.live.end(id, l, 'lease_expired', now);
    if (base.rttProbeMs > 0 && l.conn && now >= l.nextRttProbeAt) {
      l.nextRttProbeAt = now + base.rttProbeMs;
      const t0 = performance.now();
      l.conn.link.request({ type: 'PING' }, { retries: 0 }).then(
        () => h.views.rtt(id, performance.now() - t0, Date.now()),
        () => undefined,
      );
    }
  }
}
