/**
 * TypeScript shapes of every message in protocol/SPEC.md §5. Property names are the "name" column
 * of the SPEC tables; the CBOR keys live in ./catalogue.ts. Optional fields are omitted when absent.
 */
import type { Tensor } from '../tensor.js';
import type { ARTIFACT_KINDS, CATEGORIES, DEPLOY_STATES, DeviceClass, PLACEMENT_ACTIONS, SERVICE_STATUSES } from '../constants.js';

export const MessageType = {
  HELLO: 0x01,
  CHALLENGE: 0x02,
  AUTH: 0x03,
  WELCOME: 0x04,
  BYE: 0x05,
  PING: 0x06,
  PONG: 0x07,
  HEARTBEAT: 0x08,
  HEARTBEAT_ACK: 0x09,
  STATE: 0x0a,
  ERROR: 0x0b,
  PLACEMENT: 0x10,
  PLACEMENT_ACK: 0x11,
  DEPLOY_OFFER: 0x20,
  DEPLOY_ACCEPT: 0x21,
  DEPLOY_CHUNK: 0x22,
  DEPLOY_CHUNK_ACK: 0x23,
  DEPLOY_COMMIT: 0x24,
  DEPLOY_RESULT: 0x25,
  INFER_REQUEST: 0x30,
  INFER_RESPONSE: 0x31,
  INFER_CANCEL: 0x32,
} as const;

export type MessageName = keyof typeof MessageType;

export type { DeviceClass } from '../constants.js';
// The enums' values are listed once, in constants.ts (the codec encodes each as its index there).
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];
export type ServiceCategory = (typeof CATEGORIES)[number];
export type DeployState = (typeof DEPLOY_STATES)[number];
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];
export type PlacementAction = (typeof PLACEMENT_ACTIONS)[number];

export interface Capabilities {
  cpuCores: number;
  memoryKiB: number;
  gpuCount?: number;
  gpuMemoryKiB?: number;
  accelerators?: string[];
  /** Sustained million operations per second: the scheduler's compute figure. */
  computeMops: number;
  runtimes?: string[];
  formats?: string[];
  transports?: string[];
}

export interface HelloMessage {
  type: 'HELLO';
  deviceId: string;
  deviceClass: DeviceClass;
  /** [min, max] protocol versions the device speaks. */
  proto: [number, number];
  firmware: string;
  caps: Capabilities;
  maxFrame: number;
  rxWindow: number;
  keepaliveMs?: number;
  /** Session id (8 bytes) of a previous session to resume. */
  resume?: Uint8Array;
}

export interface ChallengeMessage {
  type: 'CHALLENGE';
  nonce: Uint8Array;
  version: number;
  maxFrame: number;
  window: number;
  keepaliveMs: number;
}

export interface AuthMessage {
  type: 'AUTH';
  serverNonce: Uint8Array;
  deviceNonce: Uint8Array;
  mac: Uint8Array;
}

export interface WelcomeMessage {
  type: 'WELCOME';
  sessionId: Uint8Array;
  leaseMs: number;
  heartbeatMs: number;
  stateMs: number;
  serverMac: Uint8Array;
  resumed?: boolean;
}

export interface ByeMessage {
  type: 'BYE';
  code?: number;
  reason?: string;
}

export interface PingMessage {
  type: 'PING';
  data?: Uint8Array;
}

export interface PongMessage {
  type: 'PONG';
  data?: Uint8Array;
}

export interface HeartbeatMessage {
  type: 'HEARTBEAT';
  uptimeMs: number;
}

export interface HeartbeatAckMessage {
  type: 'HEARTBEAT_ACK';
  leaseMs: number;
}

export interface ServiceState {
  name: string;
  version: string;
  status: ServiceStatus;
  queueLen: number;
  served: number;
  violations: number;
  batch?: number;
  /** Protocol version 2: memory the service holds now (model, runtime buffers), KiB. */
  memKiB?: number;
  /** Protocol version 2: device time spent running the service since the last STATE, µs (a batch run counts once). */
  busyUs?: number;
}

export interface LinkQuality {
  rssiDbm?: number;
  rxErrors: number;
  txRetries: number;
}

export interface FrameCounters {
  good: number;
  badCrc: number;
  oversize: number;
}

