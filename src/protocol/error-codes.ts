/**
 * The wire error table (SPEC §6). Every code has a namespaced name, the numeric code that travels in
 * ERROR / BYE / PLACEMENT_ACK / DEPLOY_RESULT, a one-line reason and an actionable hint: opaque
 * numbers ("Error: 3") are the most common complaint about existing device-management protocols.
 *
 * SPEC.md's table is generated from ERROR_CODES (`npx tsx scripts/gen-error-table.ts`); a test fails
 * when the two drift apart. Adding a code: append a row here, regenerate, never renumber.
 */
import {
  AuthError,
  DeployError,
  EparaError,
  InferError,
  LinkError,
  ProtocolError,
  SchedulerError,
  type EparaErrorInit,
} from '../errors.js';

export interface ErrorCodeInfo {
  readonly wire: number;
  readonly name: string;
  readonly reason: string;
  readonly hint: string;
}

export const ERROR_CODES = Object.freeze([
  // 1xx frame and message
  { wire: 100, name: 'frame.crc', reason: 'frame CRC-32C does not match its contents', hint: 'bytes were corrupted on the link: check baud rate, wiring and ground, or lower the baud rate; the sender retransmits on timeout' },
  { wire: 101, name: 'frame.cobs', reason: 'COBS code byte points past the end of the frame', hint: 'the frame was truncated or merged with noise; check that both sides use COBS framing with a 0x00 delimiter and the same baud rate' },
  { wire: 102, name: 'frame.oversize', reason: 'frame is larger than the negotiated maximum frame size', hint: 'lower the sender\'s chunk size or raise maxFrame on the receiver (64..65535); both sides use the smaller of the two HELLO/CHALLENGE values' },
  { wire: 103, name: 'frame.truncated', reason: 'frame is shorter than the 9-byte header plus 4-byte CRC', hint: 'a partial frame arrived (link dropped or noise between delimiters); no action needed unless it repeats, then check the link' },
  { wire: 104, name: 'frame.header', reason: 'frame header is invalid (reserved flag bits set or len does not match the body)', hint: 'the peer builds frames incorrectly: compare its output with protocol/vectors/valid.json' },
  { wire: 105, name: 'frame.version', reason: 'frame-format version byte is not one this receiver understands', hint: 'upgrade the older side; epara v1 peers send version byte 0x01' },
  { wire: 110, name: 'msg.unknown_type', reason: 'message type number is not defined in this protocol version', hint: 'the peer is newer or misconfigured: upgrade this side or check the peer\'s protocol version' },
  { wire: 111, name: 'msg.cbor', reason: 'message body is not well-formed CBOR', hint: 'the body is truncated or corrupt; compare the sender\'s encoder output with protocol/vectors/valid.json' },
  { wire: 112, name: 'msg.non_deterministic', reason: 'message body is CBOR outside the deterministic subset (SPEC §4)', hint: 'encode with shortest-form integers, definite lengths, sorted integer keys 0..23 and no floats or tags except RFC 8746 tensor tags' },
  { wire: 113, name: 'msg.schema', reason: 'message field is missing, of the wrong type or out of range', hint: 'see the field named in the error and its row in protocol/SPEC.md §5 / protocol/epara.cddl' },
  { wire: 114, name: 'msg.unexpected', reason: 'message is not allowed in the current session state', hint: 'complete the handshake (HELLO, AUTH) first, or check which side may send this message (SPEC §5 dir column)' },
  { wire: 120, name: 'proto.version_too_old', reason: 'peer protocol version is older than the oldest this side supports', hint: 'upgrade the device firmware / SDK to a version that speaks the server\'s protocol range' },
  { wire: 121, name: 'proto.version_too_new', reason: 'peer protocol version is newer than the newest this side supports', hint: 'upgrade the server, or configure the device to also offer protocol version 1' },
  { wire: 122, name: 'proto.frame_size', reason: 'proposed maximum frame size is outside 64..65535 bytes', hint: 'set maxFrame between 64 and 65535 on the device' },
  // 2xx session and authentication
  { wire: 200, name: 'auth.bad_mac', reason: 'AUTH MAC does not verify with the key provisioned for this device', hint: 'copy the key printed by `epara register` to the device again, or re-provision it (`epara devices rm <id>`, then `epara register <new-id> --class <class>`); keys are shown once' },
  { wire: 201, name: 'auth.unknown_device', reason: 'device id is not in the server\'s registry', hint: 'provision it first with `epara register <id> --class <class>`, or enable open enrolment (`epara serve --open-enrolment`)' },
  { wire: 202, name: 'auth.replay', reason: 'AUTH answers a nonce that is unknown, already used or expired', hint: 'restart the handshake with a new HELLO; never resend an old AUTH' },
  { wire: 203, name: 'auth.duplicate_session', reason: 'another live session already uses this device id', hint: 'two devices share one id, or the old link is still open: give each device its own id, or wait for the old lease to expire' },
  { wire: 204, name: 'auth.pending_approval', reason: 'device is enrolled but waiting for operator approval', hint: 'approve it on the server with `epara devices approve <id>`; the device retries with backoff' },
  { wire: 205, name: 'auth.not_authenticated', reason: 'message requires an authenticated session', hint: 'send HELLO and AUTH first; after a reconnect the session must be re-established' },
  { wire: 206, name: 'auth.timeout', reason: 'handshake did not complete in time', hint: 'check the link latency and the authTimeoutMs option; the device should retry with backoff' },
  { wire: 207, name: 'auth.revoked', reason: 'device key has been revoked', hint: 'the operator removed this device; re-provision it to reconnect' },
  { wire: 208, name: 'auth.server_mac', reason: 'WELCOME serverMac does not verify: the server does not hold this device\'s key', hint: 'the device is talking to the wrong or an impostor server: check the address, or re-provision both sides' },
  // 3xx link
  { wire: 300, name: 'link.timeout', reason: 'no response before the request timeout, after all retries', hint: 'check that the peer is powered and connected; on slow links (HC-05, BLE) raise requestTimeoutMs or lower maxFrame' },
  { wire: 301, name: 'link.closed', reason: 'the link closed while a request was outstanding', hint: 'the peer went away; the session resumes automatically if it reconnects within the lease' },
  { wire: 302, name: 'link.backpressure', reason: 'the transmit buffer is full and the link is not draining', hint: 'the link is slower than the offered load: lower the request rate or the window' },
  { wire: 303, name: 'link.window', reason: 'more requests outstanding than the negotiated window allows', hint: 'wait for responses before sending more, or negotiate a larger window' },
  { wire: 304, name: 'link.open_failed', reason: 'the port, socket or Bluetooth device could not be opened', hint: 'check the path / address and that no other program holds the port (`epara ports` lists them)' },
  { wire: 305, name: 'link.permission', reason: 'permission denied opening the port', hint: 'add your user to the dialout group (`sudo usermod -aG dialout $USER`) and log in again' },
  { wire: 306, name: 'link.busy', reason: 'the port is in use by another process', hint: 'close the other program (serial monitor, another epara) or pick another port' },
  { wire: 307, name: 'link.unavailable', reason: 'the transport is not available on this machine', hint: 'install or enable the adapter (Bluetooth powered on, serialport bindings built), or use another transport' },
  { wire: 308, name: 'link.tls', reason: 'TLS handshake or certificate verification failed', hint: 'check the CA, certificate and servername; the device clock must be within the certificate validity' },
  // 4xx deployment
  { wire: 400, name: 'deploy.hash_mismatch', reason: 'received artifact does not match the SHA-256 in DEPLOY_OFFER', hint: 'the artifact changed during transfer or storage is corrupt: deploy again (the device restarts at offset 0)' },
  { wire: 401, name: 'deploy.offset', reason: 'chunk offset is not the next expected offset', hint: 'resume from the nextOffset in the device\'s last DEPLOY_CHUNK_ACK' },
  { wire: 402, name: 'deploy.no_space', reason: 'not enough storage on the device for the artifact', hint: 'undeploy unused services or free storage on the device, then deploy again' },
  { wire: 403, name: 'deploy.unsupported_kind', reason: 'device does not support this artifact kind', hint: 'deploy a kind listed in the device\'s HELLO caps.formats (e.g. int8-fc-weights for the FPGA)' },
  { wire: 404, name: 'deploy.load_failed', reason: 'runtime could not load the artifact', hint: 'check the model against the runtime version on the device (e.g. ONNX opset); the previous version stays active' },
  { wire: 405, name: 'deploy.warmup_failed', reason: 'artifact loaded but its warm-up inference failed', hint: 'check the model\'s input shapes and the meta sent with DEPLOY_OFFER; the previous version stays active' },
  { wire: 406, name: 'deploy.unknown', reason: 'deploymentId is not known to the device', hint: 'send DEPLOY_OFFER before chunks or commit; after a device reset the offer must be repeated' },
  { wire: 407, name: 'deploy.busy', reason: 'device is already transferring or loading another deployment', hint: 'wait for the current deployment to finish, or cancel it' },
  { wire: 408, name: 'deploy.too_large', reason: 'artifact size exceeds what the device accepts', hint: 'use a smaller (e.g. quantised) model or a device class with more memory' },
  { wire: 409, name: 'deploy.incompatible_class', reason: 'artifact is not built for this device class', hint: 'target a matching device class (`--to class:<class>`) or rebuild the artifact' },
  { wire: 410, name: 'deploy.wrong_device', reason: 'deploymentId belongs to a deployment of another device', hint: 'a device may only answer for its own deployments: check the device id and firmware; `epara deployments --device <id>` lists them' },
  // 5xx inference
  { wire: 500, name: 'infer.unknown_service', reason: 'no loaded service with this name', hint: 'deploy the service to the device first (`epara deploy`), or check the service name' },
  { wire: 501, name: 'infer.deadline', reason: 'request could not finish within its deadline', hint: 'raise the deadline, lower the batch size, or add replicas of the service' },
  { wire: 502, name: 'infer.bad_input', reason: 'input tensors do not match the model\'s names, dtypes or shapes', hint: 'compare the request inputs with the model\'s input signature' },
  { wire: 503, name: 'infer.cancelled', reason: 'request was cancelled by INFER_CANCEL', hint: 'no action needed: the caller cancelled it' },
  { wire: 504, name: 'infer.overloaded', reason: 'service queue is full', hint: 'retry later, add replicas, or route to another device' },
  { wire: 505, name: 'infer.runtime', reason: 'runtime failed while executing the model', hint: 'check the device log for the runtime error; redeploy the model if it persists' },
  { wire: 506, name: 'infer.no_device', reason: 'no registered device serves this service', hint: 'deploy the service to at least one device, or wait for a device to reconnect' },
  // 6xx placement
  { wire: 600, name: 'placement.no_memory', reason: 'not enough memory on the device for the requested placement', hint: 'lower replicas or batch size, or unload other services on that device' },
  { wire: 601, name: 'placement.unknown_service', reason: 'placement names a service that is not deployed on the device', hint: 'deploy the artifact before placing the service' },
  { wire: 602, name: 'placement.stale_plan', reason: 'plan version is older than the one the device already applied', hint: 'no action needed: the server sends its latest plan at the next placement period' },
  { wire: 603, name: 'placement.stage_mismatch', reason: 'the pipeline stage names tensors the loaded model does not read or produce', hint: 'the stage artifact on the device is not the one this plan cut: the server deploys the stage again at the next placement round (epara placement shows the groups)' },
  // 9xx other
  { wire: 900, name: 'internal', reason: 'internal error in the peer', hint: 'this is a bug: report it with the device log and `epara --version`' },
  { wire: 901, name: 'not_supported', reason: 'the peer does not support this operation', hint: 'check the peer\'s capabilities in its HELLO, or upgrade it' },
  { wire: 902, name: 'busy', reason: 'the peer is busy and cannot take this request now', hint: 'retry after a short backoff' },
] as const satisfies readonly ErrorCodeInfo[]);

