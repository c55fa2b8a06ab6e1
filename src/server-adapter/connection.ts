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
import { errorForCode, toErrorMessage, type AuthMessage, type Frame, type HelloMessage, type Message } from '../protocol/index.js';
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
  bind(conn: DeviceConnection, candidate: Session, action: 'new' | 'resume'): Session;
  /** Called once the WELCOME is on the wire. */
  welcomed(conn: DeviceConnection, session: Session, resumed: boolean): void;
  rejected(conn: DeviceConnection, code: RejectionCode, reason: string, deviceId: string | undefined): void;
  /** Post-handshake traffic. `reply` is set for requests. */
  message(conn: DeviceConnection, frame: Frame, reply: ((msg: Message) => Promise<void>) | undefined): void;
  closed(conn: DeviceConnection, err?: Error): void;
}

type Phase = 'hello' | 'auth' | 'ready' | 'closed';

export class DeviceConnection {
  phase: Phase = 'hello';
  hello: HelloMessage | undefined;
  limits: LinkLimits | undefined;
  session: Session | undefined;
  version = 0;
  private candidate: Session | undefined;
  private nonce: Uint8Array | undefined;
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
    link.pingGate = () => this.phase === 'ready';
    this.authTimer = setTimeout(() => this.onAuthTimeout(), host.handshake.authTimeoutMs);
    this.authTimer.unref();
  }

  get deviceId(): string | undefined {
    return this.session?.deviceId ?? this.hello?.deviceId;
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  /** Ends the link; the server sees `closed` through the link's close event. */
  close(): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    void this.link.close().catch(() => undefined);
  }

  private onRequest(frame: Frame, reply: (msg: Message) => Promise<void>): void {
    const m = frame.message;
    if (this.phase === 'ready' && m.type === 'HELLO') {
      // A device behind a UART / SPP link that rebooted says HELLO on the same, still-open stream:
      // its session loses this link (as if it dropped) and the handshake starts over here.
      this.host.closed(this);
      this.session = undefined;
      this.hello = undefined;
      this.phase = 'hello';
      this.authTimer = setTimeout(() => this.onAuthTimeout(), this.host.handshake.authTimeoutMs);
      this.authTimer.unref();
    }
    if (this.phase === 'ready') {
      this.host.message(this, frame, reply);
      return;
    }
    if (this.phase === 'closed') return;
    if (m.type === 'HELLO') {
      // Audited under the id the handshake is for (the first HELLO's), not whatever the second claims.
      if (this.phase !== 'hello') return this.reject(reply, 'msg.unexpected', `a second HELLO (as ${JSON.stringify(m.deviceId.slice(0, 64))}) during the handshake`, this.hello?.deviceId ?? m.deviceId);
      return this.onHello(m, reply);
    }
    if (m.type === 'AUTH') return this.onAuth(m, reply);
    this.reject(reply, 'auth.not_authenticated', `${m.type} before the handshake completed`, this.hello?.deviceId);
  }

  private onNotify(frame: Frame): void {
    if (this.phase === 'ready') this.host.message(this, frame, undefined);
    // Before the handshake a BYE or stray notification is simply dropped: nothing to undo.
  }

  private onHello(hello: HelloMessage, reply: (msg: Message) => Promise<void>): void {
    const cfg = this.host.handshake;
    this.hello = hello;
    const v = negotiateVersion(hello.proto, cfg.versions);
    if (!v.ok) return this.reject(reply, v.code, v.reason, hello.deviceId);
    let record;
    try {
      record = this.host.lookupDevice(hello.deviceId);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n', 1)[0]! : 'registry lookup failed';
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
    this.version = v.version;
    this.limits = negotiateLimits(hello, cfg);
    this.nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    this.candidate = new Session(hello.deviceId, new Uint8Array(randomBytes(SESSION_ID_BYTES)), Date.now());
    this.candidate.apply('challenge', Date.now());
    this.phase = 'auth';
    const limits = this.limits;
    // SPEC §7.1: the negotiated frame size and window apply to every frame after CHALLENGE.
    void reply({
      type: 'CHALLENGE',
      nonce: this.nonce,
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
    const hello = this.hello;
    const outstanding = this.phase === 'auth' ? this.nonce : undefined;
    // One nonce answers one AUTH: whatever happens next, a second AUTH on this link is a replay.
    this.nonce = undefined;
    if (!hello || !outstanding) {
      return this.reject(reply, 'auth.replay', 'AUTH without an outstanding CHALLENGE on this link', hello?.deviceId);
    }
    let key: Uint8Array | undefined;
    try {
      key = this.host.deviceKey(hello.deviceId);
    } catch (err) {
      // The registry or the master key failed (e.g. master.key replaced): refuse this device, keep serving the rest.
      const reason = err instanceof Error ? err.message.split('\n', 1)[0]! : 'key lookup failed';
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
    const session = this.host.bind(this, this.candidate!, decision.action);
    this.session = session;
    this.candidate = undefined;
    this.phase = 'ready';
    if (this.authTimer) clearTimeout(this.authTimer);
    const cfg = this.host.handshake;
    const resumed = decision.action === 'resume';
    const welcome: Message = {
      type: 'WELCOME',
      sessionId: session.sessionId,
      leaseMs: cfg.leaseMs,
      heartbeatMs: this.limits!.keepaliveMs,
      stateMs: cfg.stateMs,
      serverMac: serverMac(key, auth.deviceNonce, auth.serverNonce, hello.deviceId),
    };
    if (resumed) welcome.resumed = true;
    key.fill(0);
    reply(welcome)
      .then(() => this.host.welcomed(this, session, resumed))
      // A failure here (a listener of the server's events threw) must not become an unhandled rejection.
      .catch(() => undefined);
  }

  private reject(reply: ((msg: Message) => Promise<void>) | undefined, code: RejectionCode, reason: string, deviceId: string | undefined): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.authTimer) clearTimeout(this.authTimer);
    this.candidate?.apply('auth_failed', Date.now());
    this.host.rejected(this, code, reason, deviceId);
    const err = toErrorMessage(errorForCode(code, { reason }));
    const send = reply ? reply(err) : this.link.notify(err);
    // Close after the ERROR is on the wire so the device learns why; never wait forever.
    void send.catch(() => undefined).finally(() => this.close());
  }

  private onAuthTimeout(): void {
    if (this.phase === 'hello' || this.phase === 'auth') {
      this.reject(undefined, 'auth.timeout', `no completed handshake within ${this.host.handshake.authTimeoutMs} ms`, this.hello?.deviceId);
    }
  }

  private onClose(err?: Error): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    const wasReady = this.phase === 'ready';
    if (this.phase === 'auth') this.candidate?.apply('link_down', Date.now());
    this.phase = 'closed';
    if (wasReady || this.session) this.host.closed(this, err);
  }
}
