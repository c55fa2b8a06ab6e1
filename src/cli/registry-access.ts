import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceClass } from '../protocol/index.js';
import { EparaServer } from '../server-adapter/server.js';
import type { DeviceInfo } from '../server-adapter/events.js';
import type { CommandEnv } from './command-env.js';
import { locateServer, type ServerClient } from './server-client.js';
import { CliError } from './cli-error.js';
import { DataDirLock } from './data-dir-lock.js';
import type { ServerFlags } from './flags.js';

/**
 * register/devices work with or without a running server: through its HTTP API when
 * `epara serve` runs for this data dir (it owns the SQLite file then), otherwise directly on the
 * registry in the data dir, through the same EparaServer class with no listeners.
 */
export interface RegistryAccess {
  readonly via: 'server' | 'registry';
  provision(p: { id: string; name?: string; deviceClass: DeviceClass; key?: string }): Promise<{ id: string; key: string }>;
  devices(): Promise<DeviceInfo[]>;
  device(id: string): Promise<DeviceInfo | undefined>;
  revoke(id: string): Promise<void>;
  approve(id: string, key?: string): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

class HttpRegistry implements RegistryAccess {
  readonly via = 'server' as const;
  constructor(private readonly c: ServerClient) {}
  provision(p: { id: string; name?: string; deviceClass: DeviceClass; key?: string }) {
    return this.c.request<{ id: string; key: string }>('POST', 'devices', p);
  }
  devices() {
    return this.c.request<DeviceInfo[]>('GET', 'devices');
  }
  async device(id: string) {
    try {
      return await this.c.request<DeviceInfo>('GET', `devices/${encodeURIComponent(id)}`);
    } catch (e) {
      if ((e as { code?: string }).code === 'http.not_found') return undefined;
      throw e;
    }
  }
  async revoke(id: string) {
    await this.c.request('POST', `devices/${encodeURIComponent(id)}/revoke`, {});
  }
  approve(id: string, key?: string) {
    return this.c.request<{ id: string; key: string }>('POST', `devices/${encodeURIComponent(id)}/approve`, key !== undefined ? { key } : {});
  }
  async close() {}
}

class LocalRegistry implements RegistryAccess {
  readonly via = 'registry' as const;
  constructor(
    private readonly s: EparaServer,
    private readonly lock: DataDirLock,
  ) {}
  async provision(p: { id: string; name?: string; deviceClass: DeviceClass; key?: string }) {
    return this.s.provision(p);
  }
  async devices() {
    return this.s.devices();
  }
  async device(id: string) {
    return this.s.device(id);
  }
  async revoke(id: string) {
    this.s.revoke(id);
  }
  async approve(id: string, key?: string) {
    return this.s.approve(id, key !== undefined ? { key } : {});
  }
  async close() {
    try {
      await this.s.close({ drainMs: 0 });
    } finally {
      this.lock.release();
    }
  }
}

export const REGISTRY_FILE = 'registry.sqlite';

/**
 * Offline, a data dir with no registry is far more often a mistyped --data-dir or a missing
 * EPARA_DATA_DIR than a first run: creating a registry and a master.key there silently left the
 * operator with an empty fleet and a second key. Only `--init` (or `epara init`) creates one.
 */
export function requireRegistry(dataDir: string, init: boolean | undefined): void {
  if (init || existsSync(join(dataDir, REGISTRY_FILE))) return;
  throw new CliError({
    code: 'cli.no_registry',
    reason: `no epara registry in ${dataDir}${existsSync(dataDir) ? '' : ' (the directory does not exist)'}, and no server is running for it`,
    hint: 'check --data-dir / EPARA_DATA_DIR (or start `epara serve` for it); to start a new registry there add --init, or run `epara init`',
    field: 'data-dir',
  });
}

export async function openRegistry(env: CommandEnv, flags: ServerFlags & { init?: boolean }): Promise<RegistryAccess> {
  const client = locateServer(env, flags);
  if (client) return new HttpRegistry(client);
  requireRegistry(env.dataDirPath(), flags.init);
  // Offline means owning the registry for the command's duration: a server that is starting (its
  // serve.json not written yet) is refused here instead of sharing the SQLite file, and a serve
  // started meanwhile waits for nothing: it is refused until this command is done.
  const lock = DataDirLock.acquire(env.dataDir());
  try {
    const server = new EparaServer({ dataDir: env.dataDir() });
    await server.start();
    return new LocalRegistry(server, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}
