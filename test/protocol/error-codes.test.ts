import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  ERROR_CODES,
  errorForCode,
  errorFromWire,
  errorInfo,
  protocolError,
  toErrorMessage,
  encodeMessage,
  WIRE,
  wiresOf,
} from '../../src/protocol/index.js';
import { AuthError, DeployError, EparaError, InferError, LinkError, ProtocolError, SchedulerError } from '../../src/errors.js';
import { SPEC_PATH, specWithTable } from '../../scripts/gen-error-table.js';

// The contract in the lead's API plan (/tmp/epara-api.md): every one of these must exist.
const CONTRACT: Record<number, string> = {
  100: 'frame.crc', 101: 'frame.cobs', 102: 'frame.oversize', 103: 'frame.truncated', 104: 'frame.header', 105: 'frame.version',
  110: 'msg.unknown_type', 111: 'msg.cbor', 112: 'msg.non_deterministic', 113: 'msg.schema', 114: 'msg.unexpected',
  120: 'proto.version_too_old', 121: 'proto.version_too_new', 122: 'proto.frame_size',
  200: 'auth.bad_mac', 201: 'auth.unknown_device', 202: 'auth.replay', 203: 'auth.duplicate_session', 204: 'auth.pending_approval',
  205: 'auth.not_authenticated', 206: 'auth.timeout', 207: 'auth.revoked', 208: 'auth.server_mac',
  300: 'link.timeout', 301: 'link.closed', 302: 'link.backpressure', 303: 'link.window', 304: 'link.open_failed', 305: 'link.permission',
  306: 'link.busy', 307: 'link.unavailable', 308: 'link.tls',
  400: 'deploy.hash_mismatch', 401: 'deploy.offset', 402: 'deploy.no_space', 403: 'deploy.unsupported_kind', 404: 'deploy.load_failed',
  405: 'deploy.warmup_failed', 406: 'deploy.unknown', 407: 'deploy.busy', 408: 'deploy.too_large', 409: 'deploy.incompatible_class', 410: 'deploy.wrong_device',
  500: 'infer.unknown_service', 501: 'infer.deadline', 502: 'infer.bad_input', 503: 'infer.cancelled', 504: 'infer.overloaded',
  505: 'infer.runtime', 506: 'infer.no_device',
  600: 'placement.no_memory', 601: 'placement.unknown_service', 602: 'placement.stale_plan',
  900: 'internal', 901: 'not_supported', 902: 'busy',
};

describe('error codes', () => {
  it('are one table: WIRE and each area view (wiresOf) read their numbers from it, and a misspelt name does not compile', () => {
    expect(Object.entries(WIRE)).toEqual(ERROR_CODES.map((e) => [e.name, e.wire]));
    expect(Object.keys(wiresOf('link.'))).toEqual(ERROR_CODES.filter((e) => e.name.startsWith('link.')).map((e) => e.name));
    expect(wiresOf('link.')['link.closed']).toBe(301);
    // Compile-time: `npm run typecheck` fails if either of these lines stops being an error.
    // @ts-expect-error 'auth.bad_mc' is not a name of the table
    expect(errorForCode('auth.bad_mc').code).toBe('auth.bad_mc');
    // @ts-expect-error nor is it a key of WIRE
    expect(WIRE['auth.bad_mc']).toBeUndefined();
  });

  it('contain every contract code with its wire number', () => {
    for (const [wire, name] of Object.entries(CONTRACT)) {
      expect(errorInfo(name)?.wire, name).toBe(Number(wire));
      expect(errorInfo(Number(wire))?.name).toBe(name);
    }
  });

  it('have unique names and wire numbers in their area range, one-line reasons and actionable hints', () => {
    expect(new Set(ERROR_CODES.map((e) => e.name)).size).toBe(ERROR_CODES.length);
    expect(new Set(ERROR_CODES.map((e) => e.wire)).size).toBe(ERROR_CODES.length);
    const range: Record<string, number> = { frame: 1, msg: 1, proto: 1, auth: 2, link: 3, deploy: 4, infer: 5, placement: 6 };
    for (const e of ERROR_CODES) {
      expect(Math.floor(e.wire / 100), e.name).toBe(range[e.name.split('.')[0]!] ?? 9);
      for (const text of [e.reason, e.hint]) {
        expect(text.length, e.name).toBeGreaterThan(15);
        expect(text).not.toMatch(/[\r\n]/);
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(200);
      }
      expect(e.hint).not.toBe(e.reason);
    }
  });

  it('map to the error class of their area', () => {
    expect(protocolError('msg.schema', { field: 'caps.memoryKiB' })).toBeInstanceOf(ProtocolError);
    expect(errorForCode('auth.bad_mac')).toBeInstanceOf(AuthError);
    expect(errorForCode('link.timeout')).toBeInstanceOf(LinkError);
    expect(errorForCode('deploy.offset')).toBeInstanceOf(DeployError);
    expect(errorForCode('infer.deadline')).toBeInstanceOf(InferError);
    expect(errorForCode('placement.no_memory')).toBeInstanceOf(SchedulerError);
    const e = errorForCode('busy');
    expect(e).toBeInstanceOf(EparaError);
    expect(e.wire).toBe(902);
  });

  it('survive an ERROR message round trip: toErrorMessage -> wire -> errorFromWire', () => {
    const sent = errorForCode('auth.bad_mac', { reason: 'AUTH MAC for pi-7 does not verify', field: 'mac' });
    const msg = toErrorMessage(sent);
    expect(msg).toEqual({ type: 'ERROR', code: 200, reason: 'AUTH MAC for pi-7 does not verify', hint: sent.hint, field: 'mac' });
    encodeMessage(msg); // must be a valid ERROR
    const got = errorFromWire(msg);
    expect(got).toBeInstanceOf(AuthError);
    expect([got.code, got.wire, got.reason, got.field]).toEqual(['auth.bad_mac', 200, sent.reason, 'mac']);
  });

  it('clip long reasons to the 200-byte SPEC limit on a code point boundary, and keep unknown codes', () => {
    const long = errorForCode('internal', { reason: 'ü'.repeat(300) + '\nsecond line' });
    const msg = toErrorMessage(long);
    expect(Buffer.byteLength(msg.reason)).toBeLessThanOrEqual(200);
    expect(msg.reason).not.toMatch(/\n|\uFFFD/);
    encodeMessage(msg);
    const unknown = errorFromWire({ type: 'ERROR', code: 777, reason: 'from the future' });
    expect([unknown.code, unknown.wire]).toEqual(['internal', 777]);
    expect(unknown.reason).toContain('777');
  });

  it('are listed in SPEC.md §6 exactly as generated (run scripts/gen-error-table.ts after editing)', () => {
    const spec = readFileSync(SPEC_PATH, 'utf8');
    expect(specWithTable(spec) === spec, 'protocol/SPEC.md error table is stale: run `npx tsx scripts/gen-error-table.ts`').toBe(true);
  });
});
