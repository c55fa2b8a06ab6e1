/**
 * Schema migrations, applied in order inside one transaction each. The schema version lives in
 * SQLite's `user_version` pragma, so a file opened by an older build is upgraded in place and a
 * file written by a newer build is refused rather than misread.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'devices, sealed keys, deployments, audit log',
    sql: `
      CREATE TABLE devices (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        device_class TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('active', 'pending', 'revoked')),
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER,
        firmware     TEXT,
        caps         TEXT,
        last_remote  TEXT
      );
      CREATE TABLE device_keys (
        device_id  TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        sealed     BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE deployments (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id      TEXT NOT NULL REFERENCES devices(id),
        service        TEXT NOT NULL,
        version        TEXT NOT NULL,
        kind           TEXT NOT NULL,
        category       TEXT NOT NULL,
        size           INTEGER NOT NULL,
        sha256         TEXT NOT NULL,
        chunk_size     INTEGER NOT NULL,
        state          TEXT NOT NULL,
        offset         INTEGER NOT NULL DEFAULT 0,
        error_code     TEXT,
        active_version TEXT,
        meta           TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX deployments_by_device ON deployments (device_id, state);
      CREATE TABLE audit (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        event     TEXT NOT NULL,
        device_id TEXT,
        remote    TEXT,
        detail    TEXT
      );
      CREATE INDEX audit_by_device ON audit (device_id, id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
