import type { Command } from 'commander';
import { DEVICE_CLASSES } from '../protocol/constants.js';

/** Device classes `--class` and `--to` accept: the protocol's own list, not a copy. */
export { DEVICE_CLASSES };

/** Flags every command accepts (defined once on the root program). */
export interface GlobalFlags {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  dataDir?: string;
  config?: string;
  /** A connection profile (`epara profile add`); on fleet a device class names an emulator profile. */
  profile?: string;
}

/** Flags of commands that talk to the server. */
export interface ServerFlags {
  server?: string;
  token?: string;
}

/** Adds --server/--token to a command that talks to a running `epara serve`. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'HTTP API of a running epara serve (default: the one running for the data dir)')
    .option('--token <token>', 'its bearer token (default: <data dir>/http-token; also EPARA_TOKEN)');
}

/** Accumulates a repeatable option (`--tcp a --tcp b`). */
export const collect = (v: string, prev: unknown): string[] => [...(Array.isArray(prev) ? (prev as string[]) : []), v];