type ErrorRow = (typeof ERROR_CODES)[number];
/** A name of the table (`auth.bad_mac`): a misspelt code does not compile. */
export type ErrorName = ErrorRow['name'];
/** The wire number of a name, as a literal type (`WireOf<'link.closed'>` is 301). */
export type WireOf<N extends ErrorName> = Extract<ErrorRow, { name: N }>['wire'];
/** The names in one area (`AreaName<'link.'>`: every `link.*`). */
export type AreaName<P extends string> = Extract<ErrorName, `${P}${string}`>;
export type WireTable<N extends ErrorName> = { readonly [K in N]: WireOf<K> };

/** Every name's wire number: the one place code reads a wire number from. */
export const WIRE = Object.freeze(Object.fromEntries(ERROR_CODES.map((e) => [e.name, e.wire]))) as unknown as WireTable<ErrorName>;

/** The wire numbers of one area's names (`wiresOf('link.')`), for tables of an area's own errors. */
export function wiresOf<P extends string>(prefix: P): WireTable<AreaName<P>> {
  return Object.freeze(Object.fromEntries(ERROR_CODES.filter((e) => e.name.startsWith(prefix)).map((e) => [e.name, e.wire]))) as unknown as WireTable<AreaName<P>>;
}

const BY_NAME = new Map<string, ErrorRow>(ERROR_CODES.map((e) => [e.name, e]));
const BY_WIRE = new Map<number, ErrorRow>(ERROR_CODES.map((e) => [e.wire, e]));

