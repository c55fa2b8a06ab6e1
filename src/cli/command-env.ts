import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { Output } from './output.js';
import type { GlobalFlags } from './flags.js';
import { configPath, ensureDataDir, loadConfig, resolveDataDir, type EparaConfig } from './config.js';

/** What an action gets: the process context, the output, and lazily resolved data dir/config. */
export class CommandEnv {
  readonly out: Output;
  private cachedConfig?: EparaConfig;

  constructor(
    readonly ctx: CliContext,
    readonly flags: GlobalFlags,
  ) {
    this.out = new Output(ctx, flags);
  }

  /** The data directory, created (0700) on first use. */
  dataDir(): string {
    return ensureDataDir(resolveDataDir(this.flags.dataDir, this.ctx.env, this.ctx.cwd));
  }

  /** The data directory path without creating it (for read-only probes). */
  dataDirPath(): string {
    return resolveDataDir(this.flags.dataDir, this.ctx.env, this.ctx.cwd);
  }

  config(): EparaConfig {
    if (!this.cachedConfig) {
      const { path, required } = configPath(this.flags.config, this.dataDirPath(), this.ctx.cwd);
      this.cachedConfig = loadConfig(path, required);
    }
    return this.cachedConfig;
  }
}

export type ActionResult = number | void;

/**
 * Wrap a command action: commander passes (...positionals, options, command); we hand the action
 * its CommandEnv first. The returned number (if any) becomes the exit code; thrown errors are
 * formatted by runCli.
 */
export function action<A extends unknown[]>(
  ctx: CliContext,
  exit: { code: number },
  fn: (env: CommandEnv, ...args: A) => Promise<ActionResult> | ActionResult,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const env = new CommandEnv(ctx, command.optsWithGlobals<GlobalFlags>());
    const code = await fn(env, ...(args.slice(0, -1) as A));
    if (typeof code === 'number') exit.code = code;
  };
}
