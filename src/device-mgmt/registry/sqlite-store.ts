import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RegistryError } from '../../errors.js';
import { resolveNumber, resolveNumbers } from '../../options.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { SqlWhere } from './sql-where.js';
import { SqliteDb } from './sqlite-db.js';
import type {
  AuditDurability,
  AuditEntry,
  AuditQuery,
  DeploymentRecord,
  DeploymentState,
  DeviceRecord,
  DeviceStatus,
  NewDeployment,
  RegistryStore,
} from './store.js';
import { AuditPruner, resolveAuditRetention, type AuditRetentionOptions } from './audit-retention.js';
import { WriteBatcher } from './write-batcher.js';

export interface SqliteStoreOptions {
  /** How long batched writes may wait before they are committed. */
  batchIntervalMs?: number;
  /** Commit early once this many batched writes are waiting. */
  maxBatch?: number;
  /**
   * SQLite `synchronous` level. 'normal' (default) survives a process crash (SIGKILL) with every
   * committed transaction; 'full' also survives power loss at the cost of an fsync per commit.
   */
  synchronous?: 'normal' | 'full';
  /** Where batched-write failures go (the server turns them into audit/log lines). */
  onBackgroundError?: (err: RegistryError) => void;
  /** Audit log pruning by age and row count (audit-retention.ts). */
  auditRetention?: AuditRetentionOptions;
}

const OPTION_SPECS = {
  batchIntervalMs: { default: 20, min: 0, max: 5000, integer: true, unit: 'ms' },
  maxBatch: { default: 2000, min: 1, max: 100_000, integer: true },
};

interface DeviceRow {
  id: string;
  name: string;
  device_class: string;
  status: string;
  created_at: number;
  last_seen_at: number | null;
  firmware: string | null;
  caps: string | null;
  last_remote: string | null;
}

interface DeploymentRow {
  id: number;
  device_id: string;
  service: string;
  version: string;
  kind: string;
  category: string;
  size: number;
  sha256: string;
  chunk_size: number;
  state: string;
  offset: number;
  error_code: string | null;
  active_version: string | null;
  meta: string | null;
  created_at: number;
  updated_at: number;
}

