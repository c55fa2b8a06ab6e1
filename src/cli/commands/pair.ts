import { Command, Option } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { usageError } from '../cli-error.js';
import { requireTool } from '../external-tools.js';
import { normalizeMac, pairHc05, pairPlan, validatePin, type PairStep } from '../bluez/pair.js';

interface PairFlags {
  pin: string;
  channel: string;
  dev: string;
  scanTimeout: string;
  dryRun?: boolean;
  replyTimeout: string;
}

function intFlag(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(name, `--${name} ${raw} must be a whole number from ${min} to ${max}`, `e.g. --${name} ${min}`);
  return n;
}

export function pairCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('pair')
    .description('pair an HC-05 over Bluetooth with BlueZ and bind it to /dev/rfcommN (bluetoothctl + rfcomm)')
    .argument('<MAC>', 'Bluetooth address of the HC-05, e.g. 98:D3:31:F5:12:34')
    .option('--pin <pin>', 'the HC-05 PIN (AT+PSWD)', '1234')
    .option('--channel <n>', 'RFCOMM channel of the SPP service (1 on HC-05)', '1')
    .option('--dev <path>', 'serial node to create', '/dev/rfcomm0')
    .option('--scan-timeout <s>', 'seconds to scan for the module', '20')
    .option('--dry-run', 'print the exact commands and exit')
    .addOption(new Option('--reply-timeout <ms>', 'per-command reply timeout').default('30000').hideHelp())
    .addHelpText(
      'after',
      `
Needs BlueZ (Debian/Ubuntu: sudo apt-get install bluez) with bluetoothd running. rfcomm bind needs root.
Steps: power on → agent → scan → pair (answers the PIN) → trust → rfcomm bind.
Examples:
  epara pair 98:D3:31:F5:12:34 --dry-run
  sudo epara pair 98:D3:31:F5:12:34 --pin 1234 --dev /dev/rfcomm0
  epara serve --serial /dev/rfcomm0@9600`,
    )
    .action(
      action(ctx, exit, async (env, rawMac: string, flags: PairFlags) => {
        const out = env.out;
        const mac = normalizeMac(rawMac);
        const pin = validatePin(flags.pin);
        const channel = intFlag('channel', flags.channel, 1, 30);
        const scanTimeoutS = intFlag('scan-timeout', flags.scanTimeout, 1, 600);
        if (!/^\/dev\/rfcomm\d+$/.test(flags.dev)) throw usageError('dev', `--dev ${flags.dev} must be /dev/rfcommN`, 'e.g. --dev /dev/rfcomm0');
        const opts = { mac, pin, channel, dev: flags.dev, scanTimeoutMs: scanTimeoutS * 1000, replyTimeoutMs: intFlag('reply-timeout', flags.replyTimeout, 100, 600_000) };
        if (flags.dryRun) {
          const plan = pairPlan(opts);
          out.result({ dryRun: true, ...plan }, () =>
            [
              'bluetoothctl        # then, at its prompt:',
              ...plan.bluetoothctl.map((c) => (c === pin ? `  ${c}                # typed at "[agent] Enter PIN code:"` : c === 'scan on' ? `  ${c}         # wait for "[NEW] Device ${mac} ..."` : `  ${c}`)),
              ...plan.shell.map((c) => `sudo ${c}`),
            ].join('\n'),
          );
          return;
        }
        const tools = { bluetoothctl: requireTool('bluetoothctl', env.ctx.env), rfcomm: requireTool('rfcomm', env.ctx.env) };
        out.info(`pairing ${mac} (scanning up to ${scanTimeoutS} s) ...`);
        const steps: PairStep[] = await pairHc05(tools, opts, env.ctx.env, (s) => out.step(s.skipped ? 'skip' : s.ok, s.step, s.detail), (t) =>
          t.split('\n').filter((l) => l.trim()).forEach((l) => out.detail(`bluetoothctl: ${l.trim()}`)),
        );
        out.result({ ok: true, mac, dev: flags.dev, channel, steps }, () => `${mac} is paired and bound to ${flags.dev}; next: epara serve --serial ${flags.dev}@9600`);
      }),
    );
}
