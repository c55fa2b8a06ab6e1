import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';

/** A writable that may be a terminal (process.stdout, or a test's capture stream). */
export type OutStream = Writable & { isTTY?: boolean; columns?: number };

/**
 * Everything a command needs from the process. `main.ts` builds it from `process`; tests build
 * one with capture streams and their own env (PATH with fake tools first, a temp data dir), so a
 * whole command runs in-process and end to end without touching the real environment.
 */
export interface CliContext {
  stdout: OutStream;
  stderr: OutStream;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted when the user asks a long-running command (serve, fleet) to stop. */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers (only the real process does; tests use `signal`). */
  handleSignals?: boolean;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    handleSignals: true,
  };
}

/** Shared between an action and runCli: the exit code an action chose without throwing. */
export interface ExitState {
  code: number;
}

/**
 * What each command module exports. It lives here, not in program.ts, so that command files
 * never import the program that imports them (tests/cli/import-graph.test.ts keeps it so).
 */
export type CommandFactory = (ctx: CliContext, exit: ExitState) => Command;
