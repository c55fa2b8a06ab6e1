import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { requireServer } from '../server-client.js';
import { renderTable } from '../output.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import type { ServiceView } from '../../server-adapter/live-scheduler.js';

const fixed = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '-' : v.toFixed(d));

export function servicesCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('services').description('per service: category, SLO, declared and measured demand, learned service time per device class, goodput, SLO attainment and p99 over the last minute'),
  )
    .addHelpText('after', '\nServices are declared by deploying them (epara deploy … --category C --slo-ms N); service times are learned from the devices\' answers.\nExamples:\n  epara services\n  epara services --json')
    .action(
      action(ctx, exit, async (env, flags: ServerFlags) => {
        const out = env.out;
        const list = await requireServer(env, flags).request<ServiceView[]>('GET', 'services');
        out.result(list, () =>
          list.length === 0
            ? 'no services deployed (epara deploy <model> --service NAME --category latency-single --to all)'
            : renderTable(list, [
                { header: 'SERVICE', value: (s) => s.service, paint: (c) => out.c.bold(c) },
                { header: 'CATEGORY', value: (s) => s.category },
                { header: 'SLO', value: (s) => `${fixed(s.sloMs, 0)} ms${s.fps !== undefined ? ` @${s.fps} fps` : ''}` },
                { header: 'DEMAND', value: (s) => `${s.declaredRps !== null ? `${fixed(s.declaredRps)} declared` : `${fixed(s.measuredRps)} measured`} → ${fixed(s.plannedRps)}/s`, align: 'right' },
                { header: 'SERVICE TIME', value: (s) => Object.entries(s.serviceTimeMs).map(([c, ms]) => `${c} ${fixed(ms, 2)} ms`).join(', ') || 'not measured yet' },
                { header: 'GOODPUT', value: (s) => `${fixed(s.goodputRps, 2)}/s`, align: 'right' },
                { header: 'ATTAIN', value: (s) => (s.attainment === null ? '-' : `${(s.attainment * 100).toFixed(1)}%`), align: 'right' },
                { header: 'P99', value: (s) => (s.p99Ms === null ? '-' : `${fixed(s.p99Ms)} ms`), align: 'right' },
              ], out.c),
        );
      }),
    );
}
