import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { requireServer } from '../server-client.js';
import { renderTable } from '../output.js';
import { serverOptions, type ServerFlags } from '../flags.js';

export function undeployCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('undeploy')
      .description('unload a service from the devices running it (all, or --to)')
      .argument('<service>', 'service name')
      .option('--to <ids>', 'only these device ids (comma-separated)'),
  )
    .addHelpText('after', '\nExamples:\n  epara undeploy classifier\n  epara undeploy classifier --to microcomputer-1,microcomputer-2')
    .action(
      action(ctx, exit, async (env, service: string, flags: ServerFlags & { to?: string }) => {
        const client = requireServer(env, flags);
        const q = flags.to ? `?to=${encodeURIComponent(flags.to)}` : '';
        const res = await client.request<Array<{ deviceId: string; ok: boolean; code?: string }>>('DELETE', `services/${encodeURIComponent(service)}${q}`);
        const out = env.out;
        out.result({ service, results: res }, () =>
          renderTable(res, [
            { header: 'DEVICE', value: (r) => r.deviceId },
            { header: 'RESULT', value: (r) => (r.ok ? 'unloaded' : `failed ${r.code ?? ''}`), paint: (c, r) => (r.ok ? out.c.green(c) : out.c.red(c)) },
          ], out.c) + `${service}: unloaded from ${res.filter((r) => r.ok).length}/${res.length} devices`,
        );
        return res.every((r) => r.ok) ? 0 : 1;
      }),
    );
}
