/**
 * Typed errors of the ONNX partitioner (partition.*): a model that cannot be read, or cannot be
 * cut into the stages asked for. They are the server's (nothing here travels on the wire).
 */
import { EparaError } from '../errors.js';

export type PartitionCode =
  /** onnx-proto, the optional peer the partitioner reads models with, is not installed. */
  | 'partition.onnx_proto_missing'
  /** The bytes are not an ONNX model the partitioner can read (no graph, a cycle, a dangling tensor). */
  | 'partition.bad_model'
  /** No cut gives the stages asked for: too few nodes, a node bigger than a stage's memory, only untyped tensors to cut at. */
  | 'partition.cannot_cut'
  /** The shares or budgets asked for are not usable (not summing to 1, negative, one stage). */
  | 'partition.bad_request';

export class PartitionError extends EparaError {}

export function partitionError(code: PartitionCode, reason: string, hint: string, details?: Record<string, unknown>): PartitionError {
  return new PartitionError({ code, reason, hint, ...(details ? { details } : {}) });
}
