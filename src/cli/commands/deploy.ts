import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { CliContext, ExitState } from '../context.js';
import { action, type CommandEnv } from '../command-env.js';
import { usageError } from '../cli-error.js';
import { humanize } from '../human-errors.js';
import { requireServer, type ServerClient } from '../server-client.js';
import { renderTable } from '../output.js';
import type { DeploymentRecord } from '../../device-mgmt/registry/store.js';
import type { DeviceInfo } from '../../server-adapter/events.js';
import { DEVICE_CLASSES, serverOptions, type ServerFlags } from '../flags.js';
import { formatBytes } from '../format.js';
import { errorInfo } from '../../protocol/error-codes.js';
import { DECLARATION_SPECS, validateDeclaration, WORKLOADS, type ServiceDeclaration } from '../../server-adapter/service-catalogue.js';

export const CATEGORIES = ['latency-single', 'latency-multi', 'frequency-single', 'frequency-multi'] as const;
const KINDS = ['onnx', 'int8-fc-weights', 'blob'] as const;
const SETTLED = new Set(['ready', 'failed', 'rolled-back', 'undeployed']);

interface DeployFlags extends ServerFlags {
  service: string;
  category: (typeof CATEGORIES)[number];
  to: string;
  version?: string;
  kind?: (typeof KINDS)[number];
  timeout: string;
  sloMs?: string;
  fps?: string;
  demandRps?: string;
  weight?: string;
  workload?: string;
}

/** "all", a device class, or comma-separated ids. */
export function parseTargets(to: string): string[] | string {
  if (to === 'all' || (DEVICE_CLASSES as readonly string[]).includes(to)) return to;
  const ids = to.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw usageError('to', `--to "${to}" names no device`, 'use a device id, a comma list of ids, a class (fpga, mcu, …) or all');
  return ids;
}

/** The server takes ids, one class or all; a list mixing classes and ids is expanded here. */
export function expandClasses(to: string[] | string, devices: DeviceInfo[]): string[] | string {
  if (!Array.isArray(to)) return to;
  const ids = new Set<string>();
  for (const t of to) {
    if ((DEVICE_CLASSES as readonly string[]).includes(t)) devices.filter((d) => d.deviceClass === t && d.status === 'active').forEach((d) => ids.add(d.id));
    else ids.add(t);
  }
  if (ids.size === 0) throw usageError('to', `--to ${to.join(',')} matches no active device`, 'see `epara devices`');
  return [...ids];
}

interface Tracked {
  rec: DeploymentRecord;
  /** The device already had exactly this version ready: nothing was sent. */
  unchanged?: boolean;
  online: boolean;
  firstByteAt?: number;
  settledAt?: number;
  bar?: cliProgress.SingleBar;
  lastState?: string;
}

function kindFor(file: string): (typeof KINDS)[number] {
  const ext = extname(file).toLowerCase();
  return ext === '.onnx' ? 'onnx' : ext === '.i8' || ext === '.int8' ? 'int8-fc-weights' : 'blob';
}

