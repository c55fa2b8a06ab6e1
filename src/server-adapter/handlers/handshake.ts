import type { ExistingSession, NonceCache } from '../../device-mgmt/auth.js';
import { openKey } from '../../device-mgmt/identity.js';
import type { AuditEntry, DeviceRecord, RegistryStore } from '../../device-mgmt/registry/store.js';
import type { Session } from '../../device-mgmt/session.js';
import { errorForCode, toErrorMessage, type Frame, type HelloMessage, type Message } from '../../protocol/index.js';
import type { ConnectionHost, DeviceConnection, HandshakeConfig, ReadyPhase, RejectionCode } from '../connection.js';
import type { AuditFn, LiveSessions } from '../live-sessions.js';
import type { ServerMetrics } from '../metrics.js';
import { sourceAddress, type RefusalLimiter } from '../refusal-limiter.js';
import { answer, type ServerHandlers } from './context.js';

/**
 * HELLO and AUTH (SPEC §7.1), the server's side. connection.ts runs the exchange on each link;
 * this decides what the registry says: who is known, who enrols, which session a device gets
 * (new, resumed or superseded) and what is audited. The rest of the server is reached through
 * `message` (every frame after WELCOME) and `closed`.
 */
export interface HandshakeHost {
  readonly handshake: HandshakeConfig;
  readonly nonces: NonceCache;
  readonly live: LiveSessions;
  readonly metrics: ServerMetrics;
  readonly refusals: RefusalLimiter;
  readonly maxPending: number;
  readonly rttProbeMs: number;
  store(): RegistryStore;
  masterKey(): Uint8Array;
  closing(): boolean;
  audit: AuditFn;
  emitError(err: Error): void;
  /** WELCOME is on the wire: tell the app (device-registered). */
  registered(record: DeviceRecord, resumed: boolean): void;
  /** Post-handshake traffic: the dispatcher of the handler table. */
  message(conn: DeviceConnection, ready: ReadyPhase, frame: Frame, reply: ((msg: Message) => Promise<void>) | undefined): void;
}

export function connectionHost(h: HandshakeHost): ConnectionHost {
  return {
    handshake: h.handshake,
    nonces: h.nonces,
    lookupDevice: (id) => h.store().getDevice(id),
    deviceKey: (id) => {
      const sealed = h.store().getSealedKey(id);
      return sealed ? openKey(h.masterKey(), id, sealed) : undefined;
    },
    enrol: (conn, hello) => enrol(h, conn, hello),
    existingSession: (id) => existingSession(h, id),
    bind: (conn, pending, candidate, action) => bind(h, conn, pending.hello, candidate, action),
    welcomed: (conn, ready, resumed) => welcomed(h, conn, ready, resumed),
    rejected: (conn, code, reason, deviceId) => rejected(h, conn, code, reason, deviceId),
    message: (conn, ready, frame, reply) => h.message(conn, ready, frame, reply),
    closed: (conn, session) => closed(h, conn, session),
  };
}

function existingSession(h: HandshakeHost, id: string): ExistingSession | undefined {
  const l = h.live.get(id);
  if (!l || l.session.terminal) return undefined;
  return { sessionId: l.session.sessionId, linkOpen: l.conn !== undefined && l.session.linkOpen, alive: true };
}

function enrol(h: HandshakeHost, conn: DeviceConnection, hello: HelloMessage): boolean {
  // Unknown ids are free to invent: without a bound a flood of HELLOs would grow the registry forever.
  if (h.store().countDevices('pending') >= h.maxPending) return false;
  try {
    h.store().insertDevice(
      {
        id: hello.deviceId,
        name: hello.deviceId,
        deviceClass: hello.deviceClass,
        status: 'pending',
        createdAt: Date.now(),
        firmware: hello.firmware,
        caps: hello.caps as unknown as Record<string, unknown>,
        lastRemote: conn.remote,
      },
      undefined,
    );
    h.audit({ event: 'device.enrolled', deviceId: hello.deviceId, remote: conn.remote, detail: `pending approval (${hello.deviceClass}, firmware ${hello.firmware})` }, 'immediate');
    return true;
  } catch (err) {
    h.emitError(err as Error);
    return false;
  }
}

