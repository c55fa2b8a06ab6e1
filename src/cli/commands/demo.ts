import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { usageError } from '../cli-error.js';
import { runDemo } from 'epara/emulation';

export function demoCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('demo')
    .description('run the README demo: a server and an emulated fleet in a temp dir — register, deploy real ONNX models, infer')
    .option('--devices <n>', 'emulated devices (1..12): microcomputer, embedded-gpu, gpu-server, then the Basys 3 FPGA over 9600-baud SPP', '4')
    .option('--seed <n>', 'seed for the demo\'s inputs and fleet', '7')
    .addHelpText('after', '\nNothing to set up: everything runs on 127.0.0.1 in a temporary directory that is removed at the end.\nExample:\n  epara demo --devices 4')
    .action(
      action(ctx, exit, async (env, flags: { devices: string; seed: string }) => {
        const devices = Number(flags.devices);
        const seed = Number(flags.seed);
        if (!Number.isInteger(devices) || devices < 1 || devices > 12) throw usageError('devices', `--devices ${flags.devices} must be 1..12`, 'e.g. --devices 3');
        if (!Number.isInteger(seed) || seed < 0) throw usageError('seed', `--seed ${flags.seed} must be a whole number`, 'e.g. --seed 7');
        return runDemo({ devices, seed, out: (line) => env.ctx.stdout.write(line + '\n') });
      }),
    );
}
