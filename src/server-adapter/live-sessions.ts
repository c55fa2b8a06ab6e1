import type { HelloMessage } from '../protocol/index.js';
import type { AuditDurability, AuditEntry } from '../device-mgmt/registry/store.js';
import type { Session, SessionEvent } from '../device-mgmt/session.js';
import type { DeviceConnection } from './connection.js';
import type { DeviceStateChange } from './events.js';

/** A device with a session on this server. */
export interface Live {
  session: Session;
  conn: DeviceConnection | undefined;
  hello: HelloMessage;
  /** infer() calls in flight on this device (routing signal before STATE catches up). */
  inflight: number;
  nextRttProbeAt: number;
  lastPersistedSeenAt: number;
  /** Frames received on the link at the last sweep. */
  framesIn: number;
}

/** Appends to the audit log; `immediate` commits before the caller acts (see EparaServer). */
export type AuditFn = (e: Omit<AuditEntry, 'at'> & { at?: number }, durability?: AuditDurability) => void;

export interface LiveSessionsHost {
  readonly leaseMs: number;
  audit: AuditFn;
  /** Persists last_seen (at most once a minute per device). */
  touchDevice(id: string, at: number): void;
  stateChanged(change: DeviceStateChange): void;
  lost(change: DeviceStateChange): void;
  /** The session became active after its handshake: deployments for it may start. */
  activated(deviceId: string): void;
}

/**
 * The live sessions by device id, and the one place their state changes: every session event
 * goes through `apply`, which emits the change and audits what the operator must see.
 */
export class LiveSessions extends Map<string, Live> {
  constructor(private readonly h: LiveSessionsHost) {
    super();
  }

  apply(s: Session, event: SessionEvent, now: number, leftAs: 'device.left' | 'session.superseded' = 'device.left'): void {
    const previous = s.state;
    if (!s.apply(event, now)) return;
    const change: DeviceStateChange = { deviceId: s.deviceId, state: s.state, previous };
    this.h.stateChanged(change);
    if (s.state === 'active' && previous === 'registered') this.h.activated(s.deviceId);
    if (s.state === 'lost') {
      this.h.audit({ event: 'device.lost', deviceId: s.deviceId, detail: `no heartbeat for ${this.h.leaseMs} ms` });
      this.h.lost(change);
    } else if (s.state === 'left') {
      this.h.audit(leftAs === 'device.left' ? { event: leftAs, deviceId: s.deviceId } : { event: leftAs, deviceId: s.deviceId, detail: 'a new session replaced it' });
    }
  }

  /** Any sign of life: the session is active again; last_seen is persisted at most once a minute. */
  heard(l: Live, now: number): void {
    this.apply(l.session, 'heard', now);
    // The registry is not a heartbeat log.
    if (now - l.lastPersistedSeenAt >= 60_000) {
      l.lastPersistedSeenAt = now;
      this.h.touchDevice(l.session.deviceId, now);
    }
  }

  /** Ends a session (BYE, revoke, lease expiry) and drops its link. */
  end(id: string, l: Live, event: 'bye' | 'lease_expired', now: number): void {
    this.apply(l.session, event, now);
    this.delete(id);
    l.conn?.close();
  }
}
