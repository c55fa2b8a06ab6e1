import type { DeploymentProgress } from '../device-mgmt/deployment/deployer.js';
import type { AuditEntry, DeviceRecord } from '../device-mgmt/registry/store.js';
import type { SessionState } from '../device-mgmt/session.js';
import type { DeviceStateView } from '../device-mgmt/state-view.js';
import type { PlacementRound } from './scheduler-wiring.js';

/** A device as the API shows it: registry record + live session + last STATE view. */
export interface DeviceInfo extends DeviceRecord {
  /** Session state, or 'offline' when the device has no session. */
  state: SessionState | 'offline';
  sessionStartedAt?: number;
  lastHeardAt?: number;
  remote?: string;
  /** The protocol version negotiated for the live session (SPEC §8). */
  protocolVersion?: number;
  view?: DeviceStateView;
  /** The view is older than three STATE periods (SPEC §7.2). */
  viewStale?: boolean;
}

export interface DeviceStateChange {
  deviceId: string;
  state: SessionState;
  previous: SessionState | undefined;
}

/** The events EparaServer emits; `server.on(name, listener)` is typed against this map. */
export interface ServerEvents {
  'device-registered': (info: DeviceInfo & { resumed: boolean }) => void;
  'device-state': (change: DeviceStateChange) => void;
  /** A STATE report changed the device's view. */
  'device-view': (view: DeviceStateView) => void;
  'device-lost': (change: DeviceStateChange) => void;
  'deployment-progress': (p: DeploymentProgress) => void;
  audit: (entry: AuditEntry) => void;
  /** The scheduler ran a placement round (every round, changed or not; GET /events says plan.changed when it changed). */
  placement: (round: PlacementRound) => void;
  /** Background failures that have no caller to reject (registry batch commit, listener errors). */
  error: (err: Error) => void;
}
