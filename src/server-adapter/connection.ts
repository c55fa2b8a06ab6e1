import { randomBytes } from 'node:crypto';
import {
  admitHello,
  decideSession,
  negotiateLimits,
  negotiateVersion,
  NONCE_BYTES,
  SESSION_ID_BYTES,
  serverMac,
  verifyAuth,
  type ExistingSession,
  type LinkLimits,
  type NonceCache,
  type RejectCode,
  type VersionRange,
} from '../device-mgmt/auth.js';
import type { DeviceRecord } from '../device-mgmt/registry/store.js';
import { Session } from '../device-mgmt/session.js';
import { EparaError } from '../errors.js';
import { errorForCode, toErrorMessage, type AuthMessage, type Frame, type HelloMessage, type Message } from '../protocol/index.js';
import { MachineDefinition, type StateMachine } from '../state-machine.js';
import type { DeviceLink } from './device-link.js';

/**
 * One device link on the server: runs the HELLO / CHALLENGE / AUTH / WELCOME handshake
 * (SPEC §7.1), then hands every request and notification to the server. A rejection answers
 * with a typed ERROR, is reported to the host (audit + metrics) and closes only this link.
 */
export interface HandshakeConfig {
  versions: VersionRange;
  maxFrame: number;
  window: number;
  heartbeatMs: number;
  minHeartbeatMs: number;
  maxHeartbeatMs: number;
  leaseMs: number;
  stateMs: number;
  authTimeoutMs: number;
  openEnrolment: boolean;
}

export type RejectionCode = RejectCode | 'auth.timeout' | 'msg.unexpected' | 'internal';

/**
 * The handshake state of one link, one discriminated union: each phase holds exactly what is
 * known in it, so nothing needs a `!`. The nonce lives only while AUTH is awaited; the session
 * exists only once AUTH passed.
 *
 *   hello ──challenged──▶ auth ──welcomed──▶ ready ──rehello (a rebooted device on a UART)──▶ hello
 *     └───────close────────┴──────close───────┴──────▶ closed
 */
export type LinkPhase =
  | { readonly value: 'hello' }
  | AuthPhase
  | ReadyPhase
  | { readonly value: 'closed'; readonly deviceId: string | undefined; readonly session: Session | undefined };

export interface AuthPhase {
  readonly value: 'auth';
  readonly hello: HelloMessage;
  readonly version: number;
  readonly limits: LinkLimits;
  /** The CHALLENGE nonce; spent (undefined) once an AUTH arrived, so a second AUTH is a replay. */
  readonly nonce: Uint8Array | undefined;
  /** When the HELLO was accepted: the session's start. */
  readonly helloAt: number;
}

export interface ReadyPhase {
  readonly value: 'ready';
  readonly hello: HelloMessage;
  readonly version: number;
  readonly limits: LinkLimits;
  readonly session: Session;
}

type LinkInput =
  | { readonly value: 'challenged'; readonly hello: HelloMessage; readonly version: number; readonly limits: LinkLimits; readonly nonce: Uint8Array; readonly at: number }
  | { readonly value: 'auth_received' }
  | { readonly value: 'welcomed'; readonly session: Session }
  | { readonly value: 'rehello' }
  | { readonly value: 'close'; readonly deviceId: string | undefined };

function phaseDeviceId(p: LinkPhase): string | undefined {
  return p.value === 'hello' ? undefined : p.value === 'closed' ? p.deviceId : p.hello.deviceId;
}

export const LINK_MACHINE = new MachineDefinition<LinkPhase, LinkInput>(
  (p, i) => {
    switch (i.value) {
      case 'challenged':
        return p.value === 'hello' ? { value: 'auth', hello: i.hello, version: i.version, limits: i.limits, nonce: i.nonce, helloAt: i.at } : undefined;
      case 'auth_received':
        return p.value === 'auth' ? { ...p, nonce: undefined } : undefined;
      case 'welcomed':
        return p.value === 'auth' ? { value: 'ready', hello: p.hello, version: p.version, limits: p.limits, session: i.session } : undefined;
      case 'rehello':
        return p.value === 'ready' ? { value: 'hello' } : undefined;
      case 'close':
        return p.value === 'closed' ? undefined : { value: 'closed', deviceId: i.deviceId ?? phaseDeviceId(p), session: p.value === 'ready' ? p.session : undefined };
    }
  },
  (p, i) =>
    new EparaError({
      code: 'internal',
      reason: `link event ${i.value} is not allowed in handshake phase ${p.value}`,
      hint: 'this is a bug in epara; please report it with the server log',
      details: { from: p.value, event: i.value },
    }),
);

