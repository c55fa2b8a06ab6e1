import { Command, Option } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action, type CommandEnv } from '../command-env.js';
import type { EparaConfig } from '../config.js';
import { collect } from '../flags.js';
import { EparaServer } from '../../server-adapter/server.js';
import { humanize } from '../human-errors.js';
import { parseHostPort, parseSerial, type HostPort, type SerialSpec } from '../serve/link-flags.js';
import { LinkAttachment } from '../serve/link-attachment.js';
import { openSerial } from '../../transport/serial.js';
import { formatUptime, StatusLine } from '../serve/status-line.js';
import { loadOrCreateToken, removeRuntime, writeRuntime } from '../server-runtime.js';
import { DataDirLock } from '../data-dir-lock.js';
import { connectBle } from '../../transport/ble.js';
import { resolveNumber, type NumberOptionSpec } from '../../options.js';
import { TIME_SCALES, type TimeScale } from '../../time-scales.js';
import { SCHEDULER_NAMES } from '../../server-adapter/scheduler-wiring.js';
import { resolveSchedulerOption, type SchedulerOption } from '../../server-adapter/live-scheduler.js';
import { readFileSync } from 'node:fs';
import type { MqttBridge, BridgeStatus } from '../../server-adapter/mqtt/mqtt-bridge.js';
import type { EparaServerOptions } from '../../server-adapter/server-options.js';
import { CliError } from '../cli-error.js';
import { packageVersion } from '../version.js';

const span = (s: NumberOptionSpec) => `${s.min}..${s.max} ms, default ${s.default}`;

interface ServeFlags {
  tcp?: string[];
  serial?: string[];
  ble?: boolean | string;
  http?: string;
  httpToken?: string;
  metrics?: boolean;
  openEnrolment?: boolean;
  heartbeat?: string;
  heartbeatMs?: string;
  stateSyncMs?: string;
  placementMs?: string;
  scheduler?: string;
  mqtt?: string;
  mqttPrefix?: string;
  mqttCa?: string;
}

export function serveCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('serve')
    .description('run the epara server: device links (TCP, serial/SPP, BLE), SQLite registry and the HTTP API in the data dir')
    .option('--tcp <host:port>', 'listen for devices on TCP (repeatable; default 127.0.0.1:7878; 0.0.0.0:7878 for the LAN)', collect)
    .option('--serial <path@baud>', 'a device behind a serial port or /dev/rfcommN, e.g. /dev/rfcomm0@9600 (repeatable)', collect)
    .option('--ble [name|address]', 'also connect to a BLE device (Nordic UART / HM-10) with noble: by name, address, or the first one seen')
    .option('--http <host:port>', 'HTTP API address (default 127.0.0.1 on a free port; the CLI finds it via <data dir>/serve.json)')
    .option('--http-token <token>', 'bearer token for the HTTP API (default: <data dir>/http-token, generated once)')
    .option('--metrics', 'serve Prometheus metrics at GET /metrics on the HTTP API')
    .option('--open-enrolment', 'record unknown devices that say HELLO as pending, for `epara devices approve`')
    .option('--scheduler <name>', `who places and routes: ${SCHEDULER_NAMES.join(', ')} (default epara; the baselines are there to compare)`)
    .option('--heartbeat-ms <ms>', `heartbeat period proposed to devices (${span(TIME_SCALES.heartbeatMs)})`)
    .option('--state-sync-ms <ms>', `STATE report period told to devices (${span(TIME_SCALES.stateSyncMs)})`)
    .option('--placement-ms <ms>', `how often the scheduler re-plans placement (${span(TIME_SCALES.placementMs)})`)
    .option('--mqtt <url>', 'publish the fleet to an MQTT broker and take inference requests from it: mqtt://[user:password@]host:1883 or mqtts://…:8883')
    .option('--mqtt-prefix <prefix>', 'first topic level(s) of everything the MQTT bridge publishes (default epara)')
    .option('--mqtt-ca <file>', "PEM file of the CA that signed the MQTT broker's certificate (mqtts://)")
    .addOption(new Option('--heartbeat <ms>', 'heartbeat period proposed to devices (old name of --heartbeat-ms)').hideHelp())
    .addHelpText(
      'after',
      `
Stops cleanly on Ctrl-C / SIGTERM (says BYE to devices, commits the registry).
The default TCP bind is 127.0.0.1: use --tcp 0.0.0.0:7878 to accept devices from the LAN.
Examples:
  epara serve
  epara serve --tcp 0.0.0.0:7878 --serial /dev/rfcomm0@9600 --metrics
  epara serve --http 127.0.0.1:8080      # fixed API port for curl/Prometheus
  epara serve --scheduler round-robin --placement-ms 10000
  epara serve --mqtt mqtt://127.0.0.1:1883 --mqtt-prefix epara   # then: mosquitto_sub -t 'epara/#' -v`,
    )
    .action(
      action(ctx, exit, async (env, flags: ServeFlags) => {
        const cfg = env.config().serve ?? {};
        const tcp: HostPort[] = (flags.tcp ?? cfg.tcp ?? (flags.serial || cfg.serial || flags.ble ? [] : ['127.0.0.1:7878'])).map((t) => parseHostPort('tcp', t, true));
        const serial = (flags.serial ?? cfg.serial ?? []).map(parseSerial);
        const http = parseHostPort('http', flags.http ?? cfg.http ?? '127.0.0.1:0', true);
        // Flags win over config.json; both are checked against the one definition (src/time-scales.ts).
        const periods: Partial<Record<TimeScale, number>> = {};
        const given: Record<TimeScale, [string, string | number | undefined]> = {
          heartbeatMs: ['heartbeat-ms', flags.heartbeatMs ?? flags.heartbeat ?? cfg.heartbeatMs],
          stateSyncMs: ['state-sync-ms', flags.stateSyncMs ?? cfg.stateSyncMs],
          placementMs: ['placement-ms', flags.placementMs ?? cfg.placementMs],
        };
        for (const k of Object.keys(given) as TimeScale[]) {
          const [flag, v] = given[k];
          if (v !== undefined) periods[k] = resolveNumber(`--${flag}`, typeof v === 'string' && v.trim() !== '' ? Number(v) : v, TIME_SCALES[k]);
        }
        const scheduler = resolveSchedulerOption(flags.scheduler ?? cfg.scheduler);
        const dataDir = env.dataDir();
        // Before anything touches the registry or serve.json: a second server is refused whole.
        const lock = DataDirLock.acquire(dataDir);
        try {
          await serveLocked(env, flags, cfg, { tcp, serial, http, periods, scheduler, dataDir });
        } finally {
          lock.release();
        }
      }),
    );
}

