import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { simCommand } from '../../sim/cli-entry.js';

interface SimFlags {
  trace?: string;
  azureTrace?: string;
  traceWindow?: string;
  windows?: string;
  capacitySteps?: string;
  out?: string;
  seed?: string;
  devices?: string;
  policies?: string;
  loads?: string;
  duration?: string;
  scenario?: string;
  cameras?: string;
  hdCameras?: string;
  kneeSteps?: string;
  llmBatching?: string;
  workers?: string;
}

/** Thin commander wrapper: option parsing and the run itself live in src/sim/cli-entry.ts. */
export function simCliCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('sim')
    .description('run the scheduling simulator (virtual time, no sockets): every policy over a sweep of loads')
    .option('--trace <file>', 'your own workload file (epara-workload v1 CSV: time_ms,service,size,deadline_ms,flow,ingress; docs/scheduling.md §5) instead of the Azure LLM trace and the scenario\'s cameras; --scenario, --cameras, --hd-cameras, --duration and the Azure flags are refused with it')
    .option('--azure-trace <file>', 'a file of the Azure LLM inference trace format (TIMESTAMP,ContextTokens,GeneratedTokens: the 2023 conv and code files, the 2024 week-long ones) for the chat services, sized from that file (default: data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv)')
    .option('--trace-window <start:end>', 'seconds of the Azure trace to replay (end may be left out: the trace end); a run needing more replays the window again')
    .option('--windows <n>', 'cut the trace (or --trace-window) into n disjoint windows, a sweep each; reports each, the mean and the worst')
    .option('--capacity-steps <n>', 'bisection steps of each policy\'s SLO capacity search (highest load with every service ≥ 90% / ≥ 99%)', '4')
    .option('--out <dir>', 'where results.csv, capacity.json and goodput.svg go', 'sim-out')
    .option('--seed <n>', 'random seed')
    .option('--devices <n>', 'simulated devices')
    .option('--policies <a,b>', 'policies to compare (default: all)')
    .option('--loads <x,y>', 'offered-load factors, e.g. 0.5,1,2,4')
    .option('--duration <s>', 'simulated seconds per run')
    .option('--scenario <name>', 'workload mix on the default fleet: mixed (default; a few cameras and a chat assistant), llm-heavy (mostly the chat assistant) or camera-heavy (8 + 2 cameras per site); refused with --trace')
    .option('--cameras <n>', 'seg-cam cameras (5 fps) per site at load ×1, overriding the scenario\'s (mixed 2, llm-heavy 0.25, camera-heavy 8)')
    .option('--hd-cameras <n>', 'seg-hd cameras (2 fps) per site at load ×1, overriding the scenario\'s (mixed 1, llm-heavy 0.25, camera-heavy 2)')
    .option('--knee-steps <n>', 'bisection steps that refine the knee (first load where the best baseline is below 90% SLO attainment) between the grid loads around it; each step runs every policy once more (0: grid only)', '3')
    .option('--llm-batching <mode>', 'how simulated devices batch LLM requests, every policy alike: request (default; a batch holds its slot until its longest request is done) or continuous (iteration-level, as vLLM / Orca)')
    .option('--workers <n>', 'runs at a time, each in a worker process (default: one per core; 0: all in this process); the results do not depend on it')
    .addHelpText('after', '\nExamples:\n  epara sim\n  epara sim --loads 1,2,4 --policies epara,round-robin --seed 3 --out /tmp/sim\n  epara sim --scenario camera-heavy --loads 2,3,4\n  epara sim --cameras 6 --loads 1,2,3,4\n  epara sim --azure-trace data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv --scenario llm-heavy --duration 240 --windows 3\n  epara sim --devices 2000 --duration 3600 --loads 1 --policies epara,round-robin --workers 2')
    .action(
      action(ctx, exit, async (env, flags: SimFlags) => {
        const out = resolveOut(env.ctx.cwd, flags.out);
        const json = env.out.json;
        const code = await simCommand({
          ...flags,
          out,
          // With --json the tables go to stderr and stdout gets capacity.json with results.csv's rows as `runs`.
          print: (l) => (json ? env.ctx.stderr : env.ctx.stdout).write(l + '\n'),
          printError: (l) => {
            if (!env.out.quiet) env.ctx.stderr.write(l + '\n');
          },
        });
        if (json && code === 0) {
          const summary = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8')) as Record<string, unknown>;
          env.out.result({ ...summary, runs: csvRows(readFileSync(join(out, 'results.csv'), 'utf8')) }, () => '');
        }
        return code;
      }),
    );
}

/** results.csv → objects; numeric cells become numbers. */
export function csvRows(text: string): Array<Record<string, string | number>> {
  const [head, ...rows] = text.trim().split('\n');
  const keys = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v !== '' && Number.isFinite(Number(v)) ? Number(v) : v])));
}

function resolveOut(cwd: string, out: string | undefined): string {
  const dir = out ?? 'sim-out';
  return dir.startsWith('/') ? dir : `${cwd}/${dir}`;
}
