import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { CliError } from '../cli-error.js';
import { humanize } from '../human-errors.js';
import { parseBitHeader, type BitstreamHeader } from '../bitstream.js';
import { requireTool, runTool } from '../external-tools.js';
import { stripAnsi } from '../output.js';

interface FlashOptions {
  flash?: boolean;
  verify?: boolean;
  board: string;
  force?: boolean;
  dryRun?: boolean;
}

// The Basys 3 carries an XC7A35T in the CPG236 package; Vivado writes the part as "7a35tcpg236".
const BASYS3_PART = /^(xc)?7a35tcpg236/i;

/** openFPGALoader's argument list: SRAM (volatile) unless --flash. */
export function flashArgs(file: string, o: Pick<FlashOptions, 'flash' | 'verify' | 'board'>): string[] {
  return ['-b', o.board, ...(o.flash ? ['-f'] : []), ...(o.flash && o.verify ? ['--verify'] : []), file];
}

/** Map openFPGALoader's failure output to an error a person can act on. Pure. */
export function explainFlashFailure(text: string, code: number | null): CliError {
  const t = stripAnsi(text);
  if (/unable to open ftdi device: -3|device not found/i.test(t)) {
    return new CliError({
      code: 'cli.flash_no_board',
      reason: 'openFPGALoader found no Basys 3 on USB (FTDI device not found)',
      hint: 'connect the board\'s PROG/UART micro-USB port and switch it on; `lsusb` should show 0403:6010 (Digilent FT2232)',
      details: { exitCode: code },
    });
  }
  if (/unable to open ftdi device: -(4|8)|LIBUSB_ERROR_ACCESS|usb_open\(\) failed|Permission denied/i.test(t)) {
    return new CliError({
      code: 'cli.flash_permission',
      reason: 'openFPGALoader may not open the USB device (permission denied)',
      hint: 'the openfpgaloader package installs udev rules: run `sudo udevadm control --reload && sudo udevadm trigger`, re-plug the board, and make sure you are in group plugdev',
      details: { exitCode: code },
    });
  }
  if (/cannot find board/i.test(t)) {
    return new CliError({
      code: 'cli.flash_board',
      reason: `openFPGALoader does not know this board: ${firstLine(t, /cannot find board/i)}`,
      hint: 'list the supported names with `openFPGALoader --list-boards` (the Basys 3 is `basys3`)',
      details: { exitCode: code },
    });
  }
  if (/spiOverJtag|bridge/i.test(t) && /not found|fail/i.test(t)) {
    return new CliError({
      code: 'cli.flash_bridge',
      reason: 'openFPGALoader could not load its SPI-over-JTAG bridge for the flash write',
      hint: 'reinstall the package (`sudo apt-get install --reinstall openfpgaloader`): it ships spiOverJtag_xc7a35tcpg236.bit.gz',
      details: { exitCode: code },
    });
  }
  const last = t.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? `exit code ${code}`;
  return new CliError({
    code: 'cli.flash_failed',
    reason: `openFPGALoader failed: ${last}`,
    hint: 'run again with --verbose to see its full output; `openFPGALoader -b basys3 --detect` checks the cable and FPGA',
    details: { exitCode: code },
  });
}

function firstLine(t: string, re: RegExp): string {
  return t.split('\n').find((l) => re.test(l))?.trim() ?? '';
}