export interface ConnectionHost {
  readonly handshake: HandshakeConfig;
  readonly nonces: NonceCache;
  lookupDevice(id: string): DeviceRecord | undefined;
  /** The device's key, unsealed; undefined when it has none. */
  deviceKey(id: string): Uint8Array | undefined;
  /** Open enrolment: record an unknown device as pending; false when the pending list is full. */
  enrol(conn: DeviceConnection, hello: HelloMessage): boolean;
  existingSession(id: string): ExistingSession | undefined;
  /** AUTH passed: create or resume the session and bind it to this link. */
  bind(conn: DeviceConnection, pending: AuthPhase, candidate: Session, action: 'new' | 'resume'): Session;
  /** Called once the WELCOME is on the wire. */
  welcomed(conn: DeviceConnection, ready: ReadyPhase, resumed: boolean): void;
  rejected(conn: DeviceConnection, code: RejectionCode, reason: string, deviceId: string | undefined): void;
  /** Post-handshake traffic. `reply` is set for requests. */
  message(conn: DeviceConnection, ready: ReadyPhase, frame: Frame, reply: ((msg: Message) => Promise<void>) | undefined): void;
  /** The link that carried `session` closed (or a rebooted device restarted its handshake on it). */
  closed(conn: DeviceConnection, session: Session, err?: Error): void;
}

