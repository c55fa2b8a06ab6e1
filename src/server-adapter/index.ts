/** The gateway side: what `import { EparaServer } from 'epara'` gives you, plus its parts. */
export { EparaServer, type EparaServerOptions, type ProvisionOptions, type DeployOptions, type InferResult } from './server.js';
export type { DeviceInfo, DeviceStateChange, ServerEvents } from './events.js';
export { startHttpApi, type HttpApi, type HttpApiOptions } from './http-api.js';
export type { ArtifactSource } from './deploy-artifact.js';
export { ServerMetrics } from './metrics.js';
export { pickDevice, routeScore, type RouteCandidate } from './routing.js';
export { DeviceConnection, type HandshakeConfig, type ConnectionHost, type LinkPhase } from './connection.js';
export { DeploymentCoordinator, type DeploymentsHost, type DeployAnswer } from './deployments.js';
export { placementRound, scheduledPick, clusterState, type SchedulerConfig, type PlacementRound } from './scheduler-wiring.js';
export { resolveServerOptions, type ResolvedServerOptions } from './server-options.js';
export type { DeviceLink } from './device-link.js';
