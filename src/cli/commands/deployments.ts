import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action, type CommandEnv } from '../command-env.js';
import { eventLine } from '../event-lines.js';
import { watchTable } from '../event-watch.js';
import { requireServer } from '../server-client.js';
import { renderTable, type Output } from '../output.js';
import type { DeploymentRecord } from '../../device-mgmt/registry/store.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import { ago, formatBytes } from '../format.js';

interface Flags extends ServerFlags {
  service?: string;
  device?: string;
  state?: string;
  watch?: boolean;
}

export function deploymentsCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('deployments')
      .description('list deployments recorded by the running server (one per device and version)')
      .option('--service <name>', 'only this service')
      .option('--device <id>', 'only this device')
      .option('--state <states>', 'only these states, comma-separated (offered, transferring, verifying, loading, ready, failed, rolled-back, undeployed)')
      .option('--watch', 'then follow the deployments live: progress per device and each result with its reason and hint (Ctrl-C stops; with --json one event per line)'),
  )
    .addHelpText('after', '\nExamples:\n  epara deployments\n  epara deployments --service classifier --state failed,rolled-back --json\n  epara deployments --watch')
    .action(
      action(ctx, exit, async (env, flags: Flags) => {
        const out = env.out;
        const client = requireServer(env, flags);
        const q = new URLSearchParams();
        if (flags.service) q.set('service', flags.service);
        if (flags.device) q.set('deviceId', flags.device);
        if (flags.state) q.set('state', flags.state);
        const path = `deployments${q.size ? `?${q}` : ''}`;
        if (flags.watch) return watchDeployments(env, flags, path);
        const list = await client.request<DeploymentRecord[]>('GET', path);
        out.result(list, () => deploymentsTable(out, list));
      }),
    );
}

function deploymentsTable(out: Output, list: DeploymentRecord[]): string {
  return list.length === 0
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
      );
}

/** Whether a live deployment event passes the command's filters. */
function wanted(flags: Flags, d: { deviceId: string; service: string; state: string }): boolean {
  return (!flags.device || d.deviceId === flags.device) && (!flags.service || d.service === flags.service) && (!flags.state || flags.state.split(',').includes(d.state));
}

/** `deployments --watch`: the table, then progress and results live; the table again after a gap. */
async function watchDeployments(env: CommandEnv, flags: Flags, path: string): Promise<void> {
  const out = env.out;
  const locate = () => requireServer(env, flags);
  const table = async () => {
    const list = await locate().request<DeploymentRecord[]>('GET', path);
    if (!out.json) out.result(list, () => deploymentsTable(out, list));
  };
  await watchTable(env, locate, {
    kinds: ['deployment'],
    table,
    onEvent: async (e) => {
      if (e.kind === 'stream.gap') {
        if (out.json) out.stdout.write(JSON.stringify(e) + '\n');
        else out.stdout.write(eventLine(e, out.c) + '\n');
        return table();
      }
      if ((e.kind !== 'deployment.progress' && e.kind !== 'deployment.result') || !wanted(flags, e.data)) return;
      out.stdout.write((out.json ? JSON.stringify(e) : eventLine(e, out.c)) + '\n');
    },
  });
}
