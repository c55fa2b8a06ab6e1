import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  admitHello,
  authMac,
  decideSession,
  negotiateLimits,
  negotiateVersion,
  NonceCache,
  serverMac,
  verifyAuth,
} from '../../src/device-mgmt/auth.js';
import type { DeviceRecord } from '../../src/device-mgmt/registry/store.js';

const key = new Uint8Array(randomBytes(32));
const nonce = () => new Uint8Array(randomBytes(16));

describe('MACs (SPEC §5.3, §5.4)', () => {
  it('follow the label ‖ nonce ‖ nonce ‖ id layout with no separators', () => {
    const s = nonce();
    const d = nonce();
    const expected = createHmac('sha256', key).update(Buffer.concat([Buffer.from('epara-auth-v1'), s, d, Buffer.from('pi-1')])).digest();
    expect(Buffer.from(authMac(key, s, d, 'pi-1')).equals(expected)).toBe(true);
    const expectedSrv = createHmac('sha256', key).update(Buffer.concat([Buffer.from('epara-srv-v1'), d, s, Buffer.from('pi-1')])).digest();
    expect(Buffer.from(serverMac(key, d, s, 'pi-1')).equals(expectedSrv)).toBe(true);
  });
});

describe('verifyAuth', () => {
  const base = () => {
    const serverNonce = nonce();
    const deviceNonce = nonce();
    return { deviceId: 'pi-1', outstandingNonce: serverNonce, serverNonce, deviceNonce, mac: authMac(key, serverNonce, deviceNonce, 'pi-1'), key, nonces: new NonceCache() };
  };

  it('accepts a correct AUTH once and calls the same AUTH a replay afterwards', () => {
    const a = base();
    expect(verifyAuth(a)).toEqual({ ok: true });
    expect(verifyAuth(a)).toMatchObject({ ok: false, code: 'auth.replay', field: 'deviceNonce' });
  });

  it('calls an AUTH for another server nonce, or with none outstanding, a replay', () => {
    const a = base();
    expect(verifyAuth({ ...a, outstandingNonce: nonce() })).toMatchObject({ code: 'auth.replay', field: 'serverNonce' });
    expect(verifyAuth({ ...a, outstandingNonce: undefined })).toMatchObject({ code: 'auth.replay' });
  });

  it('rejects a MAC made with another key as auth.bad_mac, and does not remember its nonce', () => {
    const a = base();
    const wrong = new Uint8Array(randomBytes(32));
    const bad = { ...a, mac: authMac(wrong, a.serverNonce, a.deviceNonce, 'pi-1') };
    const r = verifyAuth(bad);
    expect(r).toMatchObject({ ok: false, code: 'auth.bad_mac' });
    expect(JSON.stringify(r)).not.toContain(Buffer.from(key).toString('hex'));
    expect(a.nonces.size).toBe(0);
    expect(verifyAuth({ ...a, mac: a.mac.subarray(0, 31) })).toMatchObject({ code: 'auth.bad_mac' });
    // The genuine device can still authenticate with that nonce afterwards.
    expect(verifyAuth(a)).toEqual({ ok: true });
  });
});

describe('NonceCache', () => {
  it('is bounded and forgets the oldest first', () => {
    const c = new NonceCache(3);
    const ns = [nonce(), nonce(), nonce(), nonce()];
    for (const n of ns) c.add(n);
    expect(c.size).toBe(3);
    expect(c.has(ns[0]!)).toBe(false);
    expect(c.has(ns[3]!)).toBe(true);
  });
});

describe('negotiateVersion', () => {
  const server = { min: 1, max: 1 };
  it('picks the highest common version', () => {
    expect(negotiateVersion([1, 3], server)).toEqual({ ok: true, version: 1 });
    expect(negotiateVersion([1, 3], { min: 1, max: 2 })).toEqual({ ok: true, version: 2 });
  });
  it('says which side is too old', () => {
    expect(negotiateVersion([0, 0], server)).toMatchObject({ ok: false, code: 'proto.version_too_old' });
    expect(negotiateVersion([2, 5], server)).toMatchObject({ ok: false, code: 'proto.version_too_new' });
    expect(negotiateVersion([3, 2], server)).toMatchObject({ ok: false, code: 'msg.schema' });
  });
});

describe('negotiateLimits', () => {
  const server = { maxFrame: 4096, window: 8, heartbeatMs: 5000, minHeartbeatMs: 1000, maxHeartbeatMs: 60000 };
  it('takes the smaller frame and window and clamps the proposed keepalive', () => {
    expect(negotiateLimits({ maxFrame: 512, rxWindow: 16 }, server)).toEqual({ maxFrame: 512, window: 8, keepaliveMs: 5000 });
    expect(negotiateLimits({ maxFrame: 65535, rxWindow: 2, keepaliveMs: 100 }, server)).toEqual({ maxFrame: 4096, window: 2, keepaliveMs: 1000 });
    expect(negotiateLimits({ maxFrame: 512, rxWindow: 1, keepaliveMs: 10_000_000 }, server).keepaliveMs).toBe(60000);
  });
});

describe('admitHello', () => {
  const rec = (status: DeviceRecord['status']): DeviceRecord => ({ id: 'x', name: 'x', deviceClass: 'mcu', status, createdAt: 0 });
  it('maps registry status to the handshake decision', () => {
    expect(admitHello('x', rec('active'), false)).toEqual({ ok: true, action: 'challenge' });
    expect(admitHello('x', undefined, false)).toMatchObject({ ok: false, code: 'auth.unknown_device' });
    expect(admitHello('x', undefined, true)).toEqual({ ok: true, action: 'enrol' });
    expect(admitHello('x', rec('pending'), true)).toMatchObject({ code: 'auth.pending_approval' });
    expect(admitHello('x', rec('revoked'), true)).toMatchObject({ code: 'auth.revoked' });
  });
});

describe('decideSession', () => {
  const sid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  it('starts fresh when there is no live session', () => {
    expect(decideSession(undefined, undefined, 'x')).toEqual({ ok: true, action: 'new' });
    expect(decideSession({ sessionId: sid, linkOpen: false, alive: false }, sid, 'x')).toEqual({ ok: true, action: 'new' });
  });
  it('refuses a second live link without the session id', () => {
    expect(decideSession({ sessionId: sid, linkOpen: true, alive: true }, undefined, 'x')).toMatchObject({ ok: false, code: 'auth.duplicate_session' });
    expect(decideSession({ sessionId: sid, linkOpen: true, alive: true }, new Uint8Array(8), 'x')).toMatchObject({ code: 'auth.duplicate_session' });
  });
  it('resumes when the session id is named, and replaces a session whose link is gone', () => {
    expect(decideSession({ sessionId: sid, linkOpen: true, alive: true }, sid, 'x')).toEqual({ ok: true, action: 'resume' });
    expect(decideSession({ sessionId: sid, linkOpen: false, alive: true }, sid, 'x')).toEqual({ ok: true, action: 'resume' });
    expect(decideSession({ sessionId: sid, linkOpen: false, alive: true }, undefined, 'x')).toEqual({ ok: true, action: 'new' });
  });
});
