import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { requireServer } from '../server-client.js';
import { renderTable } from '../output.js';
import { serverOptions, type ServerFlags } from '../flags.js';

/** `cancelled`: an offer still waiting for the device (offline, or behind another transfer) was withdrawn. */
function result(r: { ok: boolean; code?: string; cancelled?: boolean }): string {
  if (r.code === 'deploy.busy') return `still transferring: run undeploy again once it settled (deploy.busy)${r.cancelled ? '; queued offers cancelled' : ''}`;
  if (!r.ok) return `pending ${r.code ?? ''} (sent again when the device is back)${r.cancelled ? '; queued offers cancelled' : ''}`;
  return r.cancelled ? 'queued offer cancelled (nothing had been loaded)' : 'unloaded';
}

export function undeployCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('undeploy')
      .description('unload a service from the devices running it and cancel its offers still queued for devices (all, or --to)')
      .argument('<service>', 'service name')
      .option('--to <ids>', 'only these device ids (comma-separated)'),
  )
    .addHelpText('after', '\nExamples:\n  epara undeploy classifier\n  epara undeploy classifier --to microcomputer-1,microcomputer-2')
    .action(
      action(ctx, exit, async (env, service: string, flags: ServerFlags & { to?: string }) => {
        const client = requireServer(env, flags);
        const q = flags.to ? `?to=${encodeURIComponent(flags.to)}` : '';
        const res = await client.request<Array<{ deviceId: string; ok: boolean; code?: string; cancelled?: boolean }>>('DELETE', `services/${encodeURIComponent(service)}${q}`);
        const out = env.out;
        out.result({ service, results: res }, () =>
          renderTable(res, [
            { header: 'DEVICE', value: (r) => r.deviceId },
            { header: 'RESULT', value: result, paint: (c, r) => (r.ok ? out.c.green(c) : out.c.red(c)) },
          ], out.c) + `${service}: unloaded from ${res.filter((r) => r.ok).length}/${res.length} devices`,
        );
        return res.every((r) => r.ok) ? 0 : 1;
      }),
    );
}
