import { Command, Option } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { collect, DEVICE_CLASSES } from '../flags.js';
import { CliError } from '../cli-error.js';
import { interactive, unattended } from '../init/asker.js';
import { runSetup, type InitFlags } from '../init/setup.js';

export function initCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('init')
    .description('guided setup: data dir, serial and Bluetooth SPP ports, an HC-05, a first device, config.json and a systemd unit')
    .option('-y, --yes', 'ask nothing: take the flags given and the defaults for the rest (unattended)')
    .option('--serial <path@baud>', 'answer "serve devices on serial ports" (repeatable)', collect)
    .option('--no-serial', 'answer it with none')
    .option('--hc05 <port>', 'answer "configure an HC-05": its USB-UART port (AT mode)')
    .option('--hc05-name <name>', 'its Bluetooth name (default EPARA-DEV)')
    .option('--hc05-pin <digits>', 'its PIN (default 1234)')
    .option('--hc05-baud <rate>', 'its data baud (default 9600, what the Basys 3 bitstream runs at)')
    .option('--tcp <host:port>', 'answer "listen for devices on TCP" (default 127.0.0.1:7878; none for no listener)')
    .option('--device <id>', 'answer "register a first device": its id')
    .addOption(new Option('--class <class>', 'and its class (default microcomputer)').choices(DEVICE_CLASSES))
    .option('--systemd <file>', 'answer "write a systemd unit": its path, e.g. ~/.config/systemd/user/epara.service')
    .option('--force', 'update the serve settings of an existing config.json without asking')
    .addOption(new Option('--sys-root <dir>', 'read sysfs from here (tests)').hideHelp())
    .addOption(new Option('--dev-root <dir>', 'read device nodes from here (tests)').hideHelp())
    .addHelpText(
      'after',
      `
Questions and their flags: data directory (--data-dir), serial ports (--serial, --no-serial),
HC-05 (--hc05, --hc05-name, --hc05-pin, --hc05-baud), TCP listener (--tcp), first device
(--device, --class), systemd unit (--systemd). A flag answers its question; --yes takes the
defaults for the others. Writes <data dir>/config.json (what \`epara serve\` reads).
Examples:
  epara init
  epara init --yes --data-dir /srv/epara --serial /dev/rfcomm0@9600 --device fpga-01 --class fpga
  epara init --yes --tcp 0.0.0.0:7878 --systemd ~/.config/systemd/user/epara.service`,
    )
    .action(
      action(ctx, exit, async (env, flags: InitFlags) => {
        const out = env.out;
        if (!flags.yes && !(env.ctx.stdin as { isTTY?: boolean }).isTTY) {
          throw new CliError({ code: 'cli.usage', reason: 'epara init asks its questions on a terminal, and stdin is not one', hint: 'run it in a terminal, or unattended with --yes and a flag for each answer (`epara init --help` lists them)', usage: true });
        }
        const ask = flags.yes ? unattended() : interactive(env.ctx);
        try {
          const res = await runSetup(env, flags, ask, env.flags.dataDir);
          out.result(res, () =>
            [
              `data dir: ${res.dataDir}`,
              `config: ${res.configFile} (serve: tcp ${res.config.serve?.tcp?.join(', ') || 'none'}; serial ${res.config.serve?.serial?.join(', ') || 'none'})`,
              ...(res.hc05 ? [`HC-05 on ${res.hc05.port}: firmware ${res.hc05.version ?? 'unknown'}, address ${res.hc05.mac ?? res.hc05.address ?? 'unknown'}${res.hc05.mac ? `; pair it with \`epara pair ${res.hc05.mac}\`` : ''}`] : []),
              ...(res.device ? [`registered ${res.device.id} (${res.device.deviceClass})`, `key: ${res.device.key}`, out.c.yellow('store this key on the device now: it is not shown again')] : []),
              ...(res.systemd ? [`systemd unit: ${res.systemd} (enable: systemctl --user daemon-reload && systemctl --user enable --now ${res.systemd.split('/').pop()})`] : []),
              `next: epara serve${env.flags.dataDir ? ` --data-dir ${res.dataDir}` : ''}`,
            ].join('\n'),
          );
        } finally {
          ask.close();
        }
      }),
    );
}
