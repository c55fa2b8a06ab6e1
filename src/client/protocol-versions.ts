/**
 * The protocol versions a device offers in HELLO `proto` and the check of the one the server
 * picks in CHALLENGE (SPEC §8). A device speaks [1, 2] unless told otherwise; [1, 1] makes it a
 * spec 1.0 device (what the FPGA endpoint and the C library are).
 */
import { ConfigError, ProtocolError } from '../errors.js';
import { PROTOCOL_MAX, PROTOCOL_MIN } from '../protocol/index.js';

export type ProtocolRange = readonly [min: number, max: number];

export const DEFAULT_PROTOCOL_RANGE: ProtocolRange = [PROTOCOL_MIN, PROTOCOL_MAX];

/** Validates the `protocolVersions` option: a [min, max] inside what this SDK speaks. */
export function resolveProtocolRange(given: unknown): ProtocolRange {
  if (given === undefined) return DEFAULT_PROTOCOL_RANGE;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= PROTOCOL_MIN && v <= PROTOCOL_MAX;
  if (!Array.isArray(given) || given.length !== 2 || !ok(given[0]) || !ok(given[1]) || given[0] > given[1]) {
    throw new ConfigError({
      code: 'config.value',
      reason: `protocolVersions ${JSON.stringify(given)} is not [min, max] with ${PROTOCOL_MIN} <= min <= max <= ${PROTOCOL_MAX}`,
      hint: `leave it out for [${PROTOCOL_MIN}, ${PROTOCOL_MAX}], or pass [1, 1] to behave as a spec 1.0 device`,
      field: 'protocolVersions',
    });
  }
  return [given[0], given[1]];
}

/** SPEC §8 rule 4: a CHALLENGE version outside the range the device offered ends the handshake. */
export function checkChosenVersion(range: ProtocolRange, version: number): void {
  if (version >= range[0] && version <= range[1]) return;
  const older = version < range[0];
  throw new ProtocolError({
    code: older ? 'proto.version_too_old' : 'proto.version_too_new',
    wire: older ? 120 : 121,
    reason: `server chose protocol version ${version}, this device speaks ${range[0]}..${range[1]}`,
    hint: older ? 'upgrade the server' : 'upgrade the device SDK',
  });
}