/** Look up a code by name (`auth.bad_mac`) or wire number (200). */
export function errorInfo(nameOrWire: string | number): ErrorRow | undefined {
  return typeof nameOrWire === 'number' ? BY_WIRE.get(nameOrWire) : BY_NAME.get(nameOrWire);
}

export interface ErrorOpts {
  /** Overrides the table's generic reason with a specific one (keep it one line). */
  reason?: string;
  hint?: string;
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

function init(name: ErrorName, opts: ErrorOpts | undefined): EparaErrorInit {
  const info = BY_NAME.get(name);
  return {
    code: name,
    wire: info?.wire,
    reason: opts?.reason ?? info?.reason ?? name,
    hint: opts?.hint ?? info?.hint ?? 'see protocol/SPEC.md §6',
    field: opts?.field,
    details: opts?.details,
    cause: opts?.cause,
  };
}

/** A ProtocolError for a frame.* / msg.* / proto.* code. */
export function protocolError(name: ErrorName, opts?: ErrorOpts): ProtocolError {
  return new ProtocolError(init(name, opts));
}

/** The EparaError subclass for a code's area (auth.* -> AuthError, ...). */
export function errorForCode(name: ErrorName, opts?: ErrorOpts): EparaError {
  const i = init(name, opts);
  switch (name.split('.', 1)[0]) {
    case 'frame':
    case 'msg':
    case 'proto':
      return new ProtocolError(i);
    case 'auth':
      return new AuthError(i);
    case 'link':
      return new LinkError(i);
    case 'deploy':
      return new DeployError(i);
    case 'infer':
      return new InferError(i);
    case 'placement':
    case 'sched':
      return new SchedulerError(i);
    default:
      return new EparaError(i);
  }
}
