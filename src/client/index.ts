/** The device-side SDK: what an embedded host (Raspberry Pi, Jetson, any Node 20 board) imports. */
export { EparaDevice, CLIENT_FIRMWARE, type EparaDeviceOptions, type DeviceHooks, type ArtifactLoader, type ServiceInfo, type DeployedEvent, type DeviceEvents } from './device.js';
export { DeviceSession, DEVICE_SESSION_TRANSITIONS, nextDeviceSessionState, type DeviceSessionState, type DeviceSessionEvent } from './session.js';
/** The reconnect delay the device uses: the transport's one backoffDelay (attempt counted from 1). */
export { backoffDelay } from '../transport/reconnect.js';
export { detectCapabilities, hostLoad, type CapabilityConfig } from './capabilities.js';
export { ArtifactStore, sha256File, type ArtifactOffer, type ArtifactRecord, type ArtifactKind, type ArtifactStoreOptions } from './artifact-store.js';
export { OnnxModel, type IoMeta, type OnnxModelOptions } from './onnx-runtime.js';
export { ServiceQueue, QUEUE_SPECS, type InferRequestIn, type InferResult, type QueueSettings, type QueueCounters } from './inference.js';
export { handlerRunner, type InferHandler, type InferContext, type ServiceRunner, type HandlerRunnerOptions } from './runner.js';
export { CLIENT_WIRE_CODES } from './client-errors.js';
