/**
 * Typed errors, grouped by area. Every error a user can see carries a namespaced code
 * (`area.name`), the numeric wire code from protocol/SPEC.md §Errors where one exists,
 * a one-line reason and a hint that says what to do about it.
 */
export type ErrorArea =
  | 'frame'
  | 'msg'
  | 'proto'
  | 'auth'
  | 'link'
  | 'deploy'
  | 'infer'
  | 'placement'
  | 'partition'
  | 'registry'
  | 'sched'
  | 'config'
  | 'mqtt'
  | 'cli'
  | 'device'
  | 'internal';

export interface EparaErrorInit {
  /** Namespaced code, e.g. `auth.bad_mac`. */
  code: string;
  /** One line: what went wrong. */
  reason: string;
  /** One line: what the user can do about it. */
  hint: string;
  /** Numeric wire code (protocol/SPEC.md §Errors), when the error can travel in an ERROR message. */
  wire?: number;
  /** The offending field or parameter, when there is one. */
  field?: string;
  /** Extra machine-readable facts (attempts, timeouts, negotiated sizes…). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class EparaError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly hint: string;
  readonly wire?: number;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(init: EparaErrorInit) {
    super(`${init.code}: ${init.reason}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.reason = init.reason;
    this.hint = init.hint;
    this.wire = init.wire;
    this.field = init.field;
    this.details = init.details;
  }

  get area(): string {
    return this.code.split('.', 1)[0] ?? 'internal';
  }

  /** The three-line human form used by the CLI and logs. */
  toHuman(): string {
    const field = this.field ? ` (field: ${this.field})` : '';
    return `error ${this.code}${this.wire !== undefined ? ` [${this.wire}]` : ''}: ${this.reason}${field}\n  hint: ${this.hint}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      wire: this.wire,
      reason: this.reason,
      hint: this.hint,
      field: this.field,
      details: this.details,
    };
  }
}

/** Bytes on the wire that do not form a valid frame or message (codes frame.*, msg.*, proto.*). */
export class ProtocolError extends EparaError {}
/** A link could not carry a request: timeouts, closed ports, backpressure (link.*). */
export class LinkError extends EparaError {}
/** Registration and authentication failures (auth.*). */
export class AuthError extends EparaError {}
/** Artifact transfer, verification, loading and rollback (deploy.*). */
export class DeployError extends EparaError {}
/** Inference requests: routing, deadlines, inputs, runtimes (infer.*). */
export class InferError extends EparaError {}
/** Placement and scheduling decisions (placement.*, sched.*). */
export class SchedulerError extends EparaError {}
/** The device registry and its storage (registry.*). */
export class RegistryError extends EparaError {}
/** Options and configuration out of range or of the wrong type (config.*). */
export class ConfigError extends EparaError {}
/** The MQTT bridge: its broker, its client library, requests that come over MQTT (mqtt.*). */
export class MqttError extends EparaError {}

export function isEparaError(e: unknown): e is EparaError {
  return e instanceof EparaError;
}
