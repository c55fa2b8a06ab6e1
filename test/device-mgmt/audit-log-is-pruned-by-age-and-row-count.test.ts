import { SqliteDb as Database } from '../../src/device-mgmt/registry/sqlite-db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/device-mgmt/registry/sqlite-store.js';
import { until } from '../server-adapter/helpers/raw-device.js';

/**
 * Issue 15, defect 8: the audit table was never pruned (a HELLO flood wrote 75 rows/s forever).
 * Retention by age and by row count, both options with ranges; deletion in batches, one per
 * event-loop turn, so a large backlog never holds the loop.
 */
let dir: string;
const stores: SqliteStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-audit-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(auditRetention: NonNullable<ConstructorParameters<typeof SqliteStore>[1]>['auditRetention']): SqliteStore {
  const s = new SqliteStore(join(dir, 'registry.sqlite'), { auditRetention });
  stores.push(s);
  return s;
}
const count = (): number => {
  const db = new Database(join(dir, 'registry.sqlite'), { readonly: true });
  const n = (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
  db.close();
  return n;
};

describe('audit retention', () => {
  it('keeps the newest maxRows rows, deleting the rest in batches that let the event loop run', async () => {
    const s = open({ maxRows: 100, pruneEveryMs: 50, batchRows: 37 });
    const now = Date.now();
    for (let i = 0; i < 1000; i++) s.appendAudit({ at: now, event: 'auth.bad_mac', detail: `row ${i}` });
    s.flush();
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    await until(() => count() === 100);
    clearInterval(tick);
    const kept = s.queryAudit({ limit: 1000 });
    expect(kept.map((e) => e.detail)).toEqual(Array.from({ length: 100 }, (_, i) => `row ${900 + i}`));
    expect(s.auditPruner.stats.rows).toBe(900);
    // 900 rows in batches of 37: at least 25 batches, with the loop turning between them.
    expect(s.auditPruner.stats.batches).toBeGreaterThanOrEqual(25);
    expect(turns).toBeGreaterThan(0);
  });

  it('deletes rows older than maxAgeMs and keeps newer ones', async () => {
    const s = open({ maxAgeMs: 60_000, pruneEveryMs: 20 });
    const now = Date.now();
    s.appendAudit({ at: now - 3_600_000, event: 'auth.bad_mac', detail: 'an hour old' }, 'immediate');
    s.appendAudit({ at: now - 120_000, event: 'auth.bad_mac', detail: 'two minutes old' }, 'immediate');
    s.appendAudit({ at: now, event: 'device.provisioned', detail: 'new' }, 'immediate');
    await until(() => count() === 1);
    expect(s.queryAudit().map((e) => e.detail)).toEqual(['new']);
  });

  it('retention options are validated with ranges', () => {
    expect(() => open({ maxRows: 0 })).toThrowError(expect.objectContaining({ code: 'config.range', field: 'registry.auditRetention.maxRows' }));
    expect(() => open({ batchRows: 1.5 })).toThrowError(expect.objectContaining({ code: 'config.type' }));
  });
});
