/**
 * The message catalogue of SPEC §5 as data: for every type its number, name and the CBOR key,
 * property name, type and presence of every field. The codec, the vectors generator and the
 * CDDL-agreement test all read this one table.
 */
import { MessageType, type MessageName } from './types.js';
import { TENSOR_NAME_MAX, U32_MAX, type FieldSpec, type TypeSpec } from './schema.js';
import { ARTIFACT_KINDS, CATEGORIES, DEPLOY_STATES, DEVICE_CLASSES, DEVICE_ID_MAX, DEVICE_ID_PATTERN, PLACEMENT_ACTIONS, SERVICE_STATUSES, WINDOW_MAX, WINDOW_MIN } from '../constants.js';

const uint = (min?: number, max?: number): TypeSpec => ({ t: 'uint', min, max });
const u32: TypeSpec = { t: 'uint', max: U32_MAX };
const int: TypeSpec = { t: 'int' };
const tstr = (maxBytes?: number, minBytes?: number, pattern?: RegExp): TypeSpec => ({ t: 'tstr', maxBytes, minBytes, pattern });
const bstr = (size?: number, maxBytes?: number): TypeSpec => ({ t: 'bstr', size, maxBytes });
const bool: TypeSpec = { t: 'bool' };
const arr = (of: TypeSpec, min?: number, max?: number): TypeSpec => ({ t: 'array', of, min, max });
const map = (...fields: FieldSpec[]): TypeSpec => ({ t: 'map', fields });
const en = (...values: string[]): TypeSpec => ({ t: 'enum', values });
const R = (key: number, name: string, type: TypeSpec): FieldSpec => ({ key, name, type, required: true });
/** An optional field that protocol version 2 (spec 1.1) adds: an unknown key in a version-1 session. */
const O2 = (key: number, name: string, type: TypeSpec): FieldSpec => ({ key, name, type, required: false, since: 2 });
const O = (key: number, name: string, type: TypeSpec): FieldSpec => ({ key, name, type, required: false });

export { DEVICE_CLASSES, DEVICE_ID_PATTERN, ARTIFACT_KINDS, CATEGORIES, DEPLOY_STATES, SERVICE_STATUSES, PLACEMENT_ACTIONS } from '../constants.js';

/** Error codes travel as uint; the table in error-codes.ts uses 100..999, 0 means ok. */
const errCode = uint(0, 65535);
const frameSize = uint(64, 65535);
const window = uint(WINDOW_MIN, WINDOW_MAX);
const keepalive = uint(100, 3_600_000);
const permille = uint(0, 1000);
/** Text limits of SPEC §4 (UTF-8 bytes), one definition for every field of each kind. */
export const SERVICE_NAME_MAX = 64;
export const VERSION_MAX = 32;
export const CAPS_ENTRY_MAX = 32;
export const CAPS_LIST_MAX = 16;
const service = tstr(SERVICE_NAME_MAX, 1);
const version = tstr(VERSION_MAX);
const tensorName = tstr(TENSOR_NAME_MAX);
const capsList = arr(tstr(CAPS_ENTRY_MAX, 1), 0, CAPS_LIST_MAX);

const caps = map(
  R(0, 'cpuCores', uint()),
  R(1, 'memoryKiB', uint()),
  O(2, 'gpuCount', uint()),
  O(3, 'gpuMemoryKiB', uint()),
  O(4, 'accelerators', capsList),
  R(5, 'computeMops', uint()),
  O(6, 'runtimes', capsList),
  O(7, 'formats', capsList),
  O(8, 'transports', capsList),
);

const serviceState = map(
  R(0, 'name', service),
  R(1, 'version', version),
  R(2, 'status', en(...SERVICE_STATUSES)),
  R(3, 'queueLen', uint()),
  R(4, 'served', uint()),
  R(5, 'violations', uint()),
  O(6, 'batch', uint()),
  O2(7, 'memKiB', uint()),
  O2(8, 'busyUs', uint()),
);

/** Protocol version 2: the stage of a model split over devices that this op places (SPEC §5.10). */
const pipeline: TypeSpec = {
  ...map(R(0, 'index', uint(0, 254)), R(1, 'count', uint(1, 255)), R(2, 'inputNames', arr(tensorName)), R(3, 'outputNames', arr(tensorName))),
  lessThan: ['index', 'count'],
} as TypeSpec;

const settings = map(
  O(0, 'batch', uint()),
  O(1, 'replicas', uint()),
  O(2, 'parallelDegree', uint()),
  O(3, 'stage', uint()),
  O(4, 'maxQueue', uint()),
);

const tensor: TypeSpec = { t: 'tensor' };

