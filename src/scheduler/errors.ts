/**
 * Typed errors raised by the scheduler. Wire numbers follow protocol/SPEC.md §6 so the server
 * adapter can send them in ERROR / PLACEMENT_ACK unchanged; sched.* never travels on the wire.
 */
import { InferError, SchedulerError } from '../errors.js';

const INFER_WIRE = {
  'infer.unknown_service': 500,
  'infer.deadline': 501,
  'infer.overloaded': 504,
  'infer.no_device': 506,
} as const;

export type InferCode = keyof typeof INFER_WIRE;

export function inferError(code: InferCode, reason: string, hint: string, details?: Record<string, unknown>): InferError {
  return new InferError({ code, wire: INFER_WIRE[code], reason, hint, details });
}

export function schedError(code: string, reason: string, hint: string, field?: string, details?: Record<string, unknown>): SchedulerError {
  const wire = code === 'placement.no_memory' ? 600 : code === 'placement.unknown_service' ? 601 : undefined;
  return new SchedulerError({ code, wire, reason, hint, field, details });
}
