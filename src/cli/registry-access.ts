import type { DeviceClass } from '../protocol/index.js';
import { EparaServer } from '../server-adapter/server.js';
import type { DeviceInfo } from '../server-adapter/events.js';
import type { CommandEnv } from './command-env.js';
import { locateServer, type ServerClient } from './server-client.js';
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
  constructor(private readonly s: EparaServer) {}
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
  close() {
    return this.s.close({ drainMs: 0 });
  }
}

export async function openRegistry(env: CommandEnv, flags: ServerFlags): Promise<RegistryAccess> {
  const client = locateServer(env, flags);
  if (client) return new HttpRegistry(client);
  const server = new EparaServer({ dataDir: env.dataDir() });
  await server.start();
  return new LocalRegistry(server);
}
