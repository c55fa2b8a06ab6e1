/**
 * Device-side session state machine (SPEC §7.4, device view). Pure: EparaDevice drives it with
 * events and acts on the state it lands in; the table is the whole behaviour.
 *
 *   idle ─start─▶ connecting ─link_open─▶ hello ─challenge─▶ auth ─welcome─▶ ready
 *                     │                    │                  │                │
 *                 link_failed         failed/link_lost   failed/link_lost   link_lost
 *                     ▼                    ▼                  ▼                ▼
 *                  backoff ◀───────────────┴──────────────────┴────────────────┘
 *                     └─retry─▶ connecting            (close from anywhere ─▶ closed)
 *
 * From backoff the next HELLO carries `resume` with the last session id, so the server can keep
 * the device's session (and its services' routing) across a short outage.
 */
import { EparaError } from '../errors.js';
import { WIRE } from '../protocol/error-codes.js';
import { tableMachine, type StateMachine, type TransitionTable } from '../state-machine.js';

export type DeviceSessionState = 'idle' | 'connecting' | 'hello' | 'auth' | 'ready' | 'backoff' | 'closed';

export type DeviceSessionEvent =
  | 'start'
  | 'link_open' // a ByteStream is open; HELLO sent
  | 'link_failed' // the connector could not open a stream
  | 'challenge' // CHALLENGE received and acceptable; AUTH sent
  | 'welcome' // WELCOME received and serverMac verified
  | 'failed' // handshake refused (ERROR) or invalid answer
  | 'link_lost' // stream closed, heartbeat unanswered, BYE from the server
  | 'retry' // backoff delay elapsed
  | 'close'; // the application closed the device

export const DEVICE_SESSION_TRANSITIONS: TransitionTable<DeviceSessionState, DeviceSessionEvent> = {
  idle: { start: 'connecting', close: 'closed' },
  connecting: { link_open: 'hello', link_failed: 'backoff', close: 'closed' },
  hello: { challenge: 'auth', failed: 'backoff', link_lost: 'backoff', close: 'closed' },
  auth: { welcome: 'ready', failed: 'backoff', link_lost: 'backoff', close: 'closed' },
  ready: { link_lost: 'backoff', close: 'closed' },
  backoff: { retry: 'connecting', close: 'closed' },
  closed: {},
};

export const DEVICE_SESSION_MACHINE = tableMachine(DEVICE_SESSION_TRANSITIONS, 'device session', (o) =>
  new EparaError({ ...o, code: 'internal', wire: WIRE.internal, hint: 'this is a bug in the epara client; please report it with the device log' }),
);

export function nextDeviceSessionState(from: DeviceSessionState, event: DeviceSessionEvent): DeviceSessionState {
  return DEVICE_SESSION_MACHINE.step(from, event);
}

/** Tracks the current state and refuses transitions the table does not allow. */
export class DeviceSession {
  private readonly machine: StateMachine<DeviceSessionState, DeviceSessionEvent> = DEVICE_SESSION_MACHINE.start('idle');
  /** The last session id the server granted, offered for resume on the next HELLO. */
  sessionId: Uint8Array | undefined;
  readonly history: Array<{ from: DeviceSessionState; event: DeviceSessionEvent; to: DeviceSessionState }> = [];

  get state(): DeviceSessionState {
    return this.machine.state;
  }

  /** Apply an event; returns the new state. */
  fire(event: DeviceSessionEvent): DeviceSessionState {
    const from = this.machine.state;
    const to = this.machine.fire(event);
    this.history.push({ from, event, to });
    if (this.history.length > 64) this.history.shift();
    return to;
  }

  /** Like fire, but a no-op when the event does not apply (e.g. link_lost after close). */
  tryFire(event: DeviceSessionEvent): DeviceSessionState | undefined {
    return DEVICE_SESSION_MACHINE.allows(this.machine.state, event) ? this.fire(event) : undefined;
  }
}
