import { EparaError } from '../errors.js';
import { tableMachine, type StateMachine, type TransitionTable } from '../state-machine.js';

/**
 * Server-side session state machine (SPEC §7.4). One `Session` per device id. A fresh link
 * walks connecting → authenticating → registered; the first heartbeat or STATE makes the
 * session active. Missed heartbeats or a dropped link make it degraded; while degraded the lease
 * runs, and a HELLO with `resume` naming the session (plus a valid AUTH) brings it back. When the
 * lease runs out the session is lost; a BYE makes it left. Failed handshakes end in rejected.
 *
 * Pure: time comes in as an argument, so the transitions are tested without timers.
 */
export type SessionState = 'connecting' | 'authenticating' | 'registered' | 'active' | 'degraded' | 'lost' | 'left' | 'rejected';

export type SessionEvent =
  | 'challenge' // CHALLENGE sent
  | 'auth_ok' // AUTH verified, WELCOME sent
  | 'auth_failed' // any rejection during the handshake
  | 'heard' // HEARTBEAT or STATE received
  | 'missed' // heartbeat overdue while the link is open
  | 'link_down' // the link closed or timed out
  | 'resumed' // a new link resumed this session
  | 'lease_expired'
  | 'bye'; // the device (or the server, on shutdown) ended the session

export const SESSION_TRANSITIONS: TransitionTable<SessionState, SessionEvent> = {
  connecting: { challenge: 'authenticating', auth_failed: 'rejected', link_down: 'rejected' },
  authenticating: { auth_ok: 'registered', auth_failed: 'rejected', link_down: 'rejected' },
  registered: { heard: 'active', missed: 'degraded', link_down: 'degraded', resumed: 'registered', bye: 'left' },
  active: { heard: 'active', missed: 'degraded', link_down: 'degraded', resumed: 'registered', bye: 'left' },
  degraded: { heard: 'active', missed: 'degraded', link_down: 'degraded', resumed: 'registered', lease_expired: 'lost', bye: 'left' },
  lost: {},
  left: {},
  rejected: {},
};

export const TERMINAL_STATES: ReadonlySet<SessionState> = new Set(['lost', 'left', 'rejected']);

/** States whose services the scheduler may use. */
export function isServing(s: SessionState): boolean {
  return s === 'active' || s === 'registered';
}

export class SessionTransitionError extends EparaError {}

export const SESSION_MACHINE = tableMachine(SESSION_TRANSITIONS, 'session', (o) => new SessionTransitionError({ ...o, code: 'internal', hint: 'this is a bug in epara; please report it with the server log' }));

export function nextSessionState(from: SessionState, event: SessionEvent): SessionState {
  return SESSION_MACHINE.step(from, event);
}

export interface LivenessPolicy {
  heartbeatMs: number;
  /** Heartbeat periods without a heartbeat before an open link counts as degraded. */
  missedHeartbeats: number;
  /** Time after the last heartbeat (or link loss) at which the session is lost. */
  leaseMs: number;
}

/** What the liveness sweep should do with a session, given the time now. */
export function livenessVerdict(
  s: { state: SessionState; lastHeardAt: number; linkOpen: boolean },
  now: number,
  p: LivenessPolicy,
): 'none' | 'missed' | 'lease_expired' {
  if (TERMINAL_STATES.has(s.state) || s.state === 'connecting' || s.state === 'authenticating') return 'none';
  const silent = now - s.lastHeardAt;
  if (silent >= p.leaseMs && s.state === 'degraded') return 'lease_expired';
  if (s.state !== 'degraded' && s.linkOpen && silent >= p.heartbeatMs * p.missedHeartbeats) return 'missed';
  return 'none';
}

/** One device's session. Holds no link and no timers: the server drives it. */
export class Session {
  private readonly machine: StateMachine<SessionState, SessionEvent> = SESSION_MACHINE.start('connecting');
  /** Last state before the current one; for events and metrics. */
  previous: SessionState | undefined;
  lastHeardAt: number;
  readonly startedAt: number;
  linkOpen = true;
  resumes = 0;

  constructor(
    readonly deviceId: string,
    readonly sessionId: Uint8Array,
    now: number,
  ) {
    this.startedAt = now;
    this.lastHeardAt = now;
  }

  /** Applies an event; returns true when the state changed. */
  apply(event: SessionEvent, now: number): boolean {
    const from = this.machine.state;
    const to = this.machine.fire(event);
    if (event === 'heard' || event === 'resumed' || event === 'auth_ok') this.lastHeardAt = now;
    // SPEC §7.2: the lease runs from the last frame heard *or* the link drop, whichever is later.
    if (event === 'link_down') {
      this.linkOpen = false;
      this.lastHeardAt = Math.max(this.lastHeardAt, now);
    }
    if (event === 'resumed') {
      this.linkOpen = true;
      this.resumes++;
    }
    if (to === from) return false;
    this.previous = from;
    return true;
  }

  get state(): SessionState {
    return this.machine.state;
  }

  get terminal(): boolean {
    return TERMINAL_STATES.has(this.state);
  }

  /** When the lease runs out if nothing is heard. */
  leaseExpiresAt(p: LivenessPolicy): number {
    return this.lastHeardAt + p.leaseMs;
  }
}
