import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { CliError, usageError } from '../cli-error.js';
import { requireServer } from '../server-client.js';
import { readRuntime } from '../server-runtime.js';
import { parseHostPort } from '../serve/link-flags.js';
import { StatusLine } from '../serve/status-line.js';
import { parseFleetSpec, planFleet, startFleet, PROFILE_NAMES, type Fleet } from 'epara/emulation';
import type { DeviceClass } from '../../protocol/index.js';
import { EparaError } from '../../errors.js';
import { serverOptions, type ServerFlags } from '../flags.js';
import { isDeviceProfileName } from '../profiles.js';

interface FleetFlags extends ServerFlags {
  devices: string;
  deviceProfile?: string;
  seed: string;
  timeScale: string;
  idPrefix: string;
  connect?: string;
}

const DEFAULT_FLEET = 'microcomputer:2,embedded-gpu:1,gpu-server:1';

/** `--devices 4 --profile mcu` or `--devices "microcomputer:2,gpu-server:1"`. */
export function fleetSpec(devices: string, profile: string | undefined): string {
  if (/^\d+$/.test(devices)) {
    const n = Number(devices);
    if (n < 1 || n > 1000) throw usageError('devices', `--devices ${devices} must be 1..1000`, 'e.g. --devices 4');
    if (profile) return `${profile}:${n}`;
    // Without a profile, cycle through the default mix so a small fleet is still heterogeneous.
    const cycle = ['microcomputer', 'embedded-gpu', 'gpu-server'];
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) counts.set(cycle[i % cycle.length]!, (counts.get(cycle[i % cycle.length]!) ?? 0) + 1);
    return [...counts].map(([p, c]) => `${p}:${c}`).join(',');
  }
  if (profile) throw usageError('device-profile', '--device-profile only goes with a numeric --devices', 'e.g. --devices 3 --device-profile mcu, or --devices "mcu:3,gpu-server:1"');
  return devices;
}

