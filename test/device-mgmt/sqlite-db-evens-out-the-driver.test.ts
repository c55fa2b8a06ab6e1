import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDb } from '../../src/device-mgmt/registry/sqlite-db.js';

// The registry's SQLite adapter over libsql, on a real file: each case is a libsql difference
// from better-sqlite3 that the adapter hides (sqlite-db.ts lists them).
let dir: string;
let db: SqliteDb;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-sqlite-db-'));
  db = new SqliteDb(join(dir, 'x.sqlite'));
  db.exec('CREATE TABLE k (id TEXT PRIMARY KEY, sealed BLOB, n INTEGER)');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteDb (libsql)', () => {
  it('binds a lone Buffer as a positional parameter (raw libsql aborts the process)', () => {
    db.prepare(`INSERT INTO k (id, sealed) VALUES ('a', ?)`).run(Buffer.from([1, 2, 3]));
    db.prepare(`UPDATE k SET sealed = ? WHERE id = 'a'`).run(new Uint8Array([4, 5]));
    expect(db.prepare(`SELECT sealed FROM k WHERE id = ?`).get('a')).toEqual({ sealed: Buffer.from([4, 5]) });
  });

  it('gives plain rows: no _metadata, BLOBs as Buffer from get() and all()', () => {
    db.prepare(`INSERT INTO k VALUES (@id, @sealed, @n)`).run({ id: 'a', sealed: Buffer.from([9]), n: 7 });
    const got = db.prepare('SELECT * FROM k').get();
    const all = db.prepare('SELECT * FROM k').all();
    expect(got).toEqual({ id: 'a', sealed: Buffer.from([9]), n: 7 });
    expect(all).toEqual([{ id: 'a', sealed: Buffer.from([9]), n: 7 }]);
    expect(Buffer.isBuffer((all[0] as { sealed: unknown }).sealed)).toBe(true);
  });

  it('reads a pragma value as better-sqlite3 { simple: true } does', () => {
    db.pragma('user_version = 7');
    expect(db.pragmaValue('user_version')).toBe(7);
    db.pragma('journal_mode = WAL');
    expect(db.pragmaValue('journal_mode')).toBe('wal');
  });

  it('nests transactions as savepoints: an inner failure undoes only the inner writes', () => {
    const ins = db.prepare(`INSERT INTO k (id, n) VALUES (?, ?)`);
    db.transaction(() => {
      ins.run('outer', 1);
      expect(() =>
        db.transaction(() => {
          ins.run('inner', 2);
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
      ins.run('after', 3);
    });
    expect(db.prepare('SELECT id FROM k ORDER BY n').all()).toEqual([{ id: 'outer' }, { id: 'after' }]);
    expect(() => db.transaction(() => { ins.run('gone', 4); throw new Error('outer fails'); })).toThrow('outer fails');
    expect(db.prepare(`SELECT count(*) AS n FROM k WHERE id = 'gone'`).get()).toEqual({ n: 0 });
  });

  it('answers SQLITE_BUSY at once with timeoutMs 0 while another connection holds an exclusive lock', () => {
    const path = join(dir, 'lock.sqlite');
    const holder = new SqliteDb(path, { timeoutMs: 0 });
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    const other = new SqliteDb(path, { timeoutMs: 0 });
    try {
      expect(() => {
        other.pragma('locking_mode = EXCLUSIVE');
        other.exec('BEGIN EXCLUSIVE');
      }).toThrowError(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    } finally {
      other.close();
      holder.close();
    }
  });

  it('reports SQLITE_FULL itself, not a failed ROLLBACK, when the file cannot grow', () => {
    db.pragma('max_page_count = ' + String(db.pragmaValue('page_count')));
    const ins = db.prepare(`INSERT INTO k (id, sealed) VALUES (?, ?)`);
    let err: unknown;
    try {
      db.transaction(() => {
        for (let i = 0; i < 100; i++) ins.run(`r${i}`, Buffer.alloc(8192));
      });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('SQLITE_FULL');
    // The connection is usable afterwards: nothing half-open.
    db.pragma('max_page_count = 100000');
    ins.run('ok', Buffer.alloc(1));
    expect(db.prepare('SELECT count(*) AS n FROM k').get()).toEqual({ n: 1 });
  });
});
