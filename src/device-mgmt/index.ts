/** Device management: identity and keys, authentication, sessions, registry, deployment, state view. */
export {
  validateDeviceId,
  validateDeviceClass,
  generateDeviceKey,
  keyToHex,
  keyFromHex,
  loadOrCreateMasterKey,
  sealKey,
  openKey,
  KEY_BYTES,
} from './identity.js';
export {
  authMac,
  serverMac,
  negotiateVersion,
  negotiateLimits,
  admitHello,
  verifyAuth,
  decideSession,
  NonceCache,
  type Rejection,
  type RejectCode,
  type VersionRange,
} from './auth.js';
export { Session, SESSION_TRANSITIONS, nextSessionState, livenessVerdict, isServing, type SessionState, type SessionEvent, type LivenessPolicy } from './session.js';
export { StateViews, applyState, applyRtt, emptyView, type DeviceStateView, type ServiceView, type StateReport } from './state-view.js';
export type * from './registry/store.js';
export { DEVICE_CLASSES } from './registry/store.js';
export { SqliteStore, type SqliteStoreOptions } from './registry/sqlite-store.js';
export { MIGRATIONS, SCHEMA_VERSION } from './registry/migrations.js';
export { DEPLOYMENT_TRANSITIONS, nextDeploymentState, SETTLED_DEPLOYMENT_STATES, UNSETTLED_DEPLOYMENT_STATES, type DeploymentEvent } from './deployment/state-machine.js';
export { sendChunks, type ChunkSenderOptions, type ChunkSenderResult, type ChunkSendControl } from './deployment/sender.js';
export { ChunkSizer } from './deployment/chunk-sizer.js';
export { Deployer, type DeploymentProgress, type DeployerOptions } from './deployment/deployer.js';
export { ArtifactStore as ServerArtifactStore, sha256Hex } from './deployment/artifact-store.js';
