/**
 * Typed-error constructors for the device side. Wire numbers come from src/protocol/error-codes.ts
 * (the cross-area contract), the one table they are written in.
 */
import { DeployError, EparaError, InferError, SchedulerError, type EparaErrorInit } from '../errors.js';
import { WIRE, wiresOf } from '../protocol/error-codes.js';

/** The device side's own codes (deploy, infer, placement and the generic two), from the one table. */
export const CLIENT_WIRE_CODES = Object.freeze({
  ...wiresOf('deploy.'),
  ...wiresOf('infer.'),
  ...wiresOf('placement.'),
  internal: WIRE.internal,
  not_supported: WIRE.not_supported,
});

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
