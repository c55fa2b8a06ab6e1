import { Command, CommanderError } from 'commander';
import type { CliContext, CommandFactory, ExitState } from './context.js';
import { ExitCode } from './exit-codes.js';
import { CliError } from './cli-error.js';
import { humanize } from './human-errors.js';
import { Output } from './output.js';
import { packageVersion } from './version.js';
import { unknownOptionsFirst, usageFromCommander, type UsageCapture } from './usage-errors.js';
import { portsCommand } from './commands/ports.js';
import { pairCommand } from './commands/pair.js';
import { hc05Command } from './commands/hc05.js';
import { flashCommand } from './commands/flash.js';
import { serveCommand } from './commands/serve.js';
import { registerCommand } from './commands/register.js';
import { devicesCommand } from './commands/devices.js';
import { deployCommand } from './commands/deploy.js';
import { undeployCommand } from './commands/undeploy.js';
import { deploymentsCommand } from './commands/deployments.js';
import { inferCommand } from './commands/infer.js';
import { placementCommand } from './commands/placement.js';
import { servicesCommand } from './commands/services.js';
import { fleetCommand } from './commands/fleet.js';
import { demoCommand } from './commands/demo.js';
import { simCliCommand } from './commands/sim.js';
import { conformCommand } from './commands/conform.js';
import { initCommand } from './commands/init.js';
import { profileCommand } from './commands/profile.js';

const COMMANDS: Array<[group: string, factory: CommandFactory]> = [
  ['Getting started:', initCommand],
  ['Getting started:', profileCommand],
  ['Server and devices:', serveCommand],
  ['Server and devices:', registerCommand],
  ['Server and devices:', devicesCommand],
  ['Models:', deployCommand],
  ['Models:', undeployCommand],
  ['Models:', deploymentsCommand],
  ['Models:', inferCommand],
  ['Scheduling:', servicesCommand],
  ['Scheduling:', placementCommand],
  ['Emulation:', fleetCommand],
  ['Emulation:', demoCommand],
  ['Emulation:', simCliCommand],
  ['Hardware setup:', conformCommand],
  ['Hardware setup:', portsCommand],
  ['Hardware setup:', pairCommand],
  ['Hardware setup:', hc05Command],
  ['Hardware setup:', flashCommand],
];

export function buildProgram(ctx: CliContext, exit: ExitState, capture: UsageCapture = {}): Command {
  const program = new Command('epara')
    .description('Manage AI inference devices in an edge cloud: register them, deploy models, route inference.')
    .version(packageVersion(), '-V', 'print the epara version (also: epara --version)')
    .option('--json', 'print results as JSON on stdout (errors too, as {"error": {...}})')
    .option('-v, --verbose', 'print more detail on stderr')
    .option('-q, --quiet', 'print nothing but results and errors')
    .option('--no-color', 'never use colours (also: NO_COLOR=1)')
    .option('--data-dir <dir>', 'state directory (default: $EPARA_DATA_DIR, $XDG_STATE_HOME/epara or ~/.local/state/epara)')
    .option('--config <file>', 'config file (default: <data dir>/config.json if present)')
    .option('--profile <name>', 'connection profile for commands that talk to a server (`epara profile add`; also EPARA_PROFILE)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage error.
Output: data on stdout, progress on stderr; colours only on a terminal and never with NO_COLOR.
Docs: docs/cli.md`,
    );
  for (const [group, factory] of COMMANDS) {
    const cmd = factory(ctx, exit);
    cmd.helpGroup(group);
    program.addCommand(cmd);
  }
  configure(program, ctx, capture);
  return program;
}

/**
 * Every command (and sub-command) throws instead of exiting, and hands its usage message to
 * runCli instead of printing it, so that it is printed as a typed error (`--json` included).
 */
function configure(cmd: Command, ctx: CliContext, capture: UsageCapture): void {
  cmd.exitOverride().configureOutput({
    writeOut: (s) => ctx.stdout.write(s),
    writeErr: (s) => ctx.stderr.write(s),
    outputError: (message) => Object.assign(capture, { cmd, message }),
  });
  unknownOptionsFirst(cmd);
  for (const sub of cmd.commands) configure(sub, ctx, capture);
}

/**
 * Run one command line in-process and return the exit code. main.ts calls it with the real
 * process; tests call it with capture streams, their own env and a temp data dir.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const exit: ExitState = { code: ExitCode.OK };
  const capture: UsageCapture = {};
  const program = buildProgram(ctx, exit, capture);
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.USAGE;
  }
  // `--version` belongs to `epara deploy` (the artifact version), so the program-wide flag is -V;
  // `epara --version` on its own still prints the package version, as people expect.
  if (argv.length === 1 && argv[0] === '--version') {
    ctx.stdout.write(packageVersion() + '\n');
    return ExitCode.OK;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and -V arrive here as "errors" with exitCode 0; a bare `epara devices`-style
      // call that printed help is a usage error without a message of its own.
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.OK;
      if (e.code === 'commander.help') return ExitCode.USAGE;
    }
    const json = argv.includes('--json');
    const out = new Output(ctx, { json, verbose: argv.includes('--verbose') || argv.includes('-v'), color: argv.includes('--no-color') ? false : undefined });
    // Everything else commander rejects (unknown command or option, missing argument, bad choice).
    const err = e instanceof CommanderError ? usageFromCommander(e, capture) : humanize(e);
    out.error(err);
    return err instanceof CliError && err.usage ? ExitCode.USAGE : ExitCode.FAILURE;
  }
}
