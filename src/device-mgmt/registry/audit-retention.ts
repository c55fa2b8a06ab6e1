import { resolveNumbers } from '../../options.js';

/**
 * Audit log retention (issue 15): rows older than `maxAgeMs`, and the oldest rows beyond
 * `maxRows`, are deleted every `pruneEveryMs`. Deletion runs in batches of `batchRows`, one batch
 * per event-loop turn (setImmediate between them), so pruning a big backlog never holds the
 * server's loop for more than one small transaction. Row ids only grow and only the oldest are
 * deleted, so "beyond maxRows" is simply `id <= maxId - maxRows`.
 */
export interface AuditRetentionOptions {
  /** Rows older than this are deleted (default 90 days). */
  maxAgeMs?: number;
  /** At most this many rows are kept (the newest). */
  maxRows?: number;
  /** How often pruning runs. */
  pruneEveryMs?: number;
  /** Rows deleted per batch (one transaction, one event-loop turn). */
  batchRows?: number;
}

export const AUDIT_RETENTION_SPECS = {
  maxAgeMs: { default: 90 * 86_400_000, min: 1000, max: 100 * 365 * 86_400_000, integer: true, unit: 'ms' },
  maxRows: { default: 1_000_000, min: 10, max: 1_000_000_000, integer: true },
  pruneEveryMs: { default: 60_000, min: 10, max: 86_400_000, integer: true, unit: 'ms' },
  batchRows: { default: 5000, min: 1, max: 1_000_000, integer: true },
};

export type ResolvedAuditRetention = Record<keyof typeof AUDIT_RETENTION_SPECS, number>;

export function resolveAuditRetention(o: AuditRetentionOptions | undefined): ResolvedAuditRetention {
  return resolveNumbers<keyof typeof AUDIT_RETENTION_SPECS>(AUDIT_RETENTION_SPECS, o as Record<string, unknown> | undefined, 'registry.auditRetention.');
}

export interface AuditPruneTarget {
  /** Deletes up to `limit` of the oldest rows with `at < olderThan` or `id <= upToId`; returns how many. */
  pruneAudit(olderThan: number, upToId: number, limit: number): number;
  /** The highest audit row id (0 when empty). */
  maxAuditId(): number;
}

export class AuditPruner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  /** Rows deleted and batches run so far (observable by tests and metrics). */
  readonly stats = { rows: 0, batches: 0, runs: 0 };

  constructor(
    private readonly target: AuditPruneTarget,
    private readonly o: ResolvedAuditRetention,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.run(), this.o.pruneEveryMs);
    // Retention must not keep an otherwise finished process alive.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pruning pass: batches until nothing is left to delete. Resolves with the rows deleted. */
  async run(): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    let total = 0;
    try {
      this.stats.runs++;
      const olderThan = this.now() - this.o.maxAgeMs;
      const upToId = this.target.maxAuditId() - this.o.maxRows;
      for (;;) {
        if (this.stopped) break;
        const n = this.target.pruneAudit(olderThan, upToId, this.o.batchRows);
        total += n;
        this.stats.rows += n;
        this.stats.batches++;
        if (n < this.o.batchRows) break;
        await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
    return total;
  }
}
