import { EparaError, type EparaErrorInit } from '../errors.js';

/**
 * Failures of the conformance kit itself (codes `conform.*`): a target that does not parse, a
 * device that never connects, an artifact that cannot be read. A device that fails a check is
 * not an error: it is a row in the report.
 */
export class ConformError extends EparaError {
  /** True when the command line is wrong (exit 2), not the device or the link (exit 1). */
  readonly usage: boolean;

  constructor(init: EparaErrorInit & { usage?: boolean }) {
    super(init);
    this.usage = init.usage ?? false;
  }
}

/** Thrown inside a check to fail it with a one-line reason (caught by the runner, never escapes). */
export class CheckFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CheckFailure';
  }
}

/** Fail the current check unless `cond` holds. */
export function expectThat(cond: unknown, reason: string): asserts cond {
  if (!cond) throw new CheckFailure(reason);
}
