import { EparaError, type EparaErrorInit } from '../errors.js';

/**
 * Failures that belong to the command line itself (codes `cli.*`): bad flags, missing external
 * tools, a server that is not running. They never travel on the wire, so they have no wire code.
 */
export class CliError extends EparaError {
  /** True when the user typed something wrong: the process exits 2 instead of 1. */
  readonly usage: boolean;

  constructor(init: EparaErrorInit & { usage?: boolean }) {
    super(init);
    this.usage = init.usage ?? false;
  }
}

/** A flag or argument that does not parse; exits 2. */
export function usageError(field: string, reason: string, hint: string): CliError {
  return new CliError({ code: 'cli.usage', reason, hint, field, usage: true });
}