function bind(h: HandshakeHost, conn: DeviceConnection, hello: HelloMessage, candidate: Session, action: 'new' | 'resume'): Session {
  const now = Date.now();
  const id = candidate.deviceId;
  const existing = h.live.get(id);
  if (action === 'resume' && existing) {
    const old = existing.conn;
    existing.conn = conn;
    existing.hello = hello;
    existing.framesIn = conn.link.stats.framesIn;
    h.live.apply(existing.session, 'resumed', now);
    // The old link (half-open after a device reboot) must not act for the session any more.
    if (old && old !== conn) old.close();
    return existing.session;
  }
  if (existing && !existing.session.terminal) {
    // The old session's link is gone and the device did not ask to resume (it rebooted): the
    // session is replaced, which the log says as such, not as a device that left.
    h.live.apply(existing.session, 'bye', now, 'session.superseded');
  }
  h.live.apply(candidate, 'auth_ok', now);
  h.live.set(id, { session: candidate, conn, hello, inflight: 0, nextRttProbeAt: now + h.rttProbeMs, lastPersistedSeenAt: now, framesIn: conn.link.stats.framesIn });
  return candidate;
}

function welcomed(h: HandshakeHost, conn: DeviceConnection, ready: ReadyPhase, resumed: boolean): void {
  // Runs after the WELCOME write resolved: the server may be shutting down meanwhile.
  if (h.closing()) return;
  const { hello, session, limits } = ready;
  const id = session.deviceId;
  h.store().touchDevice(id, { at: Date.now(), firmware: hello.firmware, caps: hello.caps as unknown as Record<string, unknown>, remote: conn.remote });
  h.audit({ event: resumed ? 'auth.resumed' : 'auth.ok', deviceId: id, remote: conn.remote, detail: `protocol ${ready.version}, maxFrame ${limits.maxFrame}, window ${limits.window}` });
  const record = h.store().getDevice(id);
  if (record) h.registered(record, resumed);
  // Deployments start once the device has spoken after WELCOME (first HEARTBEAT or STATE): a
  // device may still be wiring its request handlers when the WELCOME lands.
}

function rejected(h: HandshakeHost, conn: DeviceConnection, code: RejectionCode, reason: string, deviceId: string | undefined): void {
  h.metrics.authFailures.inc({ code });
  if (!h.refusals.refuse(sourceAddress(conn.remote), Date.now())) return;
  const entry: AuditEntry = { at: Date.now(), event: code, remote: conn.remote, detail: reason };
  if (deviceId !== undefined) entry.deviceId = deviceId;
  h.audit(entry, 'immediate');
}

function closed(h: HandshakeHost, conn: DeviceConnection, session: Session): void {
  const l = h.live.get(session.deviceId);
  // A link that was replaced by a resumed one no longer speaks for the session.
  if (!l || l.conn !== conn) return;
  l.conn = undefined;
  if (!l.session.terminal) h.live.apply(l.session, 'link_down', Date.now());
}

/**
 * After WELCOME: connection.ts restarts the handshake on a HELLO before anything is dispatched
 * (a rebooted device behind a UART says HELLO on the same stream), so the HELLO entry answers
 * only a HELLO that reaches the table some other way; a second AUTH is out of place.
 */
export const handshakeHandlers: Pick<ServerHandlers, 'HELLO' | 'AUTH'> = {
  HELLO: (m, ctx) => answer(ctx, toErrorMessage(errorForCode('msg.unexpected', { reason: `the server does not take ${m.type} on a session that is already welcomed` }))),
  AUTH: (m, ctx) => {
    if (ctx.reply) answer(ctx, toErrorMessage(errorForCode('msg.unexpected', { reason: `the server does not take ${m.type} from a device` })));
  },
};
