import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceClass } from '../../protocol/index.js';
import { CommandEnv } from '../command-env.js';
import { CliError, usageError } from '../cli-error.js';
import { DEVICE_CLASSES } from '../flags.js';
import { configPath, defaultDataDir, ensureDataDir, loadConfig, type EparaConfig } from '../config.js';
import { findOnPath } from '../external-tools.js';
import { scanSysfs, type PortInfo } from '../port-scan.js';
import { openRegistry } from '../registry-access.js';
import { parseHostPort, parseSerial } from '../serve/link-flags.js';
import { validateSettings, type Hc05Settings } from '../hc05/at-protocol.js';
import { runHc05, type Hc05Run } from '../hc05/run.js';
import type { Asker } from './asker.js';
import { systemdUnit } from './systemd-unit.js';

/** Every answer `epara init` can take from a flag (the question is then not asked). */
export interface InitFlags {
  yes?: boolean;
  tcp?: string;
  /** false: --no-serial */
  serial?: string[] | false;
  hc05?: string;
  hc05Name?: string;
  hc05Pin?: string;
  hc05Baud?: string;
  device?: string;
  class?: string;
  systemd?: string;
  force?: boolean;
  sysRoot?: string;
  devRoot?: string;
}

export interface InitResult {
  dataDir: string;
  configFile: string;
  config: EparaConfig;
  ports: Array<{ path: string; kind: string; guess: string }>;
  hc05?: Hc05Run;
  device?: { id: string; deviceClass: string; key: string; via: string };
  systemd?: string;
}

/** Serial answers: numbers from the detected list or paths, each with an optional @baud. */
export function serialAnswer(answer: string, ports: PortInfo[]): string[] {
  if (!answer.trim() || answer.trim() === 'none') return [];
  return answer.split(',').map((raw) => {
    const t = raw.trim();
    const [which, baud] = t.split('@') as [string, string | undefined];
    const n = /^\d+$/.test(which) ? Number(which) : undefined;
    const path = n !== undefined ? ports[n - 1]?.path : which;
    if (!path) throw usageError('serial', `there is no port ${which} in the list (1..${ports.length})`, 'answer numbers from the list or paths, e.g. 1@9600,/dev/rfcomm0@9600');
    const spec = `${path}@${baud ?? (path.includes('rfcomm') ? '9600' : '115200')}`;
    parseSerial(spec);
    return spec;
  });
}

function execStart(dataDir: string, env: NodeJS.ProcessEnv): string[] {
  const onPath = findOnPath('epara', env);
  if (onPath) return [onPath, '--data-dir', dataDir, 'serve'];
  // The installed package's bin (dist/cli/main.js) next to this file, else the one built from src.
  const here = dirname(fileURLToPath(import.meta.url));
  const dist = [resolve(here, '..', 'main.js'), resolve(here, '..', '..', '..', 'dist', 'cli', 'main.js')].find((p) => existsSync(p)) ?? resolve(here, '..', 'main.js');
  return [process.execPath, dist, '--data-dir', dataDir, 'serve'];
}

