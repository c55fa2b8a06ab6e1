/**
 * What a device (the FPGA endpoint) must answer to each invalid golden vector
 * (protocol/vectors/invalid.json), from SPEC §3 and §5 "Correlation and errors":
 * - frame-level errors (CRC, COBS, size, version, header): silence, never an answer;
 * - a frame of an unknown type with RSP clear: ERROR msg.unknown_type (§8);
 * - responses and notifications of a known type: silence, however bad the body;
 * - requests: ERROR with the vector's code, except that a device does not check the §5
 *   schema of the requests only a server receives (HELLO, AUTH, HEARTBEAT: dir D in §5):
 *   when their body passes §4 they are answered msg.unexpected (114), as the TypeScript
 *   device does for a well-formed one (a body that is not a map is msg.schema for any type).
 */
import type { InvalidVector as InvalidJsonEntry } from '../../src/conformance/checks/vectors.js';
import { cobsDecode, isRequestType, messageTypeName, MessageType } from '../../src/protocol/index.js';

/** The fields of an invalid.json entry this file reads (protocol/vectors/README.md has them all). */
export type InvalidVector = Pick<InvalidJsonEntry, 'name' | 'max_frame' | 'wire_hex' | 'expect' | 'expect_wire'>;

export interface DeviceExpectation {
  /** the ERROR code the device answers with, or undefined for silence */
  code?: number;
  /** the header's seq, when the frame is intact enough to have one */
  seq?: number;
  /** the header's type byte */
  type?: number;
  why: string;
}

const SERVER_ONLY = new Set<number>([MessageType.HELLO, MessageType.AUTH, MessageType.HEARTBEAT]);

export function deviceExpectation(v: InvalidVector): DeviceExpectation {
  if (v.expect.startsWith('frame.')) return { why: 'frame-level error: never answered' };
  const wire = Buffer.from(v.wire_hex, 'hex');
  const frame = cobsDecode(wire.subarray(0, wire.length - 1));
  const type = frame[1]!;
  const flags = frame[2]!;
  const seq = (frame[3]! << 8) | frame[4]!;
  if (flags & 1) return { seq, type, why: 'a response: never answered' };
  if (messageTypeName(type) === undefined) return { code: 110, seq, type, why: 'unknown type, RSP clear' };
  if (!isRequestType(type)) return { seq, type, why: 'a notification: never answered' };
  // a body that is not a map fails whatever the type (SPEC §4: every body is one map)
  const bodyIsMap = frame.length > 13 && frame[9]! >> 5 === 5;
  if (v.expect === 'msg.schema' && SERVER_ONLY.has(type) && bodyIsMap) {
    return { code: 114, seq, type, why: `${messageTypeName(type)} is a device → server request: msg.unexpected` };
  }
  return { code: v.expect_wire, seq, type, why: `request: ${v.expect}` };
}