interface Resolved {
  tcp: HostPort[];
  serial: SerialSpec[];
  http: HostPort;
  periods: Partial<Record<TimeScale, number>>;
  scheduler: SchedulerOption;
  dataDir: string;
}

async function serveLocked(env: CommandEnv, flags: ServeFlags, cfg: NonNullable<EparaConfig['serve']>, { tcp, serial, http, periods, scheduler, dataDir }: Resolved): Promise<void> {
  const out = env.out;
  const token = loadOrCreateToken(dataDir, flags.httpToken);

  const server = new EparaServer({
    dataDir,
    openEnrolment: flags.openEnrolment ?? cfg.openEnrolment ?? false,
    http: { host: http.host, port: http.port, token, metrics: flags.metrics ?? cfg.metrics ?? false },
    periods,
    scheduler,
    ...(mqttOptions(flags, cfg) ?? {}),
  });
  const startedAt = Date.now();
  // Inference count for the status line, read from the server's own Prometheus histogram.
  let inferences = 0;
  const countInferences = async () => {
    try {
      const m = await server.metrics.inferLatency.get();
      inferences = m.values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
    } catch {
      /* the status line is best effort */
    }
  };
  const status = new StatusLine(out, () => {
    const devs = server.devices();
    const online = devs.filter((d) => d.state === 'active' || d.state === 'registered').length;
    const degraded = devs.filter((d) => d.state === 'degraded').length;
    const moving = server.deployments({ states: ['offered', 'transferring', 'verifying', 'loading'] }).length;
    return `${out.e.green('●')} ${online}/${devs.length} devices online${degraded ? `, ${degraded} degraded` : ''} · ${moving} deployments in progress · ${inferences} inferences · up ${formatUptime(Date.now() - startedAt)}`;
  });
  const stamp = () => new Date().toISOString().slice(11, 19);
  const log = (line: string) => status.log(`${out.e.dim(stamp())} ${line}`);

  const attachments: LinkAttachment[] = [];
  const tcpBound: string[] = [];
  try {
    await server.start();
    if (server.mqtt) watchBridge(server.mqtt, log);
    server.on('audit', (a) => {
      log(`${a.event}${a.deviceId ? ` ${a.deviceId}` : ''}${a.detail ? ` — ${a.detail}` : ''}`);
    });
    server.on('device-lost', (c) => log(`${out.e.yellow('lost')} ${c.deviceId}`));
    for (const t of tcp) {
      const l = await server.listenTcp({ host: t.host, port: t.port }).catch((e: unknown) => {
        throw humanize(e);
      });
      tcpBound.push(`${t.host}:${l.port}`);
      log(`devices: tcp ${t.host}:${l.port}${t.host === '0.0.0.0' ? ' (all interfaces: LAN devices can connect)' : ''}`);
    }
    for (const s of serial) {
      const a = serialAttachment(server, s, log);
      await a.start();
      attachments.push(a);
      log(`devices: serial ${a.description}${/rfcomm/.test(s.path) ? ' (Bluetooth SPP)' : ''}`);
    }
    if (flags.ble ?? cfg.ble) {
      const a = bleAttachment(server, typeof flags.ble === 'string' ? flags.ble : undefined, log);
      await a.start();
      attachments.push(a);
      log(`devices: ble ${a.description}`);
    }
  } catch (e) {
    await Promise.all(attachments.map((a) => a.stop()));
    await server.close({ drainMs: 0 });
    throw e;
  }
  const api = server.httpAddress!;
  const httpUrl = `http://${api.host.includes(':') ? `[${api.host}]` : api.host}:${api.port}`;
  writeRuntime(dataDir, { pid: process.pid, http: httpUrl, links: [...tcpBound.map((t) => `tcp ${t}`), ...attachments.map((a) => `${a.kind} ${a.description}`)], startedAt });
  log(`http api: ${httpUrl}${flags.metrics ?? cfg.metrics ? ` (metrics at ${httpUrl}/metrics)` : ''}, token in ${dataDir}/http-token`);
  log(`data dir: ${dataDir}`);
  log(`scheduler: ${server.scheduler.name}${server.scheduler.enabled ? ` (placement every ${periods.placementMs ?? TIME_SCALES.placementMs.default} ms; see epara placement)` : ' (least-loaded routing, no placement)'}`);
  out.info(out.e.dim('ready; Ctrl-C stops'));
  status.start();
  const counter = status.live ? setInterval(() => void countInferences(), 1000) : undefined;
  counter?.unref();

  // Wait for Ctrl-C / SIGTERM (real process) or the test's abort signal.
  const reason = await new Promise<string>((resolve) => {
    if (env.ctx.signal?.aborted) return resolve('abort');
    env.ctx.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
    if (env.ctx.handleSignals) {
      const on = (sig: NodeJS.Signals) => () => resolve(sig);
      process.once('SIGINT', on('SIGINT'));
      process.once('SIGTERM', on('SIGTERM'));
    }
  });
  if (counter) clearInterval(counter);
  await countInferences();
  status.stop();
  out.info(`${reason === 'abort' ? 'stopping' : `${reason}: stopping`} (BYE to devices, committing the registry) ...`);
  await Promise.all(attachments.map((a) => a.stop()));
  await server.close({ drainMs: 2000 });
  removeRuntime(dataDir, process.pid);
  out.result({ ok: true, stopped: reason, uptimeMs: Date.now() - startedAt, inferences }, () => '');
  out.info(`stopped after ${formatUptime(Date.now() - startedAt)}; ${inferences} inference requests served`);
}