export function fleetCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('fleet')
      .description('start emulated devices (firmware-sims) that register with and connect to a running server')
      .option('--devices <n|spec>', `how many, or a spec like "microcomputer:2,gpu-server:1" (profiles: ${PROFILE_NAMES.join(', ')})`, DEFAULT_FLEET)
      .option('--device-profile <name>', `emulator profile for a numeric --devices (${PROFILE_NAMES.join(', ')}); --profile <one of them> works too`)
      .option('--seed <n>', 'seed for ids, jitter and injected faults (same seed, same fleet)', '1')
      .option('--time-scale <x>', 'multiply the profiles\' modelled service times (0 = as fast as this host)', '1')
      .option('--id-prefix <prefix>', 'prefix for device ids (ids are <prefix><profile>-<n>)', '')
      .option('--connect <host:port>', 'server TCP address for the devices (default: the running serve\'s first --tcp)'),
  )
    .addHelpText(
      'after',
      `
Each device is provisioned through the server's HTTP API on first run; its key is kept in
<data dir>/fleet/keys.json so the same fleet reconnects (and resumes deployments) next time.
Runs until Ctrl-C.
Examples:
  epara fleet
  epara fleet --devices 6 --device-profile microcomputer --seed 42
  epara fleet --devices "fpga:1,mcu:2,gpu-server:1" --time-scale 0`,
    )
    .action(
      action(ctx, exit, async (env, flags: FleetFlags) => {
        const out = env.out;
        // `--profile mcu` is the program's connection-profile flag, but a device class there has always meant the emulator profile.
        const global = env.flags.profile;
        const spec = fleetSpec(flags.devices, flags.deviceProfile ?? (global && isDeviceProfileName(global) ? global : undefined));
        const seed = Number(flags.seed);
        const timeScale = Number(flags.timeScale);
        if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw usageError('seed', `--seed ${flags.seed} must be a whole number 0..4294967295`, 'e.g. --seed 42');
        if (!Number.isFinite(timeScale) || timeScale < 0 || timeScale > 1000) throw usageError('time-scale', `--time-scale ${flags.timeScale} must be 0..1000`, '1 = the hardware\'s pace, 0 = as fast as possible');
        let groups;
        try {
          groups = parseFleetSpec(spec);
        } catch (e) {
          if (e instanceof EparaError) throw usageError('devices', e.reason, e.hint);
          throw e;
        }
        const client = requireServer(env, flags);
        const dataDir = env.dataDir();
        const target = flags.connect ? parseHostPort('connect', flags.connect) : serverTcp(dataDir);
        const fleetDir = join(dataDir, 'fleet');
        mkdirSync(fleetDir, { recursive: true, mode: 0o700 });
        const keysFile = join(fleetDir, 'keys.json');
        const keys: Record<string, string> = existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string>) : {};
        const provision = async (id: string, deviceClass: DeviceClass) => {
          if (keys[id]) return { id, key: keys[id]! };
          try {
            const r = await client.request<{ id: string; key: string }>('POST', 'devices', { id, deviceClass, name: `emulated ${deviceClass}` });
            keys[id] = r.key;
            writeFileSync(keysFile, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
            return r;
          } catch (e) {
            if (e instanceof EparaError && e.code === 'registry.duplicate') {
              throw new CliError({ code: 'registry.duplicate', reason: `device ${id} is already registered and this data dir has no key for it`, hint: 'use another --id-prefix (or --seed), or remove it with `epara devices rm ' + id + '`' });
            }
            throw e;
          }
        };
        const plan = planFleet(groups, seed, flags.idPrefix);
        out.info(`starting ${plan.length} emulated devices against ${target.host}:${target.port} (seed ${seed}, time scale ${timeScale})`);
        let booted = 0;
        const status = new StatusLine(out, () => `${out.e.green('●')} fleet: ${booted}/${plan.length} devices booted · Ctrl-C stops`);
        let fleet: Fleet | undefined;
        try {
          fleet = await startFleet({
            devices: groups,
            server: target,
            provision,
            dataDir: fleetDir,
            seed,
            idPrefix: flags.idPrefix,
            timeScale,
            concurrency: 2,
            onDevice: (d) => {
              booted++;
              status.log(`${d.id}  ${d.profile.description}`);
            },
          });
        } catch (e) {
          await fleet?.close({ graceful: false });
          if (e instanceof EparaError && (e.code === 'auth.bad_mac' || e.code === 'auth.unknown_device' || e.code === 'auth.revoked')) {
            throw new CliError({
              code: e.code,
              reason: `an emulated device was refused: ${e.reason}`,
              hint: `the keys in ${keysFile} do not match the server's registry (was its data dir reset?): delete that file, or start the fleet with another --id-prefix`,
              cause: e,
            });
          }
          throw e;
        }
        status.start();
        out.result({ ok: true, devices: plan.map((p) => ({ id: p.id, profile: p.profile })), server: target }, () => '');
        const reason = await new Promise<string>((resolve) => {
          if (env.ctx.signal?.aborted) return resolve('abort');
          env.ctx.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
          if (env.ctx.handleSignals) {
            process.once('SIGINT', () => resolve('SIGINT'));
            process.once('SIGTERM', () => resolve('SIGTERM'));
          }
        });
        status.stop();
        out.info(`${reason}: stopping the fleet (BYE to the server) ...`);
        await fleet.close({ graceful: true });
        out.info('fleet stopped');
      }),
    );
}

function serverTcp(dataDir: string): { host: string; port: number } {
  const rt = readRuntime(dataDir);
  const tcp = rt?.links.find((l) => l.startsWith('tcp '));
  if (!tcp) throw new CliError({ code: 'cli.server_no_tcp', reason: 'the running server has no TCP listener for the fleet to connect to', hint: 'start it with `epara serve --tcp 127.0.0.1:7878`, or pass --connect host:port' });
  const hp = parseHostPort('connect', tcp.slice(4));
  return { host: hp.host === '0.0.0.0' ? '127.0.0.1' : hp.host, port: hp.port };
}
