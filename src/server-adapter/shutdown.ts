import type { RegistryStore } from '../device-mgmt/registry/store.js';
import type { Listener } from '../transport/byte-stream.js';
import type { DeviceConnection } from './connection.js';
import type { DeploymentCoordinator } from './deployments.js';
import type { HttpApi } from './http-api.js';
import type { LiveSessions } from './live-sessions.js';

export interface ShutdownHost {
  readonly inflightInfers: ReadonlySet<Promise<unknown>>;
  readonly http: HttpApi | undefined;
  readonly connections: ReadonlySet<DeviceConnection>;
  readonly linkListeners: readonly Listener[];
  readonly live: LiveSessions;
  readonly coordinator: DeploymentCoordinator | undefined;
  /** The registry when the server was started; closed too unless the app passed its own store. */
  readonly store: RegistryStore | undefined;
  readonly ownStore: boolean;
}

/**
 * Graceful shutdown, after the server stopped accepting links: let in-flight inferences finish
 * (up to `drainMs`), say BYE to every device, close links, commit the registry.
 */
export async function shutDown(h: ShutdownHost, drainMs: number): Promise<void> {
  // Listeners close after the drain because closing a TCP listener also ends the links it accepted.
  if (h.inflightInfers.size > 0) {
    await Promise.race([Promise.allSettled([...h.inflightInfers]), new Promise((r) => setTimeout(r, drainMs).unref())]);
  }
  await h.http?.close();
  const now = Date.now();
  await Promise.all(
    [...h.connections].map(async (c) => {
      if (c.isReady) await c.link.notify({ type: 'BYE', code: 0, reason: 'server shutting down' }).catch(() => undefined);
      c.close();
    }),
  );
  await Promise.all(h.linkListeners.map((l) => l.close().catch(() => undefined)));
  for (const l of h.live.values()) if (!l.session.terminal) h.live.apply(l.session, 'bye', now);
  h.live.clear();
  h.coordinator?.wakeAll();
  if (h.store) {
    h.store.flush();
    if (h.ownStore) h.store.close();
  }
}
