import type { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error.js';

/**
 * Commander's own usage errors (unknown option, missing argument, bad choice) as typed CliErrors:
 * a `cli.*` code, the message as the reason and a hint naming the command's help, printed through
 * Output like every other error, so `--json` gets `{ "error": {...} }` on stdout for them too.
 */

/** Commander's error codes → ours. */
const CODES: Record<string, string> = {
  'commander.unknownOption': 'cli.unknown_option',
  'commander.unknownCommand': 'cli.unknown_command',
  'commander.missingMandatoryOptionValue': 'cli.missing_option',
  'commander.missingArgument': 'cli.missing_argument',
  'commander.optionMissingArgument': 'cli.missing_value',
  'commander.invalidArgument': 'cli.bad_value',
  'commander.excessArguments': 'cli.too_many_arguments',
  'commander.conflictingOption': 'cli.conflicting_options',
};

/** What the command that rejected the line said (outputError is called before it throws). */
export interface UsageCapture {
  cmd?: Command;
  message?: string;
}

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function usageFromCommander(e: CommanderError, capture: UsageCapture): CliError {
  const lines = (capture.message ?? e.message).trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const reason = (lines[0] ?? e.message).replace(/^error: /, '');
  const suggestion = lines.slice(1).join(' ');
  const help = `\`${capture.cmd ? commandPath(capture.cmd) : 'epara'} --help\``;
  return new CliError({
    code: CODES[e.code] ?? 'cli.usage',
    reason,
    hint: suggestion ? `${suggestion} ${help} lists them all` : `${help} shows the usage`,
    usage: true,
  });
}

/**
 * Commander checks mandatory options before unknown ones, so `deploy --servce x` said
 * "required option '--service' not specified". A mistyped option is the likelier story: report it
 * (with commander's suggestion) before the missing one.
 */
export function unknownOptionsFirst(cmd: Command): void {
  // Both are public in commander's JavaScript and documented for overriding, but not in its types.
  const c = cmd as unknown as { missingMandatoryOptionValue(o: Option): void; unknownOption(flag: string): void };
  const original = c.missingMandatoryOptionValue.bind(cmd);
  c.missingMandatoryOptionValue = (option: Option) => {
    const known = new Set<string>(['--help', '-h']);
    for (let c: Command | null = cmd; c; c = c.parent) for (const o of c.options as readonly Option[]) [o.long, o.short].forEach((f) => f && known.add(f));
    const unknown = cmd.args.find((a) => /^--?[A-Za-z]/.test(a) && !known.has(a.split('=')[0]!));
    if (unknown) c.unknownOption(unknown.split('=')[0]!);
    original(option);
  };
}
