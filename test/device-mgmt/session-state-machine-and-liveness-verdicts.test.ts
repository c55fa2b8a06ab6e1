import { describe, expect, it } from 'vitest';
import {
  livenessVerdict,
  nextSessionState,
  Session,
  SESSION_TRANSITIONS,
  type SessionEvent,
  type SessionState,
} from '../../src/device-mgmt/session.js';

const ALL_EVENTS: SessionEvent[] = ['challenge', 'auth_ok', 'auth_failed', 'heard', 'missed', 'link_down', 'resumed', 'lease_expired', 'bye'];

describe('session transition table', () => {
  const expected: Array<[SessionState, SessionEvent, SessionState]> = [
    ['connecting', 'challenge', 'authenticating'],
    ['connecting', 'auth_failed', 'rejected'],
    ['connecting', 'link_down', 'rejected'],
    ['authenticating', 'auth_ok', 'registered'],
    ['authenticating', 'auth_failed', 'rejected'],
    ['authenticating', 'link_down', 'rejected'],
    ['registered', 'heard', 'active'],
    ['registered', 'missed', 'degraded'],
    ['registered', 'link_down', 'degraded'],
    ['registered', 'resumed', 'registered'],
    ['registered', 'bye', 'left'],
    ['active', 'heard', 'active'],
    ['active', 'missed', 'degraded'],
    ['active', 'link_down', 'degraded'],
    ['active', 'resumed', 'registered'],
    ['active', 'bye', 'left'],
    ['degraded', 'heard', 'active'],
    ['degraded', 'missed', 'degraded'],
    ['degraded', 'link_down', 'degraded'],
    ['degraded', 'resumed', 'registered'],
    ['degraded', 'lease_expired', 'lost'],
    ['degraded', 'bye', 'left'],
  ];
  it.each(expected)('%s --%s--> %s', (from, ev, to) => {
    expect(nextSessionState(from, ev)).toBe(to);
  });
  it('has exactly these transitions; everything else throws', () => {
    let count = 0;
    for (const from of Object.keys(SESSION_TRANSITIONS) as SessionState[]) {
      for (const ev of ALL_EVENTS) {
        const allowed = expected.some(([f, e]) => f === from && e === ev);
        if (allowed) count++;
        else expect(() => nextSessionState(from, ev)).toThrowError(expect.objectContaining({ code: 'internal' }));
      }
    }
    expect(count).toBe(expected.length);
  });
});

describe('Session', () => {
  it('walks a lifetime: handshake, active, degraded, recovered, lost', () => {
    const s = new Session('pi', new Uint8Array(8), 0);
    expect(s.apply('challenge', 1)).toBe(true);
    s.apply('auth_ok', 2);
    expect(s.state).toBe('registered');
    s.apply('heard', 10);
    expect(s.state).toBe('active');
    expect(s.apply('heard', 20)).toBe(false);
    expect(s.lastHeardAt).toBe(20);
    s.apply('missed', 30);
    expect(s.state).toBe('degraded');
    expect(s.previous).toBe('active');
    s.apply('heard', 40);
    expect(s.state).toBe('active');
    s.apply('link_down', 50);
    expect(s.linkOpen).toBe(false);
    // The lease runs from the link drop (SPEC §7.2), not only from the last heartbeat.
    expect(s.lastHeardAt).toBe(50);
    s.apply('resumed', 60);
    expect([s.state, s.linkOpen, s.resumes]).toEqual(['registered', true, 1]);
    s.apply('link_down', 70);
    s.apply('lease_expired', 80);
    expect(s.terminal).toBe(true);
  });
});

describe('livenessVerdict', () => {
  const p = { heartbeatMs: 100, missedHeartbeats: 2, leaseMs: 500 };
  it('marks an open, silent session missed after N periods', () => {
    expect(livenessVerdict({ state: 'active', lastHeardAt: 0, linkOpen: true }, 199, p)).toBe('none');
    expect(livenessVerdict({ state: 'active', lastHeardAt: 0, linkOpen: true }, 200, p)).toBe('missed');
    expect(livenessVerdict({ state: 'registered', lastHeardAt: 0, linkOpen: true }, 250, p)).toBe('missed');
  });
  it('expires a degraded session at the end of its lease, and leaves handshakes and terminal sessions alone', () => {
    expect(livenessVerdict({ state: 'degraded', lastHeardAt: 0, linkOpen: false }, 499, p)).toBe('none');
    expect(livenessVerdict({ state: 'degraded', lastHeardAt: 0, linkOpen: false }, 500, p)).toBe('lease_expired');
    expect(livenessVerdict({ state: 'authenticating', lastHeardAt: 0, linkOpen: true }, 9999, p)).toBe('none');
    expect(livenessVerdict({ state: 'lost', lastHeardAt: 0, linkOpen: false }, 9999, p)).toBe('none');
  });
});
