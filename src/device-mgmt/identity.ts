import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, RegistryError } from '../errors.js';
import { DEVICE_CLASSES, type DeviceClass } from './registry/store.js';
import { DEVICE_ID_CHARS, DEVICE_ID_MAX, DEVICE_ID_PATTERN } from '../protocol/constants.js';

/**
 * Device identity and pre-shared keys.
 *
 * Why keys are encrypted, not hashed: the server must compute HMAC-SHA256 with the device key
 * (SPEC §5.3/§5.4), so it needs the key itself. Keys are sealed with AES-256-GCM under a server
 * master key that lives in `<dataDir>/master.key` (mode 0600), bound to the device id as
 * associated data so a sealed key copied onto another device row does not open. A stolen
 * registry file alone reveals no key. See docs/security.md.
 */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEAL_VERSION = 1;
export const MASTER_KEY_FILE = 'master.key';

export function validateDeviceId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !DEVICE_ID_PATTERN.test(id)) {
    throw new ConfigError({
      code: 'config.device_id',
      reason: `device id ${JSON.stringify(typeof id === 'string' ? id.slice(0, 70) : typeof id)} is not 1..${DEVICE_ID_MAX} characters of [${DEVICE_ID_CHARS}]`,
      hint: 'use letters, digits, dot, dash or underscore, e.g. jetson-01',
      field,
    });
  }
  return id;
}

/** A display name: 1..128 characters, no control characters (they garble tables and the audit log). */
export function validateDeviceName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 128 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ConfigError({
      code: 'config.device_name',
      reason: `device name must be 1..128 printable characters, got ${typeof name === 'string' ? `${name.length} characters` : typeof name}`,
      hint: 'e.g. `epara register jetson-01 --class embedded-gpu --name "bench jetson"`',
      field,
    });
  }
  return name;
}

export function validateDeviceClass(c: unknown, field = 'deviceClass'): DeviceClass {
  if (typeof c !== 'string' || !(DEVICE_CLASSES as readonly string[]).includes(c)) {
    throw new ConfigError({
      code: 'config.device_class',
      reason: `device class ${JSON.stringify(c)} is not one of ${DEVICE_CLASSES.join(', ')}`,
      hint: `pick the class that matches the hardware, e.g. 'microcomputer' for a Raspberry Pi`,
      field,
    });
  }
  return c as DeviceClass;
}

/** A fresh pre-shared key from the OS CSPRNG. */
export function generateDeviceKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

export function keyToHex(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

/** Parses an operator-supplied key (e.g. printed on a device label); never echoes it back. */
export function keyFromHex(hex: unknown, field = 'key'): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError({
      code: 'config.key',
      reason: `the key must be ${KEY_BYTES * 2} hex digits (${KEY_BYTES} bytes)`,
      hint: 'copy the key exactly as `epara register` printed it',
      field,
    });
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Loads the master key from `<dataDir>/master.key`, creating it (0600) on first start. Refuses a
 * file other users can read: that would make every sealed key readable.
 */
export function loadOrCreateMasterKey(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(KEY_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }
  const st = statSync(path);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new RegistryError({
      code: 'registry.master_key_permissions',
      reason: `${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)})`,
      hint: `run: chmod 600 ${path}`,
      field: 'dataDir',
    });
  }
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES) {
    throw new RegistryError({
      code: 'registry.master_key_invalid',
      reason: `${path} holds ${key.length} bytes, expected ${KEY_BYTES}`,
      hint: 'restore master.key from your backup; without it the stored device keys cannot be opened',
      field: 'dataDir',
    });
  }
  return new Uint8Array(key);
}

/** Seals a device key: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext(32), AAD = device id. */
export function sealKey(masterKey: Uint8Array, deviceId: string, key: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  c.setAAD(Buffer.from(deviceId, 'utf8'));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return new Uint8Array(Buffer.concat([Buffer.from([SEAL_VERSION]), iv, c.getAuthTag(), ct]));
}

export function openKey(masterKey: Uint8Array, deviceId: string, sealed: Uint8Array): Uint8Array {
  try {
    if (sealed[0] !== SEAL_VERSION) throw new Error('unknown seal version');
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const ct = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
    const d = createDecipheriv('aes-256-gcm', masterKey, iv);
    d.setAAD(Buffer.from(deviceId, 'utf8'));
    d.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
  } catch (err) {
    // Never include the sealed bytes or the key in the error.
    throw new RegistryError({
      code: 'registry.key_unsealable',
      reason: `the stored key of device ${deviceId} does not open with this server's master key`,
      hint: 'the data directory\'s master.key was replaced; restore it, or re-provision the device',
      cause: err instanceof Error ? new Error(err.message) : undefined,
    });
  }
}
