import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { usageError } from '../cli-error.js';
import { validateSettings, firmwareMajor } from '../hc05/at-protocol.js';
import { runHc05 } from '../hc05/run.js';

interface Hc05Flags {
  name?: string;
  pin?: string;
  baud?: string;
  role?: string;
  atBaud: string;
  timeout: string;
}

export function hc05Command(ctx: CliContext, exit: ExitState): Command {
  return new Command('hc05')
    .description('configure an HC-05 in AT mode over a USB-UART adapter (name, PIN, data baud, role), verifying every reply')
    .argument('<port>', 'serial port of the USB-UART adapter, e.g. /dev/ttyUSB0 (see `epara ports`)')
    .option('--name <name>', 'Bluetooth name (AT+NAME=)')
    .option('--pin <digits>', 'pairing PIN (AT+PSWD=; quoted automatically on v3 firmware)')
    .option('--baud <rate>', 'data-mode UART rate (AT+UART=<rate>,0,0); the Basys 3 bitstream runs at 9600 (`make bit`) unless built with BAUD=115200')
    .option('--role <role>', 'slave | master | slave-loop (AT+ROLE=)')
    .option('--at-baud <rate>', 'UART rate of AT mode (38400 in full AT mode; the data rate in "mini" AT mode)', '38400')
    .option('--timeout <ms>', 'reply timeout per command', '1500')
    .addHelpText(
      'after',
      `
Full AT mode: hold the HC-05 button (or EN/KEY high) while applying power; the LED blinks slowly.
Without setting flags it only checks the link and prints the firmware version and Bluetooth address.
Examples:
  epara hc05 /dev/ttyUSB0
  epara hc05 /dev/ttyUSB0 --name FPGA-EDGE --pin 4821 --baud 9600 --role slave    # the default Basys 3 bitstream`,
    )
    .action(
      action(ctx, exit, async (env, port: string, flags: Hc05Flags) => {
        const out = env.out;
        const settings = validateSettings(flags);
        const atBaud = Number(flags.atBaud);
        if (!Number.isInteger(atBaud) || atBaud < 1200 || atBaud > 1_382_400) throw usageError('at-baud', `--at-baud ${flags.atBaud} is not a baud rate`, 'full AT mode is always 38400');
        const timeoutMs = Number(flags.timeout);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) throw usageError('timeout', `--timeout ${flags.timeout} must be 100..60000 ms`, 'the default 1500 ms suits every HC-05 seen so far');
        const res = await runHc05(out, port, settings, { atBaud, timeoutMs });
        const major = firmwareMajor(res.version);
        out.result({ ok: true, port, version: res.version, firmwareMajor: major, address: res.address, mac: res.mac, applied: settings.pin ? { ...settings, pin: '****' } : settings, exchanges: res.exchanges }, () => {
          const lines = [`HC-05 on ${port}: firmware ${res.version ?? 'unknown'}, address ${res.mac ?? res.address ?? 'unknown'}`];
          if (Object.keys(settings).length) lines.push('settings applied and read back; power-cycle the module without the button to return to data mode');
          if (res.mac) lines.push(`next: epara pair ${res.mac}${settings.pin ? ' --pin <the PIN you set>' : ''}`);
          return lines.join('\n');
        });
      }),
    );
}
