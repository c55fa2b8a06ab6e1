import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { requireServer } from '../server-client.js';
import { renderTable } from '../output.js';
import type { DeploymentRecord } from '../../device-mgmt/registry/store.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import { ago, formatBytes } from '../format.js';

interface Flags extends ServerFlags {
  service?: string;
  device?: string;
  state?: string;
}

export function deploymentsCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('deployments')
      .description('list deployments recorded by the running server (one per device and version)')
      .option('--service <name>', 'only this service')
      .option('--device <id>', 'only this device')
      .option('--state <states>', 'only these states, comma-separated (offered, transferring, verifying, loading, ready, failed, rolled-back, undeployed)'),
  )
    .addHelpText('after', '\nExamples:\n  epara deployments\n  epara deployments --service classifier --state failed,rolled-back --json')
    .action(
      action(ctx, exit, async (env, flags: Flags) => {
        const out = env.out;
        const client = requireServer(env, flags);
        const q = new URLSearchParams();
        if (flags.service) q.set('service', flags.service);
        if (flags.device) q.set('deviceId', flags.device);
        if (flags.state) q.set('state', flags.state);
        const list = await client.request<DeploymentRecord[]>('GET', `deployments${q.size ? `?${q}` : ''}`);
        out.result(list, () =>
          list.length === 0
            ? 'no deployments'
            : renderTable(
                list,
                [
                  { header: 'ID', value: (d) => String(d.id), align: 'right' },
                  { header: 'DEVICE', value: (d) => d.deviceId, paint: (c) => out.c.bold(c) },
                  { header: 'SERVICE', value: (d) => d.service },
                  { header: 'VERSION', value: (d) => d.version },
                  { header: 'STATE', value: (d) => d.state, paint: (c, d) => (d.state === 'ready' ? out.c.green(c) : d.state === 'failed' || d.state === 'rolled-back' ? out.c.red(c) : c) },
                  { header: 'BYTES', value: (d) => `${formatBytes(d.offset)}/${formatBytes(d.size)}`, align: 'right' },
                  { header: 'UPDATED', value: (d) => ago(d.updatedAt) },
                  { header: 'ERROR', value: (d) => d.errorCode ?? '' },
                ],
                out.c,
              ),
        );
      }),
    );
}
