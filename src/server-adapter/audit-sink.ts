import type { AuditEntry, RegistryStore } from '../device-mgmt/registry/store.js';
import type { AuditFn } from './live-sessions.js';

/**
 * The server's audit log writer. Auth failures and changes to who may connect are committed
 * before the server acts on them (the rejection goes out after this returns), so a crash right
 * after cannot lose them; routine events (auth.ok, deploy progress, liveness) are batched so a
 * registration storm stays cheap.
 */
export function auditSink(store: () => RegistryStore, emitted: (entry: AuditEntry) => void, failed: (err: Error) => void): AuditFn {
  return (e, durability = 'batched') => {
    const entry: AuditEntry = { at: e.at ?? Date.now(), ...e } as AuditEntry;
    try {
      store().appendAudit(entry, durability);
    } catch (err) {
      // A full disk must not turn a refused handshake into a crashed gateway; the operator sees it.
      failed(err as Error);
    }
    emitted(entry);
  };
}
