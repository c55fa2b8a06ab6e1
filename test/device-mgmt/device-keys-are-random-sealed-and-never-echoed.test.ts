import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateDeviceKey,
  keyFromHex,
  keyToHex,
  loadOrCreateMasterKey,
  openKey,
  sealKey,
  validateDeviceClass,
  validateDeviceId,
} from '../../src/device-mgmt/identity.js';
import { ConfigError, RegistryError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'epara-id-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('device keys', () => {
  it('are 32 fresh bytes each time', () => {
    const a = generateDeviceKey();
    const b = generateDeviceKey();
    expect(a.length).toBe(32);
    expect(keyToHex(a)).not.toBe(keyToHex(b));
    expect(keyToHex(a)).toMatch(/^[0-9a-f]{64}$/);
    expect([...keyFromHex(keyToHex(a))]).toEqual([...a]);
  });

  it('rejects a malformed hex key without echoing it', () => {
    const bad = 'zz'.repeat(32);
    try {
      keyFromHex(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(JSON.stringify((e as ConfigError).toJSON())).not.toContain(bad);
    }
  });

  it('seal/open round-trips, and the seal is bound to the device id and the master key', () => {
    const master = loadOrCreateMasterKey(dir);
    const key = generateDeviceKey();
    const sealed = sealKey(master, 'pi-1', key);
    expect(Buffer.from(sealed).includes(Buffer.from(key))).toBe(false);
    expect([...openKey(master, 'pi-1', sealed)]).toEqual([...key]);
    expect(() => openKey(master, 'pi-2', sealed)).toThrowError(expect.objectContaining({ code: 'registry.key_unsealable' }));
    const other = generateDeviceKey();
    try {
      openKey(other, 'pi-1', sealed);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RegistryError);
      expect((e as Error).message).not.toContain(keyToHex(key));
    }
  });
});

describe('master key file', () => {
  it('is created 0600 once and reused', () => {
    const a = loadOrCreateMasterKey(dir);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect([...loadOrCreateMasterKey(dir)]).toEqual([...a]);
  });

  it('is refused when other users can read it', () => {
    loadOrCreateMasterKey(dir);
    chmodSync(join(dir, 'master.key'), 0o644);
    expect(() => loadOrCreateMasterKey(dir)).toThrowError(expect.objectContaining({ code: 'registry.master_key_permissions' }));
  });
});

describe('device id and class validation', () => {
  it('accepts the SPEC alphabet and rejects the rest with config.device_id', () => {
    expect(validateDeviceId('jetson_01.lab-a')).toBe('jetson_01.lab-a');
    for (const bad of ['', 'a b', 'x'.repeat(65), 'ü', 42]) {
      expect(() => validateDeviceId(bad)).toThrowError(expect.objectContaining({ code: 'config.device_id' }));
    }
    expect(validateDeviceClass('fpga')).toBe('fpga');
    expect(() => validateDeviceClass('toaster')).toThrowError(expect.objectContaining({ code: 'config.device_class' }));
  });
});