export function deployCommand(ctx: CliContext, exit: ExitState): Command {
  return serverOptions(
    new Command('deploy')
      .description('deploy a model to devices through the running server, with a progress bar per device')
      .argument('<artifact>', 'model file (.onnx; int8 FC weights for the FPGA; any blob)')
      .requiredOption('--service <name>', 'service name requests will use, e.g. classifier')
      .addOption(new Option('--category <category>', 'EPARA task category').choices(CATEGORIES).makeOptionMandatory())
      .requiredOption('--to <target>', 'device id(s) (comma-separated), a device class, or all')
      .option('--version <version>', 'artifact version (default: first 12 hex digits of its SHA-256)')
      .addOption(new Option('--kind <kind>', 'artifact kind (default from the extension: .onnx → onnx)').choices(KINDS))
      .option('--timeout <s>', 'give up waiting after this many seconds', '300')
      .option('--slo-ms <ms>', `the service's SLO: each request's deadline (latency) or frame budget (frequency); default ${DECLARATION_SPECS.sloMs.default} ms, or 1000/fps`)
      .option('--fps <n>', `frequency services: frames per second of one flow (default ${DECLARATION_SPECS.fps.default})`)
      .option('--demand-rps <n>', 'expected requests per second, for the planner (default: measured, smoothed over the placement period)')
      .option('--weight <n>', `relative importance in the planner's objective (default ${DECLARATION_SPECS.weight.default})`)
      .option('--workload <kind>', `service-time model until measured: ${WORKLOADS.join(', ')} (default from the artifact)`),
  )
    .addHelpText(
      'after',
      `
Needs a running \`epara serve\`. Devices that are offline get the deployment when they connect.
Exit code 1 if any online device ends failed or rolled back.
Examples:
  epara deploy fixtures/models/mlp-classifier.onnx --service classifier --category latency-single --to all
  epara deploy weights.i8 --service digits --category latency-single --to fpga --kind int8-fc-weights
  epara deploy fixtures/models/conv-segmenter.onnx --service cam --category frequency-single --fps 15 --to all

--category and the SLO flags declare the service to the scheduler (see epara services, epara placement).`,
    )
    .action(
      action(ctx, exit, async (env, file: string, flags: DeployFlags) => {
        const out = env.out;
        const client = requireServer(env, flags);
        const path = resolve(env.ctx.cwd, file);
        try {
          if (!statSync(path).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT', path });
        } catch (e) {
          throw humanize(e, { path });
        }
        // The declaration is checked here too, so a bad SLO fails before the upload.
        const declared = declarationFlags(flags);
        const timeoutS = Number(flags.timeout);
        if (!Number.isFinite(timeoutS) || timeoutS < 1 || timeoutS > 86_400) throw usageError('timeout', `--timeout ${flags.timeout} must be 1..86400 seconds`, 'e.g. --timeout 600');
        // The server never reads a file we name: the bytes go up as a stream, the deploy names their digest.
        const uploaded = await client.upload(path);
        const sha = uploaded.sha256;
        const version = flags.version ?? sha.slice(0, 12);
        const kind = flags.kind ?? kindFor(path);
        const devices = await client.request<DeviceInfo[]>('GET', 'devices');
        const to = expandClasses(parseTargets(flags.to), devices);
        const online = new Set(devices.filter((d) => d.state === 'active' || d.state === 'registered' || d.state === 'degraded').map((d) => d.id));
        const recs = await client.request<Array<DeploymentRecord & { unchanged?: boolean }>>('POST', 'deployments', { artifact: uploaded.artifact, service: flags.service, version, kind, category: flags.category, to, wait: false, ...declared });
        out.info(`deploying ${flags.service}@${version} (${kind}, ${formatBytes(uploaded.size)}, sha256 ${sha.slice(0, 12)}…) to ${recs.length} device${recs.length === 1 ? '' : 's'}`);
        const tracked: Tracked[] = recs.map((rec) => ({ rec, online: online.has(rec.deviceId), ...(rec.unchanged ? { unchanged: true } : {}) }));
        const results = await follow(env, client, tracked, timeoutS * 1000);
        const failed = results.filter((t) => t.rec.state === 'failed' || t.rec.state === 'rolled-back');
        const stuck = results.filter((t) => t.online && !SETTLED.has(t.rec.state));
        const waiting = results.filter((t) => !t.online && !SETTLED.has(t.rec.state));
        const summary = results.map((t) => {
          const secs = t.firstByteAt && t.settledAt ? (t.settledAt - t.firstByteAt) / 1000 : undefined;
          // The record keeps only the code; its reason and hint come from the error table.
          const info = t.rec.errorCode ? errorInfo(t.rec.errorCode) : undefined;
          return {
            deploymentId: t.rec.id,
            deviceId: t.rec.deviceId,
            // One name for one state: what `epara deployments` shows too (an offline device's is `offered`).
            state: t.rec.state,
            online: t.online,
            version: t.rec.version,
            activeVersion: t.rec.activeVersion,
            bytes: t.rec.offset,
            size: t.rec.size,
            seconds: secs,
            bytesPerSecond: secs ? Math.round(t.rec.size / secs) : undefined,
            errorCode: t.rec.errorCode,
            ...(t.rec.errorCode ? { error: { code: t.rec.errorCode, reason: info?.reason ?? t.rec.errorCode, hint: info?.hint ?? 'see `epara deployments` and the server log' } } : {}),
            unchanged: t.unchanged,
          };
        });
        for (const s of skippedFor(to, kind, devices, summary)) out.info(`${s.id}: left out, it takes ${s.formats.join(', ') || 'no artifacts'} (from its HELLO), not ${kind}`);
        out.result({ service: flags.service, version, kind, sha256: sha, deployments: summary }, () => {
          const table = renderTable(
            summary,
            [
              { header: 'DEVICE', value: (s) => s.deviceId, paint: (c) => out.c.bold(c) },
              { header: 'STATE', value: (s) => (s.unchanged ? `${s.state} (unchanged)` : !s.online && !SETTLED.has(s.state) ? `${s.state} (device offline)` : s.state), paint: (c, s) => (s.state === 'ready' ? out.c.green(c) : SETTLED.has(s.state) ? out.c.red(c) : out.c.yellow(c)) },
              { header: 'VERSION', value: (s) => s.activeVersion && s.activeVersion !== s.version ? `${s.activeVersion} (kept)` : s.version },
              { header: 'BYTES', value: (s) => `${formatBytes(s.bytes)}/${formatBytes(s.size)}`, align: 'right' },
              { header: 'TIME', value: (s) => (s.seconds !== undefined ? `${s.seconds.toFixed(2)} s` : '-'), align: 'right' },
              { header: 'RATE', value: (s) => (s.bytesPerSecond ? `${formatBytes(s.bytesPerSecond)}/s` : '-'), align: 'right' },
              { header: 'ERROR', value: (s) => (s.error ? `${s.error.code}: ${s.error.reason}` : '') },
            ],
            out.c,
          );
          const hints = summary.filter((s) => s.error).map((s) => `  ${out.c.bold(s.deviceId)} hint: ${s.error!.hint}`);
          const ready = summary.filter((s) => s.state === 'ready').length;
          const unchanged = summary.filter((s) => s.unchanged).length;
          const tail = [`${ready}/${summary.length} ready${unchanged ? ` (${unchanged} already had ${version}: nothing sent)` : ''}${waiting.length ? `, ${waiting.length} offered to offline devices (delivered when they connect)` : ''}${failed.length ? `, ${failed.length} failed` : ''}${stuck.length ? `, ${stuck.length} still in progress after ${timeoutS} s` : ''}`];
          return table + [...hints, ...tail].join('\n');
        });
        return failed.length || stuck.length ? 1 : 0;
      }),
    );
}

/** --slo-ms / --fps / --demand-rps / --weight / --workload as the declaration fields, checked (service-catalogue.ts). */
function declarationFlags(flags: DeployFlags): Omit<ServiceDeclaration, 'service' | 'category'> {
  const num = (flag: string, v: string | undefined) => (v === undefined ? undefined : v.trim() === '' || !Number.isFinite(Number(v)) ? v : Number(v));
  const d = {
    service: flags.service,
    category: flags.category,
    sloMs: num('slo-ms', flags.sloMs),
    fps: num('fps', flags.fps),
    demandRps: num('demand-rps', flags.demandRps),
    weight: num('weight', flags.weight),
    workload: flags.workload,
  } as unknown as ServiceDeclaration;
  const { service: _s, category: _c, ...rest } = validateDeclaration(d);
  return rest;
}

/** "12s", "3m05s"; "-" until bytes have moved (no rate yet) and once nothing is left. */
export function etaText(remaining: number, bytesPerSecond: number): string {
  if (!(bytesPerSecond > 0) || remaining <= 0) return '-';
  const s = Math.ceil(remaining / bytesPerSecond);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Devices of a class or `all` target that the server left out: their HELLO formats exclude the kind. */
function skippedFor(to: string[] | string, kind: string, devices: DeviceInfo[], summary: Array<{ deviceId: string }>): Array<{ id: string; formats: string[] }> {
  if (Array.isArray(to)) return [];
  const got = new Set(summary.map((s) => s.deviceId));
  return devices
    .filter((d) => d.status === 'active' && (to === 'all' || d.deviceClass === to) && !got.has(d.id))
    .map((d) => ({ id: d.id, formats: (d.caps as { formats?: unknown } | undefined)?.formats }))
    .filter((d): d is { id: string; formats: string[] } => Array.isArray(d.formats) && !d.formats.includes(kind));
}

/** Poll the deployment records; draw one bar per online device (or state lines off a terminal). */
async function follow(env: CommandEnv, client: ServerClient, tracked: Tracked[], timeoutMs: number): Promise<Tracked[]> {
  const out = env.out;
  const tty = out.stderrIsTTY && !out.quiet && !out.json;
  const width = Math.max(...tracked.map((t) => t.rec.deviceId.length));
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          stream: out.stderr as unknown as NodeJS.WritableStream,
          // Our own ETA: cli-progress's printed "ETA NFs" until the first bytes gave it a rate.
          format: `{device} ${out.e.cyan('{bar}')} {percentage}% | {bytes} | {rate} | ETA {left} | {state}`,
          barCompleteChar: '█',
          barIncompleteChar: '░',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          etaBuffer: 20,
          barsize: 24,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  for (const t of tracked) {
    if (!t.online) {
      out.info(`${t.rec.deviceId.padEnd(width)}  offline: offered, delivered when it connects`);
      continue;
    }
    t.bar = multi?.create(t.rec.size, 0, { device: t.rec.deviceId.padEnd(width), bytes: `0 B/${formatBytes(t.rec.size)}`, rate: '-', left: '-', state: t.rec.state });
  }
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const active = tracked.filter((t) => t.online && !SETTLED.has(t.rec.state));
      if (active.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 150));
      await Promise.all(
        active.map(async (t) => {
          t.rec = await client.request<DeploymentRecord>('GET', `deployments/${t.rec.id}`);
          const now = Date.now();
          if (t.firstByteAt === undefined && (t.rec.offset > 0 || t.rec.state !== 'offered')) t.firstByteAt = now;
          if (SETTLED.has(t.rec.state)) t.settledAt = now;
          const secs = t.firstByteAt ? Math.max(0.001, (now - t.firstByteAt) / 1000) : 0;
          const rate = secs ? `${formatBytes(Math.round(t.rec.offset / secs))}/s` : '-';
          const shown = SETTLED.has(t.rec.state) && t.rec.state === 'ready' ? t.rec.size : t.rec.offset;
          t.bar?.update(shown, { bytes: `${formatBytes(shown)}/${formatBytes(t.rec.size)}`, rate, left: etaText(t.rec.size - shown, secs ? t.rec.offset / secs : 0), state: t.rec.state === 'ready' ? out.e.green('ready') : SETTLED.has(t.rec.state) ? out.e.red(t.rec.state) : t.rec.state });
          if (!tty && t.lastState !== t.rec.state) {
            t.lastState = t.rec.state;
            out.info(`${t.rec.deviceId.padEnd(width)}  ${t.rec.state}  ${formatBytes(t.rec.offset)}/${formatBytes(t.rec.size)}${t.rec.errorCode ? `  ${t.rec.errorCode}` : ''}`);
          }
        }),
      );
    }
  } finally {
    multi?.stop();
  }
  return tracked;
}
