import { authMac, MAC_BYTES, macsEqual as equalBytes } from '../protocol/auth-mac.js';
import type { DeviceRecord } from './registry/store.js';

// The MACs are part of the wire contract; re-exported so server code keeps one import.
export { AUTH_LABEL, SERVER_LABEL, NONCE_BYTES, MAC_BYTES, authMac, serverMac, macsEqual as equalBytes } from '../protocol/auth-mac.js';

/**
 * Registration decisions (SPEC §5.1–5.4, §7.1) as pure functions: no I/O, no timers, so every
 * rejection path is tested without a socket. The server turns a `Rejection` into an ERROR
 * response, an AuthError and an audit entry.
 */
export const SESSION_ID_BYTES = 8;

export type RejectCode =
  | 'auth.bad_mac'
  | 'auth.unknown_device'
  | 'auth.replay'
  | 'auth.duplicate_session'
  | 'auth.pending_approval'
  | 'auth.revoked'
  | 'auth.not_authenticated'
  | 'proto.version_too_old'
  | 'proto.version_too_new'
  | 'msg.schema';

export interface Rejection {
  ok: false;
  code: RejectCode;
  /** One line for the ERROR reason and the audit log. Never contains a key or a MAC. */
  reason: string;
  field?: string;
}

function reject(code: RejectCode, reason: string, field?: string): Rejection {
  return field === undefined ? { ok: false, code, reason } : { ok: false, code, reason, field };
}

export interface VersionRange {
  min: number;
  max: number;
}

/** The highest version both speak (SPEC §5.2), or which side is too old. */
export function negotiateVersion(device: readonly [number, number] | readonly number[], server: VersionRange): { ok: true; version: number } | Rejection {
  const [dmin, dmax] = device;
  if (typeof dmin !== 'number' || typeof dmax !== 'number' || dmin > dmax) {
    return reject('msg.schema', `HELLO proto range ${JSON.stringify(device)} is not [min, max] with min <= max`, 'proto');
  }
  if (dmax < server.min) {
    return reject('proto.version_too_old', `device speaks protocol ${dmin}..${dmax}, this server needs ${server.min}..${server.max}`, 'proto');
  }
  if (dmin > server.max) {
    return reject('proto.version_too_new', `device speaks protocol ${dmin}..${dmax}, this server only ${server.min}..${server.max}`, 'proto');
  }
  return { ok: true, version: Math.min(dmax, server.max) };
}

export interface LinkLimits {
  maxFrame: number;
  window: number;
  keepaliveMs: number;
}

/**
 * Session parameters for CHALLENGE: the smaller frame and window of the two sides; the device's
 * proposed heartbeat period clamped to what the server accepts, or the server's default.
 */
export function negotiateLimits(
  hello: { maxFrame: number; rxWindow: number; keepaliveMs?: number },
  server: { maxFrame: number; window: number; heartbeatMs: number; minHeartbeatMs: number; maxHeartbeatMs: number },
): LinkLimits {
  const keepaliveMs =
    hello.keepaliveMs === undefined
      ? server.heartbeatMs
      : Math.min(server.maxHeartbeatMs, Math.max(server.minHeartbeatMs, hello.keepaliveMs));
  return {
    maxFrame: Math.min(hello.maxFrame, server.maxFrame),
    window: Math.max(1, Math.min(hello.rxWindow, server.window)),
    keepaliveMs,
  };
}

/** What to do with a HELLO's device id, before any challenge is issued. */
export type HelloAdmission = { ok: true; action: 'challenge' } | { ok: true; action: 'enrol' } | Rejection;

export function admitHello(deviceId: string, device: DeviceRecord | undefined, openEnrolment: boolean): HelloAdmission {
  if (!device) {
    if (openEnrolment) return { ok: true, action: 'enrol' };
    return reject('auth.unknown_device', `device ${deviceId} is not provisioned on this server`, 'deviceId');
  }
  if (device.status === 'revoked') return reject('auth.revoked', `device ${deviceId} has been revoked`, 'deviceId');
  if (device.status === 'pending') {
    return reject('auth.pending_approval', `device ${deviceId} is waiting for an operator to approve it`, 'deviceId');
  }
  return { ok: true, action: 'challenge' };
}

