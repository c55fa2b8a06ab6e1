import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { requireServer } from '../server-client.js';
import { renderTable } from '../output.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import { ago } from '../format.js';
import type { PlacementView } from '../../server-adapter/live-scheduler.js';

/** A unit as one cell: `classifier ×2 b4 50%`, a pipeline stage as `llm stage 1/2`. */
export function unitText(u: PlacementView['devices'][number]['units'][number]): string {
  const parts = [u.service];
  if (u.stages !== undefined && u.stage !== undefined) parts.push(`stage ${u.stage + 1}/${u.stages}`);
  if (u.replicas !== undefined) parts.push(`×${u.replicas}`);
  if (u.batch !== undefined) parts.push(`b${u.batch}`);
  if (u.share !== undefined && u.share < 1) parts.push(`${Math.round(u.share * 100)}%`);
  return parts.join(' ');
}

export function placementCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('placement').description("the scheduler's current plan: version, when it was made, planning time, and each device's units"),
  )
    .addHelpText('after', '\nA unit reads: service, pipeline stage i/k (split models), ×replicas of the service, bN batch size, share of the device.\nExamples:\n  epara placement\n  epara placement --json')
    .action(
      action(ctx, exit, async (env, flags: ServerFlags) => {
        const out = env.out;
        const p = await requireServer(env, flags).request<PlacementView>('GET', 'placement');
        out.result(p, () => {
          if (p.scheduler === 'off') return 'scheduler off (epara serve --scheduler off): requests go to the least-loaded ready device, nothing is placed';
          const head = p.madeAt === null ? `scheduler ${p.scheduler}: no plan yet (the first placement runs one period after start)` : `scheduler ${p.scheduler}: plan ${p.planVersion}, made ${ago(p.madeAt)}, planning took ${p.planningMs} ms`;
          const table = renderTable(p.devices, [
            { header: 'DEVICE', value: (d) => d.id, paint: (c) => out.c.bold(c) },
            { header: 'UNITS', value: (d) => (d.units.length ? d.units.map(unitText).join(', ') : '-') },
          ], out.c);
          return `${head}\n${table}`;
        });
      }),
    );
}
