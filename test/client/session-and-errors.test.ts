import { describe, expect, it } from 'vitest';
import { DEVICE_SESSION_TRANSITIONS, DeviceSession, nextDeviceSessionState, type DeviceSessionEvent, type DeviceSessionState } from '../../src/client/session.js';
// The device reconnects with the transport's backoffDelay, which counts retries from 1.
import { backoffDelay } from '../../src/transport/reconnect.js';
import { CLIENT_WIRE_CODES } from '../../src/client/client-errors.js';
import { detectCapabilities, hostLoad } from '../../src/client/capabilities.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { EparaError } from '../../src/errors.js';
import { availableParallelism, totalmem } from 'node:os';

const STATES = Object.keys(DEVICE_SESSION_TRANSITIONS) as DeviceSessionState[];
const EVENTS: DeviceSessionEvent[] = ['start', 'link_open', 'link_failed', 'challenge', 'welcome', 'failed', 'link_lost', 'retry', 'close'];

describe('device session state machine', () => {
  // One case per (state, event) pair: every allowed transition lands where the table says, every
  // other pair is refused with a typed error.
  for (const from of STATES) {
    for (const ev of EVENTS) {
      const to = DEVICE_SESSION_TRANSITIONS[from][ev];
      it(`${from} --${ev}--> ${to ?? 'refused'}`, () => {
        if (to) expect(nextDeviceSessionState(from, ev)).toBe(to);
        else expect(() => nextDeviceSessionState(from, ev)).toThrow(EparaError);
      });
    }
  }

  it('walks the happy path, a drop with backoff and resume, and close', () => {
    const s = new DeviceSession();
    for (const e of ['start', 'link_open', 'challenge', 'welcome', 'link_lost', 'retry', 'link_open', 'challenge', 'welcome', 'close'] as const) s.fire(e);
    expect(s.state).toBe('closed');
    expect(s.tryFire('link_lost')).toBeUndefined();
    expect(s.history.map((h) => h.to)).toEqual(['connecting', 'hello', 'auth', 'ready', 'backoff', 'connecting', 'hello', 'auth', 'ready', 'closed']);
  });

  it('backs off exponentially with a cap and seeded jitter', () => {
    const o = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a + 1, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    for (let a = 0; a < 6; a++) {
      const d = backoffDelay(a + 1, j, () => 0.5);
      const base = Math.min(1000, 100 * 2 ** a);
      expect(d).toBe(Math.round(base * 0.75));
    }
  });
});

describe('client error table', () => {
  it('uses the wire numbers of src/protocol/error-codes.ts', () => {
    for (const [name, wire] of Object.entries(CLIENT_WIRE_CODES)) {
      const row = ERROR_CODES.find((c) => c.name === name);
      expect(row, name).toBeDefined();
      expect(row!.wire, name).toBe(wire);
    }
  });
});

describe('capabilities', () => {
  it('detects cores and memory from the host; GPUs and accelerators come only from configuration', () => {
    const c = detectCapabilities();
    expect(c.cpuCores).toBe(availableParallelism());
    expect(c.memoryKiB).toBe(Math.floor(totalmem() / 1024));
    expect(c.computeMops).toBeGreaterThan(0);
    expect(c.gpuCount).toBeUndefined();
    const g = detectCapabilities({ gpuCount: 2, gpuMemoryKiB: 1024, accelerators: ['cuda'], computeMops: 5, transports: ['tcp'] });
    expect(g).toMatchObject({ gpuCount: 2, gpuMemoryKiB: 1024, accelerators: ['cuda'], computeMops: 5, transports: ['tcp'] });
    const h = hostLoad(c.cpuCores);
    expect(h.loadPermille).toBeGreaterThanOrEqual(0);
    expect(h.loadPermille).toBeLessThanOrEqual(1000);
  });
});