export interface StateMessage {
  type: 'STATE';
  loadPermille: number;
  memFreeKiB: number;
  gpuPermille?: number;
  services: ServiceState[];
  temperatureDeciC?: number;
  powerMw?: number;
  link?: LinkQuality;
  frames?: FrameCounters;
  uptimeMs: number;
}

export interface ErrorMessage {
  type: 'ERROR';
  code: number;
  reason: string;
  hint?: string;
  field?: string;
}

export interface OperatorSettings {
  batch?: number;
  replicas?: number;
  parallelDegree?: number;
  stage?: number;
  maxQueue?: number;
}

export interface PlacementOp {
  action: PlacementAction;
  service: string;
  version?: string;
  settings?: OperatorSettings;
  /** Protocol version 2: the pipeline stage of a split model this op places. */
  pipeline?: PipelineStage;
}

/** One stage of a model split over devices (SPEC §5.10, protocol version 2). */
export interface PipelineStage {
  /** 0-based, less than `count`. */
  index: number;
  count: number;
  /** The activation tensors the stage reads (the model's inputs for stage 0). */
  inputNames: string[];
  /** The tensors it hands to the next stage (the model's outputs for the last). */
  outputNames: string[];
}

export interface PlacementMessage {
  type: 'PLACEMENT';
  planVersion: number;
  ops: PlacementOp[];
}

export interface PlacementResult {
  service: string;
  /** 0 = ok, else a wire error code. */
  code: number;
}

export interface PlacementAckMessage {
  type: 'PLACEMENT_ACK';
  planVersion: number;
  results: PlacementResult[];
}

/** Kind-specific artifact metadata (SPEC §5.11). */
export interface DeployMeta {
  inputNames?: string[];
  outputNames?: string[];
  inputShape?: number[];
  outputShape?: number[];
}

export interface DeployOfferMessage {
  type: 'DEPLOY_OFFER';
  deploymentId: number;
  service: string;
  version: string;
  kind: ArtifactKind;
  size: number;
  sha256: Uint8Array;
  chunkSize: number;
  category: ServiceCategory;
  meta?: DeployMeta;
}

export interface DeployAcceptMessage {
  type: 'DEPLOY_ACCEPT';
  deploymentId: number;
  nextOffset: number;
  window: number;
}

export interface DeployChunkMessage {
  type: 'DEPLOY_CHUNK';
  deploymentId: number;
  offset: number;
  data: Uint8Array;
}

export interface DeployChunkAckMessage {
  type: 'DEPLOY_CHUNK_ACK';
  deploymentId: number;
  nextOffset: number;
}

export interface DeployCommitMessage {
  type: 'DEPLOY_COMMIT';
  deploymentId: number;
}

export interface DeployResultMessage {
  type: 'DEPLOY_RESULT';
  deploymentId: number;
  state: DeployState;
  code?: number;
  activeVersion?: string;
}

export interface InferRequestMessage {
  type: 'INFER_REQUEST';
  requestId: number;
  service: string;
  inputs: Tensor[];
  deadlineUs?: number;
  flowId?: number;
}

export interface InferResponseMessage {
  type: 'INFER_RESPONSE';
  requestId: number;
  outputs: Tensor[];
  queueUs?: number;
  computeUs?: number;
}

export interface InferCancelMessage {
  type: 'INFER_CANCEL';
  requestId: number;
}

export type Message =
  | HelloMessage
  | ChallengeMessage
  | AuthMessage
  | WelcomeMessage
  | ByeMessage
  | PingMessage
  | PongMessage
  | HeartbeatMessage
  | HeartbeatAckMessage
  | StateMessage
  | ErrorMessage
  | PlacementMessage
  | PlacementAckMessage
  | DeployOfferMessage
  | DeployAcceptMessage
  | DeployChunkMessage
  | DeployChunkAckMessage
  | DeployCommitMessage
  | DeployResultMessage
  | InferRequestMessage
  | InferResponseMessage
  | InferCancelMessage;

export type MessageOf<N extends MessageName> = Extract<Message, { type: N }>;

const NAME_BY_NUMBER: ReadonlyMap<number, MessageName> = new Map(
  (Object.entries(MessageType) as [MessageName, number][]).map(([n, t]) => [t, n]),
);

/** The message name for a type number, or undefined when the number is not defined in v1. */
export function messageTypeName(type: number): MessageName | undefined {
  return NAME_BY_NUMBER.get(type);
}
