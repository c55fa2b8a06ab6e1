/**
 * Runs one `epara` command line as uid/gid 65534 (nobody), for tests of what a user without
 * access sees. It starts as root and loads the CLI first (serialport's native binding included),
 * then drops to nobody before the command runs: the checkout may sit where only root can enter
 * (`mktemp -d` makes 0700 directories), and a child spawned as nobody could not even load it.
 *
 *   node --import tsx test/cli/as-nobody.ts hc05 /dev/pts/7 --json
 */
import 'serialport';
import { runCli } from '../../src/cli/program.js';
import { processContext } from '../../src/cli/context.js';

const NOBODY = 65534;
process.setgroups?.([]);
process.setgid!(NOBODY);
process.setuid!(NOBODY);
process.stderr.write(`as uid ${process.getuid?.()} gid ${process.getgid?.()}\n`);
process.exitCode = await runCli(process.argv.slice(2), { ...processContext(), env: { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' } });
