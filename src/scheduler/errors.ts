/**
 * Typed errors raised by the scheduler. Wire numbers follow protocol/SPEC.md §6 so the server
 * adapter can send them in ERROR / PLACEMENT_ACK unchanged; sched.* never travels on the wire.
 */
import { InferError, SchedulerError } from '../errors.js';
import { WIRE } from '../protocol/error-codes.js';

export type InferCode = 'infer.unknown_service' | 'infer.deadline' | 'infer.overloaded' | 'infer.no_device';

export function inferError(code: InferCode, reason: string, hint: string, details?: Record<string, unknown>): InferError {
  return new InferError({ code, wire: WIRE[code], reason, hint, details });
}

export function schedError(code: string, reason: string, hint: string, field?: string, details?: Record<string, unknown>): SchedulerError {
  const wire = code === 'placement.no_memory' || code === 'placement.unknown_service' ? WIRE[code] : undefined;
  return new SchedulerError({ code, wire, reason, hint, field, details });
}
