/**
 * Typed-error constructors for the device side. Wire numbers are the ones in
 * src/protocol/error-codes.ts (the cross-area contract); test/client/client-errors.test.ts checks
 * this table against that file so the two cannot drift apart.
 */
import { DeployError, EparaError, InferError, SchedulerError, type EparaErrorInit } from '../errors.js';

export const CLIENT_WIRE_CODES = {
  'deploy.hash_mismatch': 400,
  'deploy.offset': 401,
  'deploy.no_space': 402,
  'deploy.unsupported_kind': 403,
  'deploy.load_failed': 404,
  'deploy.warmup_failed': 405,
  'deploy.unknown': 406,
  'deploy.busy': 407,
  'deploy.too_large': 408,
  'deploy.incompatible_class': 409,
  'deploy.wrong_device': 410,
  'infer.unknown_service': 500,
  'infer.deadline': 501,
  'infer.bad_input': 502,
  'infer.cancelled': 503,
  'infer.overloaded': 504,
  'infer.runtime': 505,
  'placement.no_memory': 600,
  'placement.unknown_service': 601,
  'placement.stale_plan': 602,
  internal: 900,
  not_supported: 901,
} as const;

export type ClientErrorCode = keyof typeof CLIENT_WIRE_CODES;

type Init = Omit<EparaErrorInit, 'code' | 'wire'>;

export function deployError(code: ClientErrorCode & `deploy.${string}`, init: Init): DeployError {
  return new DeployError({ ...init, code, wire: CLIENT_WIRE_CODES[code] });
}

export function inferError(code: ClientErrorCode & `infer.${string}`, init: Init): InferError {
  return new InferError({ ...init, code, wire: CLIENT_WIRE_CODES[code] });
}

export function placementError(code: ClientErrorCode & `placement.${string}`, init: Init): SchedulerError {
  return new SchedulerError({ ...init, code, wire: CLIENT_WIRE_CODES[code] });
}

/** Wrap anything thrown by a library into an EparaError without losing the original as `cause`. */
export function asEparaError(e: unknown, fallback: (message: string) => EparaError): EparaError {
  if (e instanceof EparaError) return e;
  const message = e instanceof Error ? e.message : String(e);
  // Library messages can be long and multi-line; the reason is one line.
  return fallback(message.split('\n', 1)[0]!.slice(0, 160));
}

/** The wire number for an error, defaulting to `internal` for errors that have none. */
export function wireOf(e: EparaError): number {
  return e.wire ?? CLIENT_WIRE_CODES.internal;
}