function wrap(err: unknown, action: string, path: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const msg = err instanceof Error ? err.message.split('\n', 1)[0] : String(err);
  const code = (err as { code?: string })?.code;
  if (code === 'SQLITE_FULL') {
    return new RegistryError({ code: 'registry.full', reason: `disk full while ${action} (${path})`, hint: 'free space on the data directory volume', cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RegistryError({ code: 'registry.busy', reason: `registry file is locked by another process while ${action} (${path})`, hint: 'run one server per data directory', cause: err });
  }
  return new RegistryError({ code: 'registry.io', reason: `registry failed while ${action}: ${msg}`, hint: `check that ${path} is a readable, writable epara registry`, cause: err, details: { sqliteCode: code } });
}

function rowToDevice(r: DeviceRow): DeviceRecord {
  const d: DeviceRecord = {
    id: r.id,
    name: r.name,
    deviceClass: r.device_class as DeviceRecord['deviceClass'],
    status: r.status as DeviceStatus,
    createdAt: r.created_at,
  };
  if (r.last_seen_at !== null) d.lastSeenAt = r.last_seen_at;
  if (r.firmware !== null) d.firmware = r.firmware;
  if (r.caps !== null) d.caps = JSON.parse(r.caps) as Record<string, unknown>;
  if (r.last_remote !== null) d.lastRemote = r.last_remote;
  return d;
}

function rowToDeployment(r: DeploymentRow): DeploymentRecord {
  const d: DeploymentRecord = {
    id: r.id,
    deviceId: r.device_id,
    service: r.service,
    version: r.version,
    kind: r.kind as DeploymentRecord['kind'],
    category: r.category as DeploymentRecord['category'],
    size: r.size,
    sha256: r.sha256,
    chunkSize: r.chunk_size,
    state: r.state as DeploymentState,
    offset: r.offset,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.error_code !== null) d.errorCode = r.error_code;
  if (r.active_version !== null) d.activeVersion = r.active_version;
  if (r.meta !== null) d.meta = JSON.parse(r.meta) as Record<string, unknown>;
  return d;
}

/** JSON for caps: Uint8Array values (none expected) would not survive, so they are dropped. */
function capsJson(caps: Record<string, unknown> | undefined): string | null {
  if (!caps) return null;
  return JSON.stringify(caps, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : typeof v === 'bigint' ? Number(v) : v));
}

/** The deployment fields updateDeployment may change, with their columns. */
const PATCH_COLUMNS = [
  ['state', 'state'],
  ['offset', 'offset'],
  ['errorCode', 'error_code'],
  ['activeVersion', 'active_version'],
] as const;

/** SQLite registry in one file: WAL journal, migrations, transactions, batched small writes. */
export class SqliteStore implements RegistryStore {
  private readonly db: SqliteDb;
  private readonly batcher: WriteBatcher;
  private readonly stmts;
  /** Deletes audit rows past their retention, in batches, in the background. */
  readonly auditPruner: AuditPruner;

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    const o = resolveNumbers(OPTION_SPECS, opts as Record<string, unknown>);
    const retention = resolveAuditRetention(opts.auditRetention);
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new SqliteDb(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      // Another process holding the write lock briefly (e.g. `epara` CLI reading) is waited for.
      this.db.pragma('busy_timeout = 2000');
      this.migrate();
    } catch (err) {
      throw wrap(err, 'opening the registry', path);
    }
    const db = this.db;
    this.stmts = {
      insertDevice: db.prepare(
        `INSERT INTO devices (id, name, device_class, status, created_at, last_seen_at, firmware, caps, last_remote)
         VALUES (@id, @name, @deviceClass, @status, @createdAt, @lastSeenAt, @firmware, @caps, @lastRemote)`,
      ),
      insertKey: db.prepare(`INSERT OR REPLACE INTO device_keys (device_id, sealed, created_at) VALUES (?, ?, ?)`),
      getDevice: db.prepare(`SELECT * FROM devices WHERE id = ?`),
      listDevices: db.prepare(`SELECT * FROM devices ORDER BY id`),
      countDevices: db.prepare(`SELECT count(*) AS n FROM devices`),
      countByStatus: db.prepare(`SELECT count(*) AS n FROM devices WHERE status = ?`),
      setStatus: db.prepare(`UPDATE devices SET status = ? WHERE id = ?`),
      getKey: db.prepare(`SELECT sealed FROM device_keys WHERE device_id = ?`),
      touch: db.prepare(
        `UPDATE devices SET last_seen_at = @at, firmware = coalesce(@firmware, firmware),
           caps = coalesce(@caps, caps), last_remote = coalesce(@remote, last_remote) WHERE id = @id`,
      ),
      insertDeployment: db.prepare(
        `INSERT INTO deployments (device_id, service, version, kind, category, size, sha256, chunk_size, state, offset,
           error_code, active_version, meta, created_at, updated_at)
         VALUES (@deviceId, @service, @version, @kind, @category, @size, @sha256, @chunkSize, @state, 0,
           @errorCode, @activeVersion, @meta, @now, @now)`,
      ),
      getDeployment: db.prepare(`SELECT * FROM deployments WHERE id = ?`),
      setOffset: db.prepare(`UPDATE deployments SET offset = max(offset, ?), updated_at = ? WHERE id = ?`),
      insertAudit: db.prepare(`INSERT INTO audit (at, event, device_id, remote, detail) VALUES (@at, @event, @deviceId, @remote, @detail)`),
      pruneAudit: db.prepare(`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? OR id <= ? ORDER BY id LIMIT ?)`),
      maxAuditId: db.prepare(`SELECT coalesce(max(id), 0) AS n FROM audit`),
    };
    this.batcher = new WriteBatcher(
      (writes) => {
        try {
          this.db.transaction(() => {
            for (const w of writes) w();
          });
        } catch (err) {
          throw wrap(err, `committing ${writes.length} batched writes`, this.path);
        }
      },
      o.batchIntervalMs,
      o.maxBatch,
      (err) => opts.onBackgroundError?.(err as RegistryError),
    );
    this.auditPruner = new AuditPruner(
      {
        pruneAudit: (olderThan, upToId, limit) => this.run('pruning the audit log', () => this.stmts.pruneAudit.run(olderThan, upToId, limit).changes),
        maxAuditId: () => (this.stmts.maxAuditId.get() as { n: number }).n,
      },
      retention,
      (err) => opts.onBackgroundError?.(err as RegistryError),
    );
    this.auditPruner.start();
  }

  private migrate(): void {
    const current = this.db.pragmaValue('user_version') as number;
    if (current > SCHEMA_VERSION) {
      throw new RegistryError({
        code: 'registry.schema_too_new',
        reason: `registry schema version ${current} is newer than this build understands (${SCHEMA_VERSION})`,
        hint: 'upgrade epara, or point --data-dir at another directory',
        details: { current, supported: SCHEMA_VERSION },
      });
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      });
    }
  }

  get schemaVersion(): number {
    return this.db.pragmaValue('user_version') as number;
  }

  private run<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw wrap(err, action, this.path);
    }
  }

  insertDevice(device: DeviceRecord, sealedKey: Uint8Array | undefined): void {
    if (this.getDevice(device.id)) {
      throw new RegistryError({
        code: 'registry.duplicate',
        reason: `device ${device.id} is already in the registry`,
        hint: 'choose another id, or revoke and re-provision the existing device',
        field: 'id',
      });
    }
    this.run(`adding device ${device.id}`, () =>
      this.db.transaction(() => {
        this.stmts.insertDevice.run({
          id: device.id,
          name: device.name,
          deviceClass: device.deviceClass,
          status: device.status,
          createdAt: device.createdAt,
          lastSeenAt: device.lastSeenAt ?? null,
          firmware: device.firmware ?? null,
          caps: capsJson(device.caps),
          lastRemote: device.lastRemote ?? null,
        });
        if (sealedKey) this.stmts.insertKey.run(device.id, Buffer.from(sealedKey), device.createdAt);
      }),
    );
  }

  getDevice(id: string): DeviceRecord | undefined {
    const row = this.run(`reading device ${id}`, () => this.stmts.getDevice.get(id) as DeviceRow | undefined);
    return row ? rowToDevice(row) : undefined;
  }

  listDevices(): DeviceRecord[] {
    return this.run('listing devices', () => (this.stmts.listDevices.all() as DeviceRow[]).map(rowToDevice));
  }

  countDevices(status?: DeviceStatus): number {
    return this.run('counting devices', () => ((status === undefined ? this.stmts.countDevices.get() : this.stmts.countByStatus.get(status)) as { n: number }).n);
  }

  setDeviceStatus(id: string, status: DeviceStatus, sealedKey?: Uint8Array): void {
    this.run(`setting device ${id} to ${status}`, () =>
      this.db.transaction(() => {
        const r = this.stmts.setStatus.run(status, id);
        if (r.changes === 0) {
          throw new RegistryError({ code: 'registry.unknown_device', reason: `no device ${id} in the registry`, hint: 'list devices with `epara devices`', field: 'id' });
        }
        if (sealedKey) this.stmts.insertKey.run(id, Buffer.from(sealedKey), Date.now());
      }),
    );
  }

  getSealedKey(id: string): Uint8Array | undefined {
    const row = this.run(`reading key of ${id}`, () => this.stmts.getKey.get(id) as { sealed: Buffer } | undefined);
    return row ? new Uint8Array(row.sealed) : undefined;
  }

  touchDevice(id: string, seen: { at: number; firmware?: string; caps?: Record<string, unknown>; remote?: string }): void {
    const params = { id, at: seen.at, firmware: seen.firmware ?? null, caps: capsJson(seen.caps), remote: seen.remote ?? null };
    this.batcher.add(() => this.stmts.touch.run(params));
  }

  insertDeployment(d: NewDeployment): DeploymentRecord {
    const now = Date.now();
    const id = this.run(`recording deployment of ${d.service}@${d.version} to ${d.deviceId}`, () => {
      // Offsets queued in the batcher for older deployments must land before the new row.
      this.batcher.flush();
      const r = this.stmts.insertDeployment.run({
        deviceId: d.deviceId,
        service: d.service,
        version: d.version,
        kind: d.kind,
        category: d.category,
        size: d.size,
        sha256: d.sha256,
        chunkSize: d.chunkSize,
        state: d.state ?? 'offered',
        errorCode: d.errorCode ?? null,
        activeVersion: d.activeVersion ?? null,
        meta: d.meta ? JSON.stringify(d.meta) : null,
        now,
      });
      return Number(r.lastInsertRowid);
    });
    return this.getDeployment(id)!;
  }

  getDeployment(id: number): DeploymentRecord | undefined {
    const row = this.run(`reading deployment ${id}`, () => this.stmts.getDeployment.get(id) as DeploymentRow | undefined);
    return row ? rowToDeployment(row) : undefined;
  }

  listDeployments(filter: { deviceId?: string; service?: string; states?: DeploymentState[] } = {}): DeploymentRecord[] {
    const where = new SqlWhere().equals('device_id', filter.deviceId).equals('service', filter.service).isIn('state', filter.states);
    const sql = `SELECT * FROM deployments ${where.sql} ORDER BY id`;
    return this.run('listing deployments', () => (this.db.prepare(sql).all(...where.args) as DeploymentRow[]).map(rowToDeployment));
  }

  updateDeployment(id: number, patch: Partial<Pick<DeploymentRecord, 'state' | 'offset' | 'errorCode' | 'activeVersion'>>): void {
    const sets: string[] = ['updated_at = @now'];
    const params: Record<string, unknown> = { id, now: Date.now() };
    for (const [field, column] of PATCH_COLUMNS) {
      if (patch[field] === undefined) continue;
      sets.push(`${column} = @${field}`);
      params[field] = patch[field];
    }
    this.run(`updating deployment ${id}`, () => {
      // Keep ordering: a queued offset must not land after (and overwrite) this state change.
      this.batcher.flush();
      this.db.prepare(`UPDATE deployments SET ${sets.join(', ')} WHERE id = @id`).run(params);
    });
  }

  recordDeploymentOffset(id: number, offset: number): void {
    this.batcher.add(() => this.stmts.setOffset.run(offset, Date.now(), id));
  }

  appendAudit(entry: AuditEntry, durability: AuditDurability = 'batched'): void {
    const params = { at: entry.at, event: entry.event, deviceId: entry.deviceId ?? null, remote: entry.remote ?? null, detail: entry.detail ?? null };
    if (durability === 'batched') {
      this.batcher.add(() => this.stmts.insertAudit.run(params));
      return;
    }
    this.run(`recording audit event ${entry.event}`, () => {
      // Rows queued earlier land first, so the log keeps the order things happened in.
      this.batcher.flush();
      this.stmts.insertAudit.run(params);
    });
  }

  queryAudit(q: AuditQuery = {}): AuditEntry[] {
    this.flush();
    const where = new SqlWhere().equals('device_id', q.deviceId).equals('event', q.event);
    // A whole number (NaN or 1.5 in the SQL text is an SQLite error), then clamped as before.
    const asked = resolveNumber('limit', q.limit, { default: 1000, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true });
    const limit = Math.max(1, Math.min(asked, 100_000));
    const sql = `SELECT * FROM audit ${where.sql} ORDER BY id DESC LIMIT ${limit}`;
    const rows = this.run('reading the audit log', () => this.db.prepare(sql).all(...where.args)) as Array<{
      id: number; at: number; event: string; device_id: string | null; remote: string | null; detail: string | null;
    }>;
    return rows.reverse().map((r) => {
      const e: AuditEntry = { id: r.id, at: r.at, event: r.event };
      if (r.device_id !== null) e.deviceId = r.device_id;
      if (r.remote !== null) e.remote = r.remote;
      if (r.detail !== null) e.detail = r.detail;
      return e;
    });
  }

  get pendingWrites(): number {
    return this.batcher.pending;
  }

  flush(): void {
    this.batcher.flush();
  }

  close(): void {
    this.auditPruner.stop();
    this.batcher.close();
    if (this.db.open) this.db.close();
  }
}