/**
 * Bounded memory of device nonces seen in successful AUTHs. A repeated device nonce means an AUTH
 * was captured and replayed; the set is bounded so a flood cannot grow it without limit (the
 * oldest entries go first; the per-connection server nonce already stops cross-connection replays).
 */
export class NonceCache {
  private readonly seen = new Set<string>();
  constructor(readonly capacity = 100_000) {}

  has(nonce: Uint8Array): boolean {
    return this.seen.has(Buffer.from(nonce).toString('base64'));
  }

  add(nonce: Uint8Array): void {
    const k = Buffer.from(nonce).toString('base64');
    if (this.seen.has(k)) return;
    this.seen.add(k);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

export interface AuthCheck {
  deviceId: string;
  /** The nonce this connection's CHALLENGE carried; undefined when no CHALLENGE is outstanding. */
  outstandingNonce: Uint8Array | undefined;
  serverNonce: Uint8Array;
  deviceNonce: Uint8Array;
  mac: Uint8Array;
  key: Uint8Array;
  nonces: NonceCache;
}

/**
 * Verifies an AUTH. Order matters: the replay checks come first so a replayed AUTH is reported as
 * a replay even though its MAC is valid; the device nonce is remembered only after the MAC checks,
 * so garbage cannot fill the cache.
 */
export function verifyAuth(a: AuthCheck): { ok: true } | Rejection {
  if (!a.outstandingNonce) {
    return reject('auth.replay', `AUTH from ${a.deviceId} without an outstanding CHALLENGE on this link`, 'serverNonce');
  }
  if (!equalBytes(a.serverNonce, a.outstandingNonce)) {
    return reject('auth.replay', `AUTH from ${a.deviceId} answers a server nonce this link did not issue`, 'serverNonce');
  }
  if (a.nonces.has(a.deviceNonce)) {
    return reject('auth.replay', `AUTH from ${a.deviceId} reuses a device nonce already seen`, 'deviceNonce');
  }
  if (a.mac.length !== MAC_BYTES || !equalBytes(a.mac, authMac(a.key, a.serverNonce, a.deviceNonce, a.deviceId))) {
    return reject('auth.bad_mac', `AUTH MAC from ${a.deviceId} does not match its provisioned key`, 'mac');
  }
  a.nonces.add(a.deviceNonce);
  return { ok: true };
}

/** What the server knows about an existing session of the same device id. */
export interface ExistingSession {
  sessionId: Uint8Array;
  /** The old session still has an open link. */
  linkOpen: boolean;
  /** The old session is within its lease (not lost / left). */
  alive: boolean;
}

export type SessionDecision = { ok: true; action: 'new' } | { ok: true; action: 'resume' } | Rejection;

/**
 * After a valid AUTH: start a new session, resume the one named in HELLO `resume`, or refuse a
 * second live session. A device that proves its key AND names its current session id may take it
 * over even if the old link still looks open (a half-open TCP link after a device reboot looks
 * exactly like that); without the session id a second live link is refused.
 */
export function decideSession(existing: ExistingSession | undefined, resume: Uint8Array | undefined, deviceId: string): SessionDecision {
  if (!existing || !existing.alive) return { ok: true, action: 'new' };
  const named = resume !== undefined && equalBytes(resume, existing.sessionId);
  if (named) return { ok: true, action: 'resume' };
  if (existing.linkOpen) {
    return reject('auth.duplicate_session', `device ${deviceId} already has a live session on another link`, 'deviceId');
  }
  // The old link is gone and the device did not ask to resume: a fresh session replaces it.
  return { ok: true, action: 'new' };
}
