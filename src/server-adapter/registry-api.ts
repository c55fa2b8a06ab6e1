import { generateDeviceKey, keyFromHex, keyToHex, sealKey, validateDeviceClass, validateDeviceId, validateDeviceName } from '../device-mgmt/identity.js';
import type { DeviceClass, DeviceRecord, RegistryStore } from '../device-mgmt/registry/store.js';
import type { StateViews } from '../device-mgmt/state-view.js';
import { RegistryError } from '../errors.js';
import type { DeviceInfo } from './events.js';
import type { AuditFn, LiveSessions } from './live-sessions.js';

/**
 * Who may connect: provisioning, approval of enrolled devices, revocation, and the device list
 * as the API shows it (registry record + live session + last STATE view). Keys come from the
 * CSPRNG, are stored sealed under the master key and returned once.
 */
export interface ProvisionOptions {
  id: string;
  name?: string;
  deviceClass: DeviceClass;
  /** Use this key (hex) instead of generating one, e.g. printed on the device's label. */
  key?: string;
}

export interface RegistryHost {
  readonly live: LiveSessions;
  readonly views: StateViews;
  readonly stateSyncMs: number;
  store(): RegistryStore;
  masterKey(): Uint8Array;
  audit: AuditFn;
}

export function provision(h: RegistryHost, p: ProvisionOptions): { id: string; key: string } {
  const id = validateDeviceId(p?.id);
  const deviceClass = validateDeviceClass(p.deviceClass);
  const key = p.key !== undefined ? keyFromHex(p.key) : generateDeviceKey();
  h.store().insertDevice({ id, name: p.name === undefined ? id : validateDeviceName(p.name), deviceClass, status: 'active', createdAt: Date.now() }, sealKey(h.masterKey(), id, key));
  h.audit({ event: 'device.provisioned', deviceId: id, detail: `class ${deviceClass}${p.key !== undefined ? ', operator-supplied key' : ''}` }, 'immediate');
  return { id, key: keyToHex(key) };
}

export function approve(h: RegistryHost, id: string, opts: { key?: string }): { id: string; key: string } {
  validateDeviceId(id);
  const d = h.store().getDevice(id);
  if (!d || d.status !== 'pending') {
    throw new RegistryError({
      code: 'registry.not_pending',
      reason: d ? `device ${id} is ${d.status}, not pending` : `no device ${id} in the registry`,
      hint: 'list pending devices with `epara devices --pending`',
      field: 'id',
    });
  }
  const key = opts.key !== undefined ? keyFromHex(opts.key) : generateDeviceKey();
  h.store().setDeviceStatus(id, 'active', sealKey(h.masterKey(), id, key));
  h.audit({ event: 'device.approved', deviceId: id }, 'immediate');
  return { id, key: keyToHex(key) };
}

/** Revokes a device: its session ends now and it can no longer authenticate. */
export function revoke(h: RegistryHost, id: string): void {
  h.store().setDeviceStatus(validateDeviceId(id), 'revoked');
  h.audit({ event: 'device.revoked', deviceId: id }, 'immediate');
  const l = h.live.get(id);
  if (l) h.live.end(id, l, 'bye', Date.now());
}

export function deviceInfo(h: RegistryHost, d: DeviceRecord): DeviceInfo {
  const l = h.live.get(d.id);
  const info: DeviceInfo = { ...d, state: l ? l.session.state : 'offline' };
  if (l) {
    info.sessionStartedAt = l.session.startedAt;
    info.lastHeardAt = l.session.lastHeardAt;
    if (l.conn) Object.assign(info, { remote: l.conn.remote, protocolVersion: l.conn.ready?.version ?? 0 });
    info.firmware = l.hello.firmware;
    info.caps = l.hello.caps as unknown as Record<string, unknown>;
  }
  const v = h.views.get(d.id);
  if (v) {
    info.view = v;
    // SPEC §7.2: a view older than three STATE periods is stale.
    info.viewStale = Date.now() - v.updatedAt > 3 * h.stateSyncMs;
  }
  return info;
}