export const CATALOGUE: Record<MessageName, readonly FieldSpec[]> = {
  HELLO: [
    R(0, 'deviceId', tstr(DEVICE_ID_MAX, 1, DEVICE_ID_PATTERN)),
    R(1, 'deviceClass', en(...DEVICE_CLASSES)),
    R(2, 'proto', { t: 'range', of: { t: 'uint', min: 1, max: 255 } }),
    R(3, 'firmware', tstr(32)),
    R(4, 'caps', caps),
    R(5, 'maxFrame', frameSize),
    R(6, 'rxWindow', window),
    O(7, 'keepaliveMs', keepalive),
    O(8, 'resume', bstr(8)),
  ],
  CHALLENGE: [
    R(0, 'nonce', bstr(16)),
    R(1, 'version', uint(1, 255)),
    R(2, 'maxFrame', frameSize),
    R(3, 'window', window),
    R(4, 'keepaliveMs', keepalive),
  ],
  AUTH: [R(0, 'serverNonce', bstr(16)), R(1, 'deviceNonce', bstr(16)), R(2, 'mac', bstr(32))],
  WELCOME: [
    R(0, 'sessionId', bstr(8)),
    R(1, 'leaseMs', u32),
    R(2, 'heartbeatMs', u32),
    R(3, 'stateMs', u32),
    R(4, 'serverMac', bstr(32)),
    O(5, 'resumed', bool),
  ],
  BYE: [O(0, 'code', errCode), O(1, 'reason', tstr(200))],
  PING: [O(0, 'data', bstr(undefined, 64))],
  PONG: [O(0, 'data', bstr(undefined, 64))],
  HEARTBEAT: [R(0, 'uptimeMs', uint())],
  HEARTBEAT_ACK: [R(0, 'leaseMs', u32)],
  STATE: [
    R(0, 'loadPermille', permille),
    R(1, 'memFreeKiB', uint()),
    O(2, 'gpuPermille', permille),
    R(3, 'services', arr(serviceState)),
    O(4, 'temperatureDeciC', int),
    O(5, 'powerMw', uint()),
    O(6, 'link', map(O(0, 'rssiDbm', int), R(1, 'rxErrors', uint()), R(2, 'txRetries', uint()))),
    O(7, 'frames', map(R(0, 'good', uint()), R(1, 'badCrc', uint()), R(2, 'oversize', uint()))),
    R(8, 'uptimeMs', uint()),
  ],
  ERROR: [R(0, 'code', errCode), R(1, 'reason', tstr(200)), O(2, 'hint', tstr(200)), O(3, 'field', tstr(64))],
  PLACEMENT: [
    R(0, 'planVersion', u32),
    R(1, 'ops', arr(map(R(0, 'action', en(...PLACEMENT_ACTIONS)), R(1, 'service', service), O(2, 'version', version), O(3, 'settings', settings), O2(4, 'pipeline', pipeline)))),
  ],
  PLACEMENT_ACK: [R(0, 'planVersion', u32), R(1, 'results', arr(map(R(0, 'service', service), R(1, 'code', errCode))))],
  DEPLOY_OFFER: [
    R(0, 'deploymentId', u32),
    R(1, 'service', service),
    R(2, 'version', version),
    R(3, 'kind', en(...ARTIFACT_KINDS)),
    R(4, 'size', uint()),
    R(5, 'sha256', bstr(32)),
    R(6, 'chunkSize', uint(1, 65535)),
    R(7, 'category', en(...CATEGORIES)),
    O(8, 'meta', map(O(0, 'inputNames', arr(tensorName)), O(1, 'outputNames', arr(tensorName)), O(2, 'inputShape', arr(uint())), O(3, 'outputShape', arr(uint())))),
  ],
  DEPLOY_ACCEPT: [R(0, 'deploymentId', u32), R(1, 'nextOffset', uint()), R(2, 'window', window)],
  DEPLOY_CHUNK: [R(0, 'deploymentId', u32), R(1, 'offset', uint()), R(2, 'data', bstr())],
  DEPLOY_CHUNK_ACK: [R(0, 'deploymentId', u32), R(1, 'nextOffset', uint())],
  DEPLOY_COMMIT: [R(0, 'deploymentId', u32)],
  DEPLOY_RESULT: [R(0, 'deploymentId', u32), R(1, 'state', en(...DEPLOY_STATES)), O(2, 'code', errCode), O(3, 'activeVersion', version)],
  INFER_REQUEST: [
    R(0, 'requestId', u32),
    R(1, 'service', service),
    R(2, 'inputs', arr(tensor, 1)),
    O(3, 'deadlineUs', u32),
    O(4, 'flowId', u32),
  ],
  INFER_RESPONSE: [R(0, 'requestId', u32), R(1, 'outputs', arr(tensor)), O(2, 'queueUs', u32), O(3, 'computeUs', u32)],
  INFER_CANCEL: [R(0, 'requestId', u32)],
};

/**
 * The direction, kind and answer columns of SPEC §5's message table: who sends each message,
 * whether it is a request (expects an answer, ERROR included), a response or an event (a
 * notification: nothing comes back), and the response a request expects. The request and
 * response sets, and the handler tables each side must fill (`Handlers`, ./dispatch.ts), are
 * derived from these columns; test/protocol/catalogue-roles-match-the-spec-table.test.ts holds
 * them against SPEC.md.
 */
