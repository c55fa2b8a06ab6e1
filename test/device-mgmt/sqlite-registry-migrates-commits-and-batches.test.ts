import { SqliteDb as Database } from '../../src/device-mgmt/registry/sqlite-db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/device-mgmt/registry/migrations.js';
import { SqliteStore } from '../../src/device-mgmt/registry/sqlite-store.js';
import type { DeviceRecord } from '../../src/device-mgmt/registry/store.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-reg-'));
  file = join(dir, 'registry.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dev = (id: string, over: Partial<DeviceRecord> = {}): DeviceRecord => ({
  id,
  name: id,
  deviceClass: 'microcomputer',
  status: 'active',
  createdAt: 1000,
  ...over,
});

describe('SqliteStore', () => {
  it('creates the schema in a WAL-mode file at the latest migration', () => {
    const s = new SqliteStore(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    s.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragmaValue('journal_mode')).toBe('wal');
    const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['audit', 'deployments', 'device_keys', 'devices']));
    raw.close();
  });

  it('refuses a registry written by a newer schema', () => {
    new SqliteStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => new SqliteStore(file)).toThrowError(expect.objectContaining({ code: 'registry.schema_too_new' }));
  });

  it('stores devices with their sealed key and refuses a duplicate id', () => {
    const s = new SqliteStore(file);
    s.insertDevice(dev('pi-1', { caps: { cpuCores: 4 } }), new Uint8Array([1, 2, 3]));
    expect(s.getDevice('pi-1')).toMatchObject({ id: 'pi-1', status: 'active', caps: { cpuCores: 4 } });
    expect([...s.getSealedKey('pi-1')!]).toEqual([1, 2, 3]);
    let err: unknown;
    try {
      s.insertDevice(dev('pi-1'), undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('registry.duplicate');
    expect(() => s.setDeviceStatus('nope', 'active')).toThrowError(expect.objectContaining({ code: 'registry.unknown_device' }));
    s.close();
  });

  it('commits immediate writes before returning: a second connection sees them without flush', () => {
    const s = new SqliteStore(file, { batchIntervalMs: 5000 });
    s.insertDevice(dev('gpu-1', { deviceClass: 'gpu-server' }), new Uint8Array(4));
    const d = s.insertDeployment({ deviceId: 'gpu-1', service: 'resnet', version: '1', kind: 'onnx', category: 'latency-single', size: 100, sha256: 'ab', chunkSize: 10 });
    s.updateDeployment(d.id, { state: 'transferring' });
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT id FROM devices').all()).toEqual([{ id: 'gpu-1' }]);
    expect(raw.prepare('SELECT state FROM deployments WHERE id = ?').get(d.id)).toEqual({ state: 'transferring' });
    raw.close();
    s.close();
  });

  it('batches small writes: they are invisible until the batch commits, then all land together', () => {
    const s = new SqliteStore(file, { batchIntervalMs: 5000, maxBatch: 100_000 });
    for (let i = 0; i < 500; i++) s.insertDevice(dev(`d${i}`), undefined);
    for (let i = 0; i < 500; i++) {
      s.touchDevice(`d${i}`, { at: 5000 + i, firmware: 'fw-2' });
      s.appendAudit({ at: 5000 + i, event: 'auth.ok', deviceId: `d${i}` });
    }
    expect(s.pendingWrites).toBe(1000);
    const raw = new Database(file, { readonly: true });
    expect((raw.prepare('SELECT count(*) n FROM audit').get() as { n: number }).n).toBe(0);
    s.flush();
    expect(s.pendingWrites).toBe(0);
    expect((raw.prepare('SELECT count(*) n FROM audit').get() as { n: number }).n).toBe(500);
    expect(raw.prepare(`SELECT last_seen_at, firmware FROM devices WHERE id = 'd499'`).get()).toEqual({ last_seen_at: 5499, firmware: 'fw-2' });
    raw.close();
    s.close();
  });

  it('commits an immediate audit entry before returning, after the batched rows queued before it', () => {
    const s = new SqliteStore(file, { batchIntervalMs: 5000, maxBatch: 100_000 });
    s.appendAudit({ at: 1, event: 'auth.ok', deviceId: 'a' });
    s.appendAudit({ at: 2, event: 'auth.bad_mac', deviceId: 'b' }, 'immediate');
    s.appendAudit({ at: 3, event: 'auth.ok', deviceId: 'c' });
    const raw = new Database(file, { readonly: true });
    // Another connection sees both the immediate row and the batched one ahead of it, in order,
    // and not the batched row behind it.
    expect(raw.prepare('SELECT event, device_id d FROM audit ORDER BY id').all()).toEqual([
      { event: 'auth.ok', d: 'a' },
      { event: 'auth.bad_mac', d: 'b' },
    ]);
    expect(s.pendingWrites).toBe(1);
    raw.close();
    s.close();
  });

  it('commits early when maxBatch writes are waiting', () => {
    const s = new SqliteStore(file, { batchIntervalMs: 5000, maxBatch: 10 });
    for (let i = 0; i < 25; i++) s.appendAudit({ at: i, event: 'auth.bad_mac', deviceId: 'x' });
    expect(s.pendingWrites).toBe(5);
    s.close();
  });

  it('keeps deployment offsets monotonic and ordered behind state changes', () => {
    const s = new SqliteStore(file, { batchIntervalMs: 5000 });
    s.insertDevice(dev('m'), undefined);
    const d = s.insertDeployment({ deviceId: 'm', service: 'svc', version: '2', kind: 'blob', category: 'frequency-single', size: 1000, sha256: 'cd', chunkSize: 100 });
    expect(d).toMatchObject({ state: 'offered', offset: 0 });
    s.recordDeploymentOffset(d.id, 300);
    s.recordDeploymentOffset(d.id, 200); // a late, lower ack must not move the record back
    s.flush();
    expect(s.getDeployment(d.id)!.offset).toBe(300);
    s.recordDeploymentOffset(d.id, 900);
    s.updateDeployment(d.id, { state: 'verifying' });
    expect(s.getDeployment(d.id)).toMatchObject({ offset: 900, state: 'verifying' });
    expect(s.listDeployments({ states: ['verifying'] }).map((x) => x.id)).toEqual([d.id]);
    expect(s.listDeployments({ states: ['ready'] })).toEqual([]);
    s.close();
  });

  it('queries the audit log by device and event, oldest first', () => {
    const s = new SqliteStore(file);
    s.appendAudit({ at: 1, event: 'auth.bad_mac', deviceId: 'a', remote: '127.0.0.1:1', detail: 'mac mismatch' });
    s.appendAudit({ at: 2, event: 'auth.ok', deviceId: 'a' });
    s.appendAudit({ at: 3, event: 'auth.bad_mac', deviceId: 'b' });
    expect(s.queryAudit({ event: 'auth.bad_mac' }).map((e) => e.deviceId)).toEqual(['a', 'b']);
    expect(s.queryAudit({ deviceId: 'a' }).map((e) => e.event)).toEqual(['auth.bad_mac', 'auth.ok']);
    expect(s.queryAudit({ deviceId: 'a' })[0]).toMatchObject({ remote: '127.0.0.1:1', detail: 'mac mismatch' });
    s.close();
  });

  it('reports a registry path that is not a database as a typed error', () => {
    expect(() => new SqliteStore(dir)).toThrowError(RegistryError);
  });
});
