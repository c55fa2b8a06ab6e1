import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The two MACs of the handshake (SPEC §5.3, §5.4). They live with the codec because both ends
 * must build exactly the same bytes: the device proves its key with `authMac`, the server proves
 * it with `serverMac`. Labels and field order differ so one can never stand in for the other.
 */
export const AUTH_LABEL = 'epara-auth-v1';
export const SERVER_LABEL = 'epara-srv-v1';
export const NONCE_BYTES = 16;
export const MAC_BYTES = 32;

/** HMAC-SHA256(key, "epara-auth-v1" ‖ serverNonce ‖ deviceNonce ‖ deviceId) — what the device proves. */
export function authMac(key: Uint8Array, serverNonce: Uint8Array, deviceNonce: Uint8Array, deviceId: string): Uint8Array {
  return hmac(key, AUTH_LABEL, serverNonce, deviceNonce, deviceId);
}

/** HMAC-SHA256(key, "epara-srv-v1" ‖ deviceNonce ‖ serverNonce ‖ deviceId) — what the server proves. */
export function serverMac(key: Uint8Array, deviceNonce: Uint8Array, serverNonce: Uint8Array, deviceId: string): Uint8Array {
  return hmac(key, SERVER_LABEL, deviceNonce, serverNonce, deviceId);
}

/** Constant-time comparison; a length mismatch is simply unequal. */
export function macsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmac(key: Uint8Array, label: string, first: Uint8Array, second: Uint8Array, deviceId: string): Uint8Array {
  const h = createHmac('sha256', key).update(label, 'ascii').update(first).update(second).update(deviceId, 'utf8');
  return new Uint8Array(h.digest());
}
