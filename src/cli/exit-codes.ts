/**
 * Process exit codes of the `epara` command. Scripts branch on these, so they are part of the
 * CLI's contract (docs/cli.md §Exit codes).
 */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** The command ran but failed: a device refused, a tool failed, a server is unreachable. */
  FAILURE: 1,
  /** The command line itself is wrong: unknown option, missing argument, value out of range. */
  USAGE: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