export type Peer = 'device' | 'server';
export type MessageKind = 'request' | 'response' | 'event' | 'response-or-event';
export interface MessageRole {
  readonly from: Peer | 'both';
  readonly kind: MessageKind;
  /** For a request: the response it expects (ERROR can answer any request). */
  readonly answer?: MessageName;
}

export const ROLES = {
  HELLO: { from: 'device', kind: 'request', answer: 'CHALLENGE' },
  CHALLENGE: { from: 'server', kind: 'response' },
  AUTH: { from: 'device', kind: 'request', answer: 'WELCOME' },
  WELCOME: { from: 'server', kind: 'response' },
  BYE: { from: 'both', kind: 'event' },
  PING: { from: 'both', kind: 'request', answer: 'PONG' },
  PONG: { from: 'both', kind: 'response' },
  HEARTBEAT: { from: 'device', kind: 'request', answer: 'HEARTBEAT_ACK' },
  HEARTBEAT_ACK: { from: 'server', kind: 'response' },
  STATE: { from: 'device', kind: 'event' },
  ERROR: { from: 'both', kind: 'response-or-event' },
  PLACEMENT: { from: 'server', kind: 'request', answer: 'PLACEMENT_ACK' },
  PLACEMENT_ACK: { from: 'device', kind: 'response' },
  DEPLOY_OFFER: { from: 'server', kind: 'request', answer: 'DEPLOY_ACCEPT' },
  DEPLOY_ACCEPT: { from: 'device', kind: 'response' },
  DEPLOY_CHUNK: { from: 'server', kind: 'request', answer: 'DEPLOY_CHUNK_ACK' },
  DEPLOY_CHUNK_ACK: { from: 'device', kind: 'response' },
  DEPLOY_COMMIT: { from: 'server', kind: 'request', answer: 'DEPLOY_RESULT' },
  DEPLOY_RESULT: { from: 'device', kind: 'response-or-event' },
  INFER_REQUEST: { from: 'server', kind: 'request', answer: 'INFER_RESPONSE' },
  INFER_RESPONSE: { from: 'device', kind: 'response' },
  INFER_CANCEL: { from: 'server', kind: 'event' },
} as const satisfies Record<MessageName, MessageRole>;

type Roles = typeof ROLES;
type Other<P extends Peer> = P extends 'device' ? 'server' : 'device';
/** Messages `P` may send. */
export type SentBy<P extends Peer> = { [N in MessageName]: Roles[N]['from'] extends P | 'both' ? N : never }[MessageName];
/** Requests that reach `P` from its peer: each needs a handler on `P` that answers it. */
export type RequestsTo<P extends Peer> = { [N in SentBy<Other<P>>]: Roles[N]['kind'] extends 'request' ? N : never }[SentBy<Other<P>>];
/** Events (notifications) that reach `P` from its peer: each needs a handler on `P`. */
export type EventsTo<P extends Peer> = { [N in SentBy<Other<P>>]: Roles[N]['kind'] extends 'event' | 'response-or-event' ? N : never }[SentBy<Other<P>>];

function typesOfKind(kind: MessageKind): ReadonlySet<number> {
  return new Set((Object.keys(ROLES) as MessageName[]).filter((n) => ROLES[n].kind === kind).map((n) => MessageType[n]));
}
const RESPONSE_TYPES = typesOfKind('response');
const REQUEST_TYPES = typesOfKind('request');

/**
 * True for types that are only ever sent as responses (RSP set). ERROR and DEPLOY_RESULT can be
 * either a response or a notification, so they are not in this set: look at the RSP flag.
 */
export function isResponseType(type: number): boolean {
  return RESPONSE_TYPES.has(type);
}

/** Types that expect a response (SPEC §5 kind `req`). */
export function isRequestType(type: number): boolean {
  return REQUEST_TYPES.has(type);
}

export interface MessageSchema {
  type: number;
  name: MessageName;
  body: TypeSpec & { t: 'map' };
}

function checkOrder(name: string, fields: readonly FieldSpec[]): void {
  for (let i = 1; i < fields.length; i++) {
    if (fields[i]!.key <= fields[i - 1]!.key) throw new Error(`catalogue bug: ${name} keys not increasing`);
  }
  for (const f of fields) if (f.type.t === 'map') checkOrder(`${name}.${f.name}`, f.type.fields);
}

export const SCHEMAS: ReadonlyMap<number, MessageSchema> = new Map(
  (Object.keys(CATALOGUE) as MessageName[]).map((name) => {
    checkOrder(name, CATALOGUE[name]);
    return [MessageType[name], { type: MessageType[name], name, body: { t: 'map', fields: CATALOGUE[name] } }];
  }),
);