export class DeviceConnection {
  private readonly machine: StateMachine<LinkPhase, LinkInput> = LINK_MACHINE.start({ value: 'hello' });
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly link: DeviceLink,
    readonly remote: string,
    private readonly host: ConnectionHost,
  ) {
    link.on('request', (frame, reply) => this.onRequest(frame, reply));
    link.on('notify', (frame) => this.onNotify(frame));
    link.on('close', (err) => this.onClose(err));
    // SPEC §7.1: before WELCOME a PING is a request like any other and gets auth.not_authenticated.
    link.pingGate = () => this.phase.value === 'ready';
    this.armAuthTimer();
  }

  get phase(): LinkPhase {
    return this.machine.state;
  }

  /** The handshake's outcome once the device is welcomed, else undefined. */
  get ready(): ReadyPhase | undefined {
    const p = this.phase;
    return p.value === 'ready' ? p : undefined;
  }

  get deviceId(): string | undefined {
    return phaseDeviceId(this.phase);
  }

  get isReady(): boolean {
    return this.phase.value === 'ready';
  }

  /** Ends the link; the server sees `closed` through the link's close event. */
  close(): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    void this.link.close().catch(() => undefined);
  }

  private armAuthTimer(): void {
    this.authTimer = setTimeout(() => this.onAuthTimeout(), this.host.handshake.authTimeoutMs);
    this.authTimer.unref();
  }

  private onRequest(frame: Frame, reply: (msg: Message) => Promise<void>): void {
    const m = frame.message;
    let p = this.phase;
    if (p.value === 'ready' && m.type === 'HELLO') {
      // A device behind a UART / SPP link that rebooted says HELLO on the same, still-open stream:
      // its session loses this link (as if it dropped) and the handshake starts over here.
      this.host.closed(this, p.session);
      p = this.machine.fire({ value: 'rehello' });
      this.armAuthTimer();
    }
    if (p.value === 'ready') return this.host.message(this, p, frame, reply);
    if (p.value === 'closed') return;
    if (m.type === 'HELLO') {
      // Audited under the id the handshake is for (the first HELLO's), not whatever the second claims.
      if (p.value === 'auth') return this.reject(reply, 'msg.unexpected', `a second HELLO (as ${JSON.stringify(m.deviceId.slice(0, 64))}) during the handshake`, p.hello.deviceId);
      return this.onHello(m, reply);
    }
    if (m.type === 'AUTH') return this.onAuth(m, reply);
    this.reject(reply, 'auth.not_authenticated', `${m.type} before the handshake completed`, this.deviceId);
  }

  private onNotify(frame: Frame): void {
    const p = this.phase;
    if (p.value === 'ready') this.host.message(this, p, frame, undefined);
    // Before the handshake a BYE or stray notification is simply dropped: nothing to undo.
  }

  private onHello(hello: HelloMessage, reply: (msg: Message) => Promise<void>): void {
    const cfg = this.host.handshake;
    const v = negotiateVersion(hello.proto, cfg.versions);
    if (!v.ok) return this.reject(reply, v.code, v.reason, hello.deviceId);
    let record;
    try {
      record = this.host.lookupDevice(hello.deviceId);
    } catch (err) {
      const reason = (err instanceof Error ? err.message.split('\n', 1)[0] : undefined) ?? 'registry lookup failed';
      return this.reject(reply, 'internal', `cannot look up ${hello.deviceId}: ${reason}`, hello.deviceId);
    }
    const admission = admitHello(hello.deviceId, record, cfg.openEnrolment);
    if (!admission.ok) return this.reject(reply, admission.code, admission.reason, hello.deviceId);
    if (admission.action === 'enrol') {
      if (!this.host.enrol(this, hello)) {
        return this.reject(reply, 'auth.unknown_device', `device ${hello.deviceId} is not provisioned and the pending-approval list is full`, hello.deviceId);
      }
      return this.reject(reply, 'auth.pending_approval', `device ${hello.deviceId} is new; it waits for an operator to approve it`, hello.deviceId);
    }
    const limits = negotiateLimits(hello, cfg);
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    this.machine.fire({ value: 'challenged', hello, version: v.version, limits, nonce, at: Date.now() });
    // SPEC §7.1: the negotiated frame size and window apply to every frame after CHALLENGE.
    void reply({
      type: 'CHALLENGE',
      nonce,
      version: v.version,
      maxFrame: limits.maxFrame,
      window: limits.window,
      keepaliveMs: limits.keepaliveMs,
    }).then(
      () => this.link.setNegotiated({ maxFrame: limits.maxFrame, window: limits.window, protocolVersion: v.version }),
      () => undefined,
    );
  }

  private onAuth(auth: AuthMessage, reply: (msg: Message) => Promise<void>): void {
    const pending = this.phase;
    if (pending.value !== 'auth' || !pending.nonce) {
      return this.reject(reply, 'auth.replay', 'AUTH without an outstanding CHALLENGE on this link', this.deviceId);
    }
    // One nonce answers one AUTH: whatever happens next, a second AUTH on this link is a replay.
    this.machine.fire({ value: 'auth_received' });
    const { hello, nonce: outstanding } = pending;
    let key: Uint8Array | undefined;
    try {
      key = this.host.deviceKey(hello.deviceId);
    } catch (err) {
      // The registry or the master key failed (e.g. master.key replaced): refuse this device, keep serving the rest.
      const reason = (err instanceof Error ? err.message.split('\n', 1)[0] : undefined) ?? 'key lookup failed';
      return this.reject(reply, 'internal', `cannot check ${hello.deviceId}'s key: ${reason}`, hello.deviceId);
    }
    if (!key) return this.reject(reply, 'auth.unknown_device', `device ${hello.deviceId} has no key on this server`, hello.deviceId);
    const check = verifyAuth({
      deviceId: hello.deviceId,
      outstandingNonce: outstanding,
      serverNonce: auth.serverNonce,
      deviceNonce: auth.deviceNonce,
      mac: auth.mac,
      key,
      nonces: this.host.nonces,
    });
    if (!check.ok) {
      key.fill(0);
      return this.reject(reply, check.code, check.reason, hello.deviceId);
    }
    const decision = decideSession(this.host.existingSession(hello.deviceId), hello.resume, hello.deviceId);
    if (!decision.ok) {
      key.fill(0);
      return this.reject(reply, decision.code, decision.reason, hello.deviceId);
    }
    // The session starts at the HELLO; until AUTH passed it was only this link's handshake.
    const candidate = new Session(hello.deviceId, new Uint8Array(randomBytes(SESSION_ID_BYTES)), pending.helloAt);
    candidate.apply('challenge', pending.helloAt);
    const session = this.host.bind(this, pending, candidate, decision.action);
    const ready = this.machine.fire({ value: 'welcomed', session });
    if (ready.value !== 'ready') return;
    if (this.authTimer) clearTimeout(this.authTimer);
    const cfg = this.host.handshake;
    const resumed = decision.action === 'resume';
    const welcome: Message = {
      type: 'WELCOME',
      sessionId: session.sessionId,
      leaseMs: cfg.leaseMs,
      heartbeatMs: ready.limits.keepaliveMs,
      stateMs: cfg.stateMs,
      serverMac: serverMac(key, auth.deviceNonce, auth.serverNonce, hello.deviceId),
    };
    if (resumed) welcome.resumed = true;
    key.fill(0);
    reply(welcome)
      .then(() => this.host.welcomed(this, ready, resumed))
      // A failure here (a listener of the server's events threw) must not become an unhandled rejection.
      .catch(() => undefined);
  }

  private reject(reply: ((msg: Message) => Promise<void>) | undefined, code: RejectionCode, reason: string, deviceId: string | undefined): void {
    if (this.machine.tryFire({ value: 'close', deviceId }) === undefined) return;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.host.rejected(this, code, reason, deviceId);
    const err = toErrorMessage(errorForCode(code, { reason }));
    const send = reply ? reply(err) : this.link.notify(err);
    // Close after the ERROR is on the wire so the device learns why; never wait forever.
    void send.catch(() => undefined).finally(() => this.close());
  }

  private onAuthTimeout(): void {
    const p = this.phase;
    if (p.value === 'hello' || p.value === 'auth') {
      this.reject(undefined, 'auth.timeout', `no completed handshake within ${this.host.handshake.authTimeoutMs} ms`, this.deviceId);
    }
  }

  private onClose(err?: Error): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    const p = this.phase;
    this.machine.tryFire({ value: 'close', deviceId: undefined });
    if (p.value === 'ready') this.host.closed(this, p.session, err);
  }
}
