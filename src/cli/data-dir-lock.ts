import { join } from 'node:path';
import { SqliteDb } from '../device-mgmt/registry/sqlite-db.js';
import { CliError } from './cli-error.js';
import { readRuntime } from './server-runtime.js';

export const LOCK_FILE = 'serve.lock';

/**
 * One `epara serve` per data dir. Two servers on one registry each think they own its devices,
 * and the second overwrote serve.json and removed it on exit while the first still served.
 *
 * The lock is an SQLite database held in an EXCLUSIVE transaction: SQLite takes it with POSIX
 * advisory locks (fcntl), which the kernel drops when the holder dies, even on SIGKILL, so there
 * is never a stale lock file to clean up and no pid guessing. The registry's SQLite driver
 * (sqlite-db.ts) is already here, so this needs no new dependency.
 */
export class DataDirLock {
  private constructor(private db: SqliteDb | undefined) {}

  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    // timeout 0: a held lock answers SQLITE_BUSY at once instead of after a busy wait.
    const db = new SqliteDb(path, { timeoutMs: 0 });
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (cause) {
      db.close();
      if ((cause as { code?: string }).code !== 'SQLITE_BUSY') throw cause;
      const rt = readRuntime(dataDir);
      throw new CliError({
        code: 'cli.data_dir_locked',
        reason: rt
          ? `another epara serve (pid ${rt.pid}, HTTP API ${rt.http}${rt.links.length ? `, ${rt.links.join(', ')}` : ''}) is running on data dir ${dataDir}`
          : `data dir ${dataDir} is held (${path}) by an \`epara serve\` that is starting up, or an offline \`epara register\` / \`epara devices\``,
        hint: rt
          ? `use that one (its commands find it through ${join(dataDir, 'serve.json')}), stop it first (Ctrl-C in its terminal, or kill ${rt.pid}), or give this one its own --data-dir`
          : 'try again in a moment (a serve that is starting is then found through serve.json), or give this one its own --data-dir',
        details: rt ? { pid: rt.pid, http: rt.http } : {},
        cause,
      });
    }
    return new DataDirLock(db);
  }

  /**
   * libsql's close() does not drop the file lock at once (a later acquire in the same process
   * still met SQLITE_BUSY), so the lock is given up the way SQLite documents for EXCLUSIVE
   * locking mode: end the transaction, switch to NORMAL and touch the file, then close.
   */
  release(): void {
    const db = this.db;
    this.db = undefined;
    if (!db) return;
    try {
      db.exec('ROLLBACK');
      db.exec('PRAGMA locking_mode = NORMAL');
      db.exec('SELECT count(*) FROM sqlite_master');
    } finally {
      db.close();
    }
  }
}
