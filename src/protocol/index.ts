/**
 * epara protocol codec, spec 1.1: protocol versions 1 and 2 (protocol/SPEC.md). Pure code: no I/O, no timers.
 *
 *   encodeFrame(msg, { seq })        -> wire bytes (COBS + trailing 0x00)
 *   new FrameDecoder().push(chunk)   -> Array<Frame | ProtocolError>
 *   encodeMessage / decodeMessage    -> CBOR bodies only
 */
export {
  PROTOCOL_VERSION,
  PROTOCOL_MIN,
  PROTOCOL_MAX,
  FRAME_VERSION,
  DEFAULT_MAX_FRAME,
  MIN_MAX_FRAME,
  MAX_MAX_FRAME,
  HEADER_SIZE,
  CRC_SIZE,
  MIN_FRAME,
  FLAG_RSP,
  FLAG_RTX,
  maxWirePiece,
  DEVICE_CLASSES,
  DEVICE_ID_MAX,
  DEVICE_ID_PATTERN,
  WINDOW_MIN,
  WINDOW_MAX,
} from './constants.js';
export { crc32c } from './crc32c.js';
export { cobsEncode, cobsDecode, cobsMaxEncodedLength } from './cobs.js';
export { encodeFrame, decodeFrame, parseFrame, buildFrame, type Frame, type FrameHeader, type EncodeFrameOptions } from './frame.js';
export { FrameDecoder, PROTOCOL_VERSION_SPEC, type FrameDecoderOptions } from './frame-decoder.js';
export { encodeMessage, decodeMessage } from './messages/codec.js';
export { maxChunkData, deployChunkFrameSize, deployChunkWireSize } from './deploy-chunk-size.js';
export * from './messages/types.js';
export { ROLES, isRequestType, isResponseType, type Peer, type MessageKind, type MessageRole, type SentBy, type RequestsTo, type EventsTo } from './messages/catalogue.js';
export type { Handlers, RequestHandlers, EventHandlers } from './messages/dispatch.js';
export { tensorFrom, tensorValues, DTYPES, type Tensor, type TensorDType } from './tensor.js';
export {
  ERROR_CODES,
  errorInfo,
  protocolError,
  errorForCode,
  WIRE,
  wiresOf,
  type ErrorName,
  type WireOf,
  type ErrorCodeInfo,
  type ErrorOpts,
} from './error-codes.js';
export { errorFromWire, toErrorMessage } from './error-message.js';
export { ProtocolError } from '../errors.js';
export { messageToJson, messageFromJson, toHex, fromHex } from './messages/json-form.js';
export { explainWire, cborDiagnostic } from './explain.js';
export { AUTH_LABEL, SERVER_LABEL, NONCE_BYTES, MAC_BYTES, authMac, serverMac, macsEqual } from './auth-mac.js';
