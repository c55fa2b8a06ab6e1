/**
 * The contract's constants (protocol/SPEC.md): the frame layer's (§2) and the values and ranges
 * that several areas check (device classes, device ids, the request window). Every other file
 * imports them from here, so a change to the contract is a change in one place.
 */

/** Frame-format version (the `ver` byte, SPEC §2); every protocol version so far uses 1. */
export const FRAME_VERSION = 1;
/** Protocol version 1 (spec 1.0). Kept for callers that mean "the first version". */
export const PROTOCOL_VERSION = 1;
/**
 * Protocol versions this codec speaks (SPEC §8): 1 = spec 1.0, 2 = spec 1.1, which adds only
 * optional keys (catalogue fields with `since: 2`).
 */
export const PROTOCOL_MIN = 1;
export const PROTOCOL_MAX = 2;
/** Frames every peer accepts before the handshake has negotiated a size (SPEC §2.2). */
export const DEFAULT_MAX_FRAME = 512;
export const MIN_MAX_FRAME = 64;
/** `len` is 16 bits and the frame is header + body + CRC; 65,535 keeps the whole frame in a u16 too. */
export const MAX_MAX_FRAME = 65535;
/** ver(1) type(1) flags(1) seq(2) corr(2) len(2). */
export const HEADER_SIZE = 9;
export const CRC_SIZE = 4;
/** The smallest possible frame: a header, an empty body and the CRC. */
export const MIN_FRAME = HEADER_SIZE + CRC_SIZE;
/** This frame answers the request whose `seq` is in `corr`. */
export const FLAG_RSP = 0x01;
/** Retransmission of an earlier frame with the same `seq`. */
export const FLAG_RTX = 0x02;
/** Bits 2..7 must be zero. */
export const FLAG_RESERVED_MASK = 0xfc;

/** Largest COBS piece (without the delimiter) a frame of `maxFrame` bytes can produce (SPEC §2.2). */
export function maxWirePiece(maxFrame: number): number {
  return maxFrame + Math.ceil(maxFrame / 254) + 1;
}

/**
 * Device classes in their wire order: HELLO `deviceClass` is the index in this list (SPEC §5.1,
 * epara.cddl `device-class`), so the order is part of the contract.
 */
export const DEVICE_CLASSES = ['gpu-server', 'embedded-gpu', 'microcomputer', 'mcu', 'fpga'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

// The other enums of the catalogue, also in wire order (the codec encodes each as its index).
export const ARTIFACT_KINDS = ['onnx', 'int8-fc-weights', 'blob'] as const;
export const CATEGORIES = ['latency-single', 'latency-multi', 'frequency-single', 'frequency-multi'] as const;
export const DEPLOY_STATES = ['verifying', 'loading', 'ready', 'failed', 'rolled-back'] as const;
export const SERVICE_STATUSES = ['loading', 'ready', 'failed', 'unloaded'] as const;
export const PLACEMENT_ACTIONS = ['load', 'unload', 'configure'] as const;

/** A device id (SPEC §4 size limits, HELLO `deviceId`): 1..64 of these characters. */
export const DEVICE_ID_CHARS = 'A-Za-z0-9._-';
export const DEVICE_ID_MAX = 64;
/** One device id, unanchored (for patterns that hold several, such as a comma-separated list). */
export const DEVICE_ID_PART = `[${DEVICE_ID_CHARS}]{1,${DEVICE_ID_MAX}}`;
export const DEVICE_ID_PATTERN = new RegExp(`^${DEVICE_ID_PART}$`);

/**
 * Requests (and deploy chunks) a peer may hold unanswered: HELLO rxWindow, CHALLENGE window and
 * DEPLOY_ACCEPT window are uint 1..255 (SPEC §5, §7.1).
 */
export const WINDOW_MIN = 1;
export const WINDOW_MAX = 255;