export function flashCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('flash')
    .description('program a Basys 3 with openFPGALoader (SRAM by default: lost at power-off; --flash writes the SPI flash)')
    .argument('<bitstream.bit>', 'the .bit file Vivado wrote (`make -C hdl/basys3 bit`: hdl/basys3/build/basys3_top.bit)')
    .option('--flash', 'write the SPI flash (persistent; the board boots from it with JP1 on QSPI)')
    .option('--verify', 'with --flash: read the flash back and compare')
    .option('--board <name>', 'openFPGALoader board name', 'basys3')
    .option('--force', 'program even when the .bit header names another FPGA part')
    .option('--dry-run', 'print the openFPGALoader command and exit')
    .addHelpText(
      'after',
      `
Needs openFPGALoader on PATH (Debian/Ubuntu: sudo apt-get install openfpgaloader).
Examples:
  make -C hdl/basys3 bit                                  # Vivado: hdl/basys3/build/basys3_top.bit
  epara flash hdl/basys3/build/basys3_top.bit             # openFPGALoader -b basys3 <that file>
  epara flash hdl/basys3/build/basys3_top.bit --flash     # openFPGALoader -b basys3 -f <that file>`,
    )
    .action(
      action(ctx, exit, async (env, file: string, opts: FlashOptions) => {
        const out = env.out;
        const path = resolve(env.ctx.cwd, file);
        if (opts.verify && !opts.flash) {
          throw new CliError({ code: 'cli.usage', reason: '--verify only applies to --flash', hint: 'add --flash, or drop --verify', field: 'verify', usage: true });
        }
        let header: BitstreamHeader | undefined;
        let bytes: Uint8Array;
        try {
          if (!statSync(path).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT', path });
          bytes = readFileSync(path);
        } catch (e) {
          throw humanize(e, { path });
        }
        if (path.toLowerCase().endsWith('.bit')) {
          header = parseBitHeader(bytes, file);
          out.step(true, 'bitstream', `${header.design.split(';')[0]} for ${header.part}, ${header.date} ${header.time}, ${header.dataLength} bytes`);
          if (opts.board === 'basys3' && !BASYS3_PART.test(header.part) && !opts.force) {
            throw new CliError({
              code: 'cli.bitstream_part',
              reason: `${file} was built for ${header.part}, but a Basys 3 carries an xc7a35tcpg236`,
              hint: 'rebuild for part xc7a35tcpg236-1, or pass --force if you really mean it',
              field: 'bitstream',
              details: { part: header.part },
            });
          }
        }
        const args = flashArgs(path, opts);
        if (opts.dryRun) {
          const cmd = ['openFPGALoader', ...args];
          out.result({ dryRun: true, command: cmd, target: opts.flash ? 'flash' : 'sram', header }, () => cmd.join(' '));
          return;
        }
        const tool = requireTool('openFPGALoader', env.ctx.env);
        out.step(true, 'openFPGALoader', tool);
        out.info(`programming ${opts.flash ? 'SPI flash' : 'SRAM'} of ${opts.board} ...`);
        // openFPGALoader draws its progress bars with \r on stderr; pass them through on a terminal.
        const passThrough = out.stderrIsTTY && !out.quiet && !out.json;
        const res = await runTool(tool, args, {
          env: env.ctx.env,
          timeoutMs: opts.flash ? 600_000 : 120_000,
          onStderr: passThrough ? (d) => out.stderr.write(d) : undefined,
          onStdout: passThrough ? (d) => out.stderr.write(d) : undefined,
        });
        const all = res.stdout + '\n' + res.stderr;
        for (const line of stripAnsi(all).split('\n').map((l) => l.trim()).filter(Boolean)) out.detail(`openFPGALoader: ${line}`);
        if (res.code !== 0) throw explainFlashFailure(all, res.code);
        const done = /\bDone\b|DONE/.test(all);
        out.step(done, opts.flash ? 'SPI flash written' : 'SRAM loaded', done ? '' : 'openFPGALoader exited 0 without reporting Done');
        out.result({ ok: true, target: opts.flash ? 'flash' : 'sram', board: opts.board, file: path, command: ['openFPGALoader', ...args], header }, () =>
          opts.flash ? `flashed ${file} to the ${opts.board} SPI flash (set JP1 to QSPI to boot from it)` : `loaded ${file} into the ${opts.board} SRAM (lost at power-off; use --flash to keep it)`,
        );
      }),
    );
}