/**
 * The MQTT bridge's options from the flags or config.json (serve.mqtt, serve.mqttPrefix,
 * serve.mqttCa); EparaServer checks the URL and prefix before anything opens.
 */
function mqttOptions(flags: ServeFlags, cfg: NonNullable<EparaConfig['serve']>): { mqtt: NonNullable<EparaServerOptions['mqtt']> } | undefined {
  const url = flags.mqtt ?? cfg.mqtt;
  if (url === undefined) return undefined;
  const prefix = flags.mqttPrefix ?? cfg.mqttPrefix;
  const caFile = flags.mqttCa ?? cfg.mqttCa;
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new CliError({ code: 'cli.file_unreadable', reason: `cannot read the MQTT CA file ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: "pass the PEM file of the CA that signed the broker's certificate", field: '--mqtt-ca' });
    }
  }
  return { mqtt: { url, ...(prefix !== undefined ? { prefix } : {}), ...(ca ? { ca } : {}), softwareVersion: packageVersion() } };
}

/** Says in the log how the bridge stands now and whenever that changes (the gateway serves on regardless). */
function watchBridge(bridge: MqttBridge, log: (l: string) => void): void {
  const say = (s: BridgeStatus) => {
    if (s.kind === 'connected') log(`mqtt: connected to ${s.broker}`);
    else if (s.kind === 'disconnected') log(`mqtt: lost ${s.broker}; retrying`);
    else log(`mqtt: ${s.error.code}: ${s.error.reason} (hint: ${s.error.hint})`);
  };
  if (bridge.connected) say({ kind: 'connected', broker: bridge.broker });
  else if (bridge.lastError) say({ kind: 'error', error: bridge.lastError });
  else log(`mqtt: ${bridge.broker} has not answered yet; retrying in the background`);
  bridge.on('status', say);
}

/** A device behind a serial port (USB-UART or /dev/rfcommN), reopened with backoff when the port goes away. */
function serialAttachment(server: EparaServer, s: SerialSpec, log: (l: string) => void): LinkAttachment {
  const description = `${s.path}${s.baudRate ? '@' + s.baudRate : ''}`;
  return new LinkAttachment(server, 'serial', description, () => openSerial({ path: s.path, ...(s.baudRate ? { baudRate: s.baudRate } : {}) }).catch((e: unknown) => {
    throw humanize(e, { path: s.path });
  }), log);
}

/**
 * BLE: one NUS/HM-10 peripheral (by name or address, else the first seen), handed to the server;
 * when the connection drops (out of range, peripheral reset) it is scanned for and connected again.
 */
function bleAttachment(server: EparaServer, which: string | undefined, log: (l: string) => void): LinkAttachment {
  const target = which === undefined ? {} : /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(which) ? { address: which } : { name: which };
  return new LinkAttachment(server, 'ble', which ?? '(the first NUS/HM-10 device seen)', () => connectBle({ ...target, timeoutMs: 15_000 }).catch((e: unknown) => {
    throw humanize(e);
  }), log);
}
