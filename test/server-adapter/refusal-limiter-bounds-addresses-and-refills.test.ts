import { describe, expect, it } from 'vitest';
import { RefusalLimiter, sourceAddress } from '../../src/server-adapter/refusal-limiter.js';

describe('refusal limiter (token bucket per source address)', () => {
  it('audits a burst, then counts; refills at the configured rate', () => {
    const l = new RefusalLimiter({ burst: 3, perSecond: 2 });
    const t = 1_000_000;
    expect([1, 2, 3, 4, 5].map(() => l.refuse('a', t))).toEqual([true, true, true, false, false]);
    expect(l.admits('a', t)).toBe(false);
    expect(l.admits('b', t)).toBe(true);
    // 2 tokens per second: after 500 ms one more refusal is audited.
    expect(l.refuse('a', t + 500)).toBe(true);
    expect(l.refuse('a', t + 500)).toBe(false);
    expect(l.drain(t + 500)).toEqual([{ addr: 'a', n: 4 }]);
    expect(l.drain(t + 600)).toEqual([]);
  });

  it('keeps at most maxAddresses buckets and still reports what evicted ones suppressed', () => {
    const l = new RefusalLimiter({ burst: 1, perSecond: 0.001, maxAddresses: 100, globalBurst: 1_000_000 });
    for (let i = 0; i < 10_000; i++) {
      l.refuse(`10.0.${i >> 8}.${i & 255}`, 0);
      l.refuse(`10.0.${i >> 8}.${i & 255}`, 0);
      expect(l.size).toBeLessThanOrEqual(100);
    }
    const drained = l.drain(0);
    expect(drained.reduce((n, d) => n + d.n, 0)).toBe(10_000);
    expect(drained.find((d) => d.addr === '*')!.n).toBe(9900);
  });

  it('a global bucket caps audited refusals from many addresses together', () => {
    const l = new RefusalLimiter({ burst: 5, globalBurst: 10, globalPerSecond: 0.001 });
    let audited = 0;
    for (let i = 0; i < 1000; i++) if (l.refuse(`192.168.0.${i % 250}`, 0)) audited++;
    expect(audited).toBe(10);
  });

  it('summaries come at most once per summaryMs, at most 100 rows plus one folding the rest', () => {
    const l = new RefusalLimiter({ burst: 1, perSecond: 0.001, summaryMs: 1000, globalBurst: 1_000_000 });
    for (let i = 0; i < 500; i++) for (let k = 0; k < 3; k++) l.refuse(`fd00::${i}`, 0);
    const rows = l.summary(10);
    expect(rows).toHaveLength(101);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(1000);
    expect(rows.at(-1)!.detail).toMatch(/^800 refused connections from 400 more addresses suppressed/);
    expect(l.summary(500)).toEqual([]);
  });

  it('the source address of a link description drops the port, keeps IPv6 and serial paths', () => {
    expect(sourceAddress('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(sourceAddress('::ffff:10.1.2.3:443')).toBe('::ffff:10.1.2.3');
    expect(sourceAddress('/dev/ttyUSB0')).toBe('/dev/ttyUSB0');
  });
});
