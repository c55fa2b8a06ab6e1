/**
 * The SQLite driver behind the registry. It is libsql (better-sqlite3's synchronous API over the
 * libSQL fork of SQLite, same file format) because its binaries ship inside registry packages
 * (@libsql/<platform>, picked by npm as optional dependencies): `npm install epara` compiles
 * nothing and downloads nothing beyond the registry. better-sqlite3 has no prebuilt binary in any
 * registry release (prebuild-install fetches one from GitHub, else node-gyp compiles SQLite).
 *
 * Where libsql differs from better-sqlite3 this file evens it out, so the store and the tests
 * see one behaviour:
 * - rows carry an enumerable `_metadata` (query timing): removed;
 * - `all()` gives BLOB columns as ArrayBuffer (`get()` as Buffer): Buffer in both;
 * - a lone Buffer argument is taken for an object of named parameters and the native side
 *   panics (the process aborts): it is passed as a one-element list instead;
 * - `transaction()` does not nest and issues ROLLBACK after SQLite already rolled back (e.g. on
 *   SQLITE_FULL), hiding the real error: ours nests with savepoints and rolls back only an open
 *   transaction;
 * - `pragma(x, { simple: true })` returns the row, not its value: `pragmaValue`.
 */
import Libsql from 'libsql';

export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

function plain<T>(row: T): T {
  if (row === null || typeof row !== 'object') return row;
  const r = row as Record<string, unknown>;
  delete r._metadata;
  for (const k in r) if (r[k] instanceof ArrayBuffer) r[k] = Buffer.from(r[k]);
  return row;
}

/** Positional parameters as libsql reads them safely (see above). */
function bind(params: unknown[]): unknown[] {
  return params.length === 1 && params[0] instanceof Uint8Array ? [[params[0]]] : params;
}

class Statement implements SqliteStatement {
  constructor(private readonly stmt: Libsql.Statement) {}
  run(...params: unknown[]): SqliteRunResult {
    const r = this.stmt.run(...bind(params));
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }
  get(...params: unknown[]): unknown {
    return plain(this.stmt.get(...bind(params)));
  }
  all(...params: unknown[]): unknown[] {
    return this.stmt.all(...bind(params)).map(plain);
  }
}

export class SqliteDb {
  private readonly db: Libsql.Database;
  private depth = 0;

  /** `timeoutMs`: how long a locked database is waited for (SQLite's busy timeout); 0 answers SQLITE_BUSY at once. */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean; timeoutMs?: number } = {},
  ) {
    this.db = new Libsql(path, { readonly: opts.readonly ?? false, ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}) });
  }

  get open(): boolean {
    return this.db.open;
  }

  prepare(sql: string): SqliteStatement {
    return new Statement(this.db.prepare(sql));
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** `PRAGMA source`: its rows (a setting: one row, named after it). */
  pragma(source: string): unknown[] {
    return this.prepare(`PRAGMA ${source}`).all();
  }

  /** The first column of the first row of `PRAGMA source` (better-sqlite3's `{ simple: true }`). */
  pragmaValue(source: string): unknown {
    const row = this.prepare(`PRAGMA ${source}`).get() as Record<string, unknown> | undefined;
    return row === undefined ? undefined : Object.values(row)[0];
  }

  /**
   * Runs `fn` in a transaction and commits, or rolls back and rethrows. Called inside another
   * one it becomes a savepoint, so an inner failure undoes only the inner writes.
   */
  transaction<T>(fn: () => T): T {
    const savepoint = this.depth > 0 ? `epara_sp${this.depth}` : undefined;
    this.db.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
    this.depth++;
    try {
      const result = fn();
      this.db.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
      return result;
    } catch (err) {
      // SQLite may have rolled the whole transaction back already (SQLITE_FULL, SQLITE_IOERR…):
      // a second ROLLBACK would throw and hide `err`.
      if (this.db.inTransaction) {
        try {
          this.db.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
        } catch {
          /* the original error is the one to report */
        }
      }
      throw err;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
