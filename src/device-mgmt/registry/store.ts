/**
 * The registry's storage interface. The server only talks to this interface, so a distributed
 * store (etcd, Postgres…) can replace the SQLite file later without touching the server.
 *
 * Durability contract every implementation keeps:
 * - "immediate" writes (provisioning, approval, revocation, creating a deployment, a deployment
 *   state change) are committed before the call returns;
 * - "batched" writes (last-seen, routine audit entries, deployment transfer offsets) are committed
 *   within one flush interval, many per transaction, so a registration storm is not one commit per
 *   device. `flush()` forces them out;
 * - an audit entry appended as 'immediate' (the server does this for auth failures and key or
 *   status changes) is committed, after every batched write queued before it, before the call
 *   returns: a security event must survive a crash in the very next instant.
 */
// Device classes, artifact kinds and task categories are the wire protocol's enums (SPEC §5).
import type { ArtifactKind, DeviceClass, ServiceCategory } from '../../protocol/messages/types.js';
export type { ArtifactKind, DeviceClass };
export { DEVICE_CLASSES } from '../../protocol/messages/catalogue.js';

/** How soon an audit entry must be on disk: within one flush interval, or before appendAudit returns. */
export type AuditDurability = 'batched' | 'immediate';

/** active: may authenticate. pending: seen in open-enrolment mode, waits for an operator. revoked: refused. */
export type DeviceStatus = 'active' | 'pending' | 'revoked';

export interface DeviceRecord {
  id: string;
  name: string;
  deviceClass: DeviceClass;
  status: DeviceStatus;
  createdAt: number;
  lastSeenAt?: number;
  firmware?: string;
  /** Capabilities from the last HELLO, as the protocol layer decoded them. */
  caps?: Record<string, unknown>;
  /** Address the device last connected from (for pending devices, what the operator sees). */
  lastRemote?: string;
}

export type DeploymentState = 'offered' | 'transferring' | 'verifying' | 'loading' | 'ready' | 'failed' | 'rolled-back' | 'undeploying' | 'undeployed';
export type TaskCategory = ServiceCategory;

export interface DeploymentRecord {
  /** Also the wire deploymentId: stable across server restarts so a device can resume. */
  id: number;
  deviceId: string;
  service: string;
  version: string;
  kind: ArtifactKind;
  category: TaskCategory;
  size: number;
  /** Lower-case hex. */
  sha256: string;
  chunkSize: number;
  state: DeploymentState;
  /** Highest cumulative offset the device acknowledged (DEPLOY_CHUNK_ACK nextOffset). */
  offset: number;
  /** Namespaced error code when failed / rolled back. */
  errorCode?: string;
  /** Version the device reports as active after the result (differs from `version` on rollback). */
  activeVersion?: string;
  meta?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type NewDeployment = Omit<DeploymentRecord, 'id' | 'createdAt' | 'updatedAt' | 'offset' | 'state'> & {
  state?: DeploymentState;
};

export interface AuditEntry {
  id?: number;
  at: number;
  /** e.g. `auth.ok`, `auth.bad_mac`, `device.provisioned`, `deploy.ready`. */
  event: string;
  deviceId?: string;
  /** Remote address of the link, when there is one. */
  remote?: string;
  /** One line, never a secret. */
  detail?: string;
}

export interface AuditQuery {
  deviceId?: string;
  event?: string;
  limit?: number;
}

export interface RegistryStore {
  /** Immediate. Throws RegistryError `registry.duplicate` when the id exists. */
  insertDevice(device: DeviceRecord, sealedKey: Uint8Array | undefined): void;
  getDevice(id: string): DeviceRecord | undefined;
  listDevices(): DeviceRecord[];
  /** All devices, or those with `status`. */
  countDevices(status?: DeviceStatus): number;
  /** Immediate. Replaces the key when `sealedKey` is given. */
  setDeviceStatus(id: string, status: DeviceStatus, sealedKey?: Uint8Array): void;
  getSealedKey(id: string): Uint8Array | undefined;
  /** Batched. */
  touchDevice(id: string, seen: { at: number; firmware?: string; caps?: Record<string, unknown>; remote?: string }): void;

  /** Immediate. Returns the record with its id. */
  insertDeployment(d: NewDeployment): DeploymentRecord;
  getDeployment(id: number): DeploymentRecord | undefined;
  listDeployments(filter?: { deviceId?: string; service?: string; states?: DeploymentState[] }): DeploymentRecord[];
  /** Immediate. */
  updateDeployment(id: number, patch: Partial<Pick<DeploymentRecord, 'state' | 'offset' | 'errorCode' | 'activeVersion'>>): void;
  /** Batched: transfer progress. */
  recordDeploymentOffset(id: number, offset: number): void;

  /** Batched unless `durability` is 'immediate' (then committed, in order, before returning). */
  appendAudit(entry: AuditEntry, durability?: AuditDurability): void;
  queryAudit(q?: AuditQuery): AuditEntry[];

  /** Commit every batched write now. */
  flush(): void;
  close(): void;
}
