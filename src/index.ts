/**
 * epara: device management, adaptive deployment and EPARA-style scheduling for AI inference
 * devices in an edge cloud. The main entry is the gateway side (EparaServer) plus the device SDK
 * (EparaDevice), the typed errors and the protocol's types.
 *
 *   import { EparaServer } from 'epara';          // gateway app
 *   import { EparaDevice } from 'epara/client';   // or from 'epara' — a board
 */
export { EparaServer, type EparaServerOptions, type ProvisionOptions, type DeployOptions, type InferResult } from './server-adapter/server.js';
export type { DeviceInfo, DeviceStateChange, ServerEvents } from './server-adapter/events.js';
export type { HttpApiOptions } from './server-adapter/http-api.js';
export type { DeviceStateView, ServiceView } from './device-mgmt/state-view.js';
export type { DeploymentProgress } from './device-mgmt/deployment/deployer.js';
export type { DeploymentRecord, DeploymentState, DeviceRecord, DeviceStatus, AuditEntry, RegistryStore } from './device-mgmt/registry/store.js';
export type { SessionState } from './device-mgmt/session.js';
export { EparaDevice, type EparaDeviceOptions, type DeviceEvents } from './client/index.js';
export * from './errors.js';
export * from './protocol/index.js';
