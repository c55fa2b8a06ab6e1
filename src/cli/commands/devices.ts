import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action, type CommandEnv } from '../command-env.js';
import { openRegistry, type RegistryAccess } from '../registry-access.js';
import { renderTable, type Output, type Palette } from '../output.js';
import { eventLine } from '../event-lines.js';
import { watchTable } from '../event-watch.js';
import { requireServer } from '../server-client.js';
import type { DeviceInfo } from '../../server-adapter/events.js';
import { CliError } from '../cli-error.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import { ago } from '../format.js';

function paintState(c: Palette, state: string): string {
  if (state === 'active' || state === 'registered') return c.green(state);
  if (state === 'degraded' || state === 'pending' || state === 'authenticating') return c.yellow(state);
  if (state === 'revoked' || state === 'rejected' || state === 'lost') return c.red(state);
  return c.dim(state);
}

async function withRegistry<T>(env: CommandEnv, flags: ServerFlags, fn: (r: RegistryAccess) => Promise<T>): Promise<T> {
  const reg = await openRegistry(env, flags);
  try {
    return await fn(reg);
  } finally {
    await reg.close();
  }
}

function notFound(id: string): CliError {
  return new CliError({ code: 'registry.unknown_device', reason: `no device ${id} in the registry`, hint: 'list devices with `epara devices`', field: 'id' });
}

function devicesTable(out: Output, rows: DeviceInfo[], pending: boolean): string {
  if (rows.length === 0) return pending ? 'no devices waiting for approval' : 'no devices yet: provision one with `epara register <id> --class <class>`';
  return renderTable<DeviceInfo>(
    rows,
    [
      { header: 'ID', value: (d) => d.id, paint: (s) => out.c.bold(s) },
      { header: 'CLASS', value: (d) => d.deviceClass },
      { header: 'NAME', value: (d) => (d.name === d.id ? '' : d.name) },
      { header: 'STATUS', value: (d) => d.status, paint: (s, d) => (d.status === 'active' ? s : paintState(out.c, s.trim()) + ' '.repeat(s.length - s.trim().length)) },
      { header: 'SESSION', value: (d) => d.state, paint: (s, d) => paintState(out.c, d.state) + ' '.repeat(s.length - d.state.length) },
      { header: 'LAST SEEN', value: (d) => (d.state !== 'offline' ? 'now' : ago(d.lastSeenAt)) },
      { header: 'LINK', value: (d) => d.remote ?? d.lastRemote ?? '' },
    ],
    out.c,
  );
}

/** The audit rows `devices --watch` shows: a device appearing in the registry (sessions come as device.* events). */
const REGISTRY_CHANGES = new Set(['device.provisioned', 'device.approved', 'device.enrolled']);

/**
 * `devices --watch`: the table from the running server, then one line per live event (GET
 * /events); after a gap in the stream (a server restart, or too long away) the table again.
 */
async function watchDevices(env: CommandEnv, flags: ServerFlags & { pending?: boolean }): Promise<void> {
  const out = env.out;
  const locate = () => requireServer(env, flags);
  const table = async () => {
    const list = await locate().request<DeviceInfo[]>('GET', 'devices');
    if (!out.json) out.result(list, () => devicesTable(out, flags.pending ? list.filter((d) => d.status === 'pending') : list, flags.pending === true));
  };
  await watchTable(env, locate, {
    kinds: ['device', 'audit'],
    table,
    onEvent: async (e) => {
      if (e.kind === 'audit' && !REGISTRY_CHANGES.has(e.data.event)) return;
      if (out.json) return void out.stdout.write(JSON.stringify(e) + '\n');
      const line = eventLine(e, out.c);
      if (line) out.stdout.write(line + '\n');
      if (e.kind === 'stream.gap') await table();
    },
  });
}