export async function runSetup(env: CommandEnv, flags: InitFlags, ask: Asker, dataDirFlag: string | undefined): Promise<InitResult> {
  const out = env.out;
  // 1. The data dir.
  const dataDir = resolve(env.ctx.cwd, await ask.ask('Data directory (registry, keys, token)', defaultDataDir(env.ctx.env), dataDirFlag));
  ensureDataDir(dataDir);

  // 2. Serial ports, and Bluetooth SPP ports bound by `epara pair` (/dev/rfcommN).
  const ports = scanSysfs(flags.sysRoot ?? '/sys', flags.devRoot ?? '/dev');
  if (ports.length === 0) out.info('no serial ports found (USB-UART adapters appear as /dev/ttyUSB*, paired HC-05s as /dev/rfcomm* after `epara pair <MAC>`)');
  else out.info(['serial ports:', ...ports.map((p, i) => `  ${i + 1}) ${p.path}  ${p.guess}`)].join('\n'));
  const sppDefault = ports.filter((p) => p.kind === 'spp').map((p) => `${p.path}@9600`).join(',');
  const serialGiven = flags.serial === false ? 'none' : flags.serial?.join(',');
  const serial = serialAnswer(await ask.ask('Serve devices on serial ports (numbers or paths, @baud; "none")', sppDefault || 'none', serialGiven), ports);

  // 3. An HC-05 in AT mode (a USB-UART adapter, button held at power-on).
  let hc05: Hc05Run | undefined;
  const hc05Port = await ask.ask('Configure an HC-05 in AT mode now? Its USB-UART port ("none" to skip)', 'none', flags.hc05);
  if (hc05Port && hc05Port !== 'none') {
    const settings: Hc05Settings = validateSettings({
      name: await ask.ask('  HC-05 Bluetooth name', 'EPARA-DEV', flags.hc05Name),
      pin: await ask.ask('  HC-05 PIN', '1234', flags.hc05Pin),
      baud: await ask.ask('  HC-05 data baud (the Basys 3 bitstream runs at 9600)', '9600', flags.hc05Baud),
      role: 'slave',
    });
    hc05 = await runHc05(out, hc05Port, settings, { atBaud: 38400, timeoutMs: 1500 });
  }

  // 4. The TCP device listener.
  const tcpAnswer = await ask.ask('Listen for devices on TCP (host:port; 0.0.0.0:7878 for the LAN; "none")', '127.0.0.1:7878', flags.tcp);
  const tcp = tcpAnswer === 'none' ? [] : [tcpAnswer];
  tcp.forEach((t) => parseHostPort('tcp', t, true));

  // 5. config.json
  const { path: configFile } = configPath(env.flags.config, dataDir, env.ctx.cwd);
  const config: EparaConfig = { ...(existsSync(configFile) ? loadConfig(configFile, true) : {}) };
  config.serve = { ...config.serve, tcp, serial };
  if (existsSync(configFile) && !(await ask.confirm(`${configFile} exists: overwrite its serve settings?`, false, flags.force ? true : undefined))) {
    throw new CliError({ code: 'cli.config_exists', reason: `${configFile} already exists; nothing was changed`, hint: 'add --force to update its serve settings, or edit it by hand (docs/cli.md §Config file)', field: 'config' });
  }
  mkdirSync(dirname(configFile), { recursive: true, mode: 0o700 });
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  out.info(`wrote ${configFile}`);

  // 6. A first device: its registry entry and key (shown once).
  let device: InitResult['device'];
  const id = await ask.ask('Register a first device: its id ("none" to skip)', 'none', flags.device);
  if (id && id !== 'none') {
    const cls = await ask.ask(`  its class (${DEVICE_CLASSES.join(', ')})`, 'microcomputer', flags.class);
    if (!(DEVICE_CLASSES as readonly string[]).includes(cls)) throw usageError('class', `class ${cls} is not one of ${DEVICE_CLASSES.join(', ')}`, 'e.g. --class fpga');
    const reg = await openRegistry(new CommandEnv(env.ctx, { ...env.flags, dataDir }), { init: true });
    try {
      const res = await reg.provision({ id, deviceClass: cls as DeviceClass });
      device = { id: res.id, deviceClass: cls, key: res.key, via: reg.via };
    } finally {
      await reg.close();
    }
  }

  // 7. Optionally a systemd unit for `epara serve`.
  let systemd: string | undefined;
  const unitPath = await ask.ask('Write a systemd unit file for `epara serve`? Its path ("none" to skip)', 'none', flags.systemd);
  if (unitPath && unitPath !== 'none') {
    systemd = resolve(env.ctx.cwd, unitPath);
    mkdirSync(dirname(systemd), { recursive: true });
    writeFileSync(systemd, systemdUnit({ execStart: execStart(dataDir, env.ctx.env), dataDir, user: systemd.includes(join('.config', 'systemd', 'user')) }));
  }
  return { dataDir, configFile, config, ports: ports.map((p) => ({ path: p.path, kind: p.kind, guess: p.guess })), ...(hc05 ? { hc05 } : {}), ...(device ? { device } : {}), ...(systemd ? { systemd } : {}) };
}
