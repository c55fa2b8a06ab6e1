import { resolveNumbers } from '../options.js';

/**
 * Per-source-address rate limit on refused connections (issue 15): a token bucket per address
 * that every refused handshake (bad MAC, unknown id, timeout, …) drains by one and that refills
 * at `perSecond`. While an address has tokens its refusals are audited one by one; once it is out,
 *  - new links from it are closed before the handshake (no nonce, no key lookup, no audit row), and
 *  - its refusals are counted, not written: `drain()` hands the counts to the server, which writes
 *    one aggregate row per address ("N refusals suppressed") at most once per flush period.
 * A second, global bucket caps audited refusals from all addresses together (many addresses, e.g.
 * an IPv6 prefix, must not flood the log either); what it holds back is counted the same way.
 * So a flood costs a bounded number of audit rows, and accepted handshakes never
 * spend tokens (a well-behaved device behind the same NAT is only held back while the flood lasts).
 * The map is bounded (`maxAddresses`, least recently refused evicted first); counts of evicted
 * addresses are folded into one `*` entry so nothing suppressed goes unreported. Pure: time is
 * passed in.
 */
export interface RefusalLimitOptions {
  /** Refusals an address may have audited back to back. */
  burst?: number;
  /** Refusals per second an address earns back. */
  perSecond?: number;
  /** Addresses tracked at once. */
  maxAddresses?: number;
  /** Refusals from all addresses together that may be audited back to back, and per second after. */
  globalBurst?: number;
  globalPerSecond?: number;
  /** How often the suppressed counts become audit rows. */
  summaryMs?: number;
}

export const REFUSAL_LIMIT_SPECS = {
  burst: { default: 20, min: 1, max: 1_000_000, integer: true },
  perSecond: { default: 1, min: 0.001, max: 1_000_000 },
  maxAddresses: { default: 10_000, min: 1, max: 10_000_000, integer: true },
  globalBurst: { default: 200, min: 1, max: 10_000_000, integer: true },
  globalPerSecond: { default: 20, min: 0.001, max: 10_000_000 },
  summaryMs: { default: 60_000, min: 100, max: 86_400_000, integer: true, unit: 'ms' },
};

/** Aggregate rows written per summary at most; the rest are folded into one. */
const MAX_SUMMARY_ROWS = 100;

interface Bucket {
  tokens: number;
  at: number;
  /** Refusals and dropped links since the last drain. */
  suppressed: number;
}

export class RefusalLimiter {
  private readonly o: Record<keyof typeof REFUSAL_LIMIT_SPECS, number>;
  private readonly buckets = new Map<string, Bucket>();
  private evictedSuppressed = 0;
  private readonly global: Bucket;
  private lastSummaryAt: number | undefined;

  constructor(options: RefusalLimitOptions = {}) {
    this.o = resolveNumbers(REFUSAL_LIMIT_SPECS, options as Record<string, unknown>, 'refusalLimit.');
    this.global = { tokens: this.o.globalBurst, at: 0, suppressed: 0 };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket, now: number): void {
    const [burst, rate] = b === this.global ? [this.o.globalBurst, this.o.globalPerSecond] : [this.o.burst, this.o.perSecond];
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate);
    b.at = now;
  }

  /** Whether a new link from `addr` may start a handshake (it has a token left); a refused one is counted. */
  admits(addr: string, now: number): boolean {
    const b = this.buckets.get(addr);
    if (!b) return true;
    this.refill(b, now);
    if (b.tokens >= 1) return true;
    b.suppressed++;
    return false;
  }

  /** A refused handshake from `addr`: true when it is to be audited, false when it is over budget (counted). */
  refuse(addr: string, now: number): boolean {
    let b = this.buckets.get(addr);
    if (b) {
      this.buckets.delete(addr);
      this.refill(b, now);
    } else {
      b = { tokens: this.o.burst, at: now, suppressed: 0 };
    }
    // Re-inserted last: the Map's order is least recently refused first, which is what eviction takes.
    this.buckets.set(addr, b);
    while (this.buckets.size > this.o.maxAddresses) {
      const [oldest, ob] = this.buckets.entries().next().value!;
      this.evictedSuppressed += ob.suppressed;
      this.buckets.delete(oldest);
    }
    this.refill(this.global, now);
    if (b.tokens >= 1 && this.global.tokens >= 1) {
      b.tokens -= 1;
      this.global.tokens -= 1;
      return true;
    }
    b.suppressed++;
    return false;
  }

  /**
   * The audit rows for what was suppressed, once per `summaryMs` (empty otherwise): one per
   * address, at most MAX_SUMMARY_ROWS, the rest folded into one row.
   */
  summary(now: number): Array<{ remote: string; detail: string; n: number }> {
    if (this.lastSummaryAt !== undefined && now - this.lastSummaryAt < this.o.summaryMs) return [];
    const since = this.lastSummaryAt;
    this.lastSummaryAt = now;
    const drained = this.drain(now).sort((a, b) => b.n - a.n);
    const window = since === undefined ? '' : ` in the last ${Math.round((now - since) / 1000)} s`;
    const rows = drained.slice(0, MAX_SUMMARY_ROWS).map((d) => ({ remote: d.addr, n: d.n, detail: `${d.n} refused connection${d.n === 1 ? '' : 's'} from ${d.addr === '*' ? 'addresses no longer tracked' : d.addr} suppressed${window} (over the refusal rate limit)` }));
    const rest = drained.slice(MAX_SUMMARY_ROWS);
    if (rest.length > 0) {
      const n = rest.reduce((a, d) => a + d.n, 0);
      rows.push({ remote: '*', n, detail: `${n} refused connections from ${rest.length} more addresses suppressed${window} (over the refusal rate limit)` });
    }
    return rows;
  }

  /** Suppressed counts since the last call, per address (`*` for addresses evicted meanwhile); resets them. */
  drain(now: number): Array<{ addr: string; n: number }> {
    const out: Array<{ addr: string; n: number }> = [];
    for (const [addr, b] of this.buckets) {
      if (b.suppressed > 0) out.push({ addr, n: b.suppressed });
      b.suppressed = 0;
      this.refill(b, now);
      // A full bucket with nothing to report carries no state worth keeping.
      if (b.tokens >= this.o.burst) this.buckets.delete(addr);
    }
    if (this.evictedSuppressed > 0) out.push({ addr: '*', n: this.evictedSuppressed });
    this.evictedSuppressed = 0;
    return out;
  }
}

/** The source address of a link description: `host:port` → `host` (IPv6 too); anything else (a serial path) as is. */
export function sourceAddress(remote: string): string {
  const m = /^(.*):(\d{1,5})$/.exec(remote);
  return m && m[1] ? m[1] : remote;
}