export function devicesCommand(ctx: CliContext, exit: ExitState): Command {
  const devices = new Command('devices').description('list, inspect, remove and approve devices (`epara devices` = `epara devices ls`)').addHelpText(
    'after',
    `
Examples:
  epara devices
  epara devices show fpga-01 --json
  epara devices approve pico-07        # a device that enrolled itself (serve --open-enrolment)
  epara devices rm fpga-01             # revoke: its session ends, its key stops working`,
  );

  devices.addCommand(
    serverOptions(new Command('ls').description('table of devices: class, registry status, session state, last seen'))
      .option('--pending', 'only devices waiting for approval')
      .option('--watch', 'then follow the running server live: devices registering, degrading, coming back, lost, revoked, and their STATE (Ctrl-C stops; with --json one event per line)')
      .addHelpText('after', '\nExamples:\n  epara devices ls --json | jq -r \'.[] | select(.state=="active") | .id\'\n  epara devices --watch')
      .action(
        action(ctx, exit, async (env, flags: ServerFlags & { pending?: boolean; watch?: boolean }) => {
          const out = env.out;
          if (flags.watch) return watchDevices(env, flags);
          const list = await withRegistry(env, flags, (r) => r.devices());
          const rows = flags.pending ? list.filter((d) => d.status === 'pending') : list;
          out.result(rows, () => devicesTable(out, rows, flags.pending === true));
        }),
      ),
    { isDefault: true },
  );

  devices.addCommand(
    serverOptions(new Command('show').description('everything known about one device').argument('<id>', 'device id')).action(
      action(ctx, exit, async (env, id: string, flags: ServerFlags) => {
        const out = env.out;
        const d = await withRegistry(env, flags, (r) => r.device(id));
        if (!d) throw notFound(id);
        out.result(d, () => {
          const rows: Array<[string, string]> = [
            ['id', d.id],
            ['name', d.name],
            ['class', d.deviceClass],
            ['status', d.status],
            ['session', d.state],
            ['created', new Date(d.createdAt).toISOString()],
            ['last seen', d.state !== 'offline' ? 'now' : ago(d.lastSeenAt)],
          ];
          if (d.remote ?? d.lastRemote) rows.push(['link', (d.remote ?? d.lastRemote)!]);
          if (d.firmware) rows.push(['firmware', d.firmware]);
          if (d.caps) rows.push(['capabilities', JSON.stringify(d.caps)]);
          if (d.view) rows.push(['state', JSON.stringify(d.view)]);
          const w = Math.max(...rows.map((r) => r[0].length));
          return rows.map(([k, v]) => `${out.c.dim(k.padEnd(w))}  ${v}`).join('\n');
        });
      }),
    ),
  );

  devices.addCommand(
    serverOptions(new Command('rm').alias('revoke').description('revoke a device: its session ends and its key no longer authenticates').argument('<id>', 'device id')).action(
      action(ctx, exit, async (env, id: string, flags: ServerFlags) => {
        const res = await withRegistry(env, flags, async (r) => {
          if (!(await r.device(id))) throw notFound(id);
          await r.revoke(id);
          return { id, status: 'revoked' as const, via: r.via };
        });
        env.out.result(res, () => `revoked ${id}; it can no longer authenticate (register the board again under a new id to bring it back)`);
      }),
    ),
  );

  devices.addCommand(
    serverOptions(
      new Command('approve')
        .description('approve a device that enrolled itself; prints its new key once (or adopts the one given with --key)')
        .argument('<id>', 'device id')
        .option('--key <hex>', 'the key the board already has (e.g. printed on its label): it connects without being touched'),
    ).action(
      action(ctx, exit, async (env, id: string, flags: ServerFlags & { key?: string }) => {
        const out = env.out;
        const res = await withRegistry(env, flags, async (r) => ({ ...(await r.approve(id, flags.key)), via: r.via }));
        out.result(res, () =>
          flags.key
            ? `approved ${id} with the key it already has; it authenticates on its next attempt`
            : [`approved ${id}`, `key: ${res.key}`, out.c.yellow('store this key on the device now: it is not shown again')].join('\n'),
        );
      }),
    ),
  );
  return devices;
}
