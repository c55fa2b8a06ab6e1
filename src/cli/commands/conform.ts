import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { CliError, usageError } from '../cli-error.js';
import { parseInputs } from '../tensor-json.js';
import { DEVICE_CLASSES, ARTIFACT_KINDS } from '../../protocol/messages/catalogue.js';
import type { ArtifactKind, DeviceClass } from '../../protocol/messages/types.js';
import { FAMILIES, type Family } from '../../conformance/check.js';
import { allChecks } from '../../conformance/catalogue.js';
import { ConformError } from '../../conformance/conform-error.js';
import { customArtifact } from '../../conformance/artifacts.js';
import { openTarget, parseTarget, formatTarget } from '../../conformance/target.js';
import { CONFORM_TIMINGS, runConformance } from '../../conformance/runner.js';
import { toJUnit } from '../../conformance/report-junit.js';
import { toTable } from '../../conformance/report-table.js';
import { ExitCode } from '../exit-codes.js';

interface ConformFlags {
  id?: string;
  key?: string;
  keyFile?: string;
  class?: string;
  junit?: string;
  timeout?: string;
  wait?: string;
  heartbeatMs?: string;
  stateMs?: string;
  skip?: string;
  kind?: string;
  artifact?: string;
  input?: string;
  restartCmd?: string;
  list?: boolean;
}

function ms(flag: string, v: string | undefined, spec: { min: number; max: number }): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < spec.min || n > spec.max) throw usageError(flag, `--${flag} ${v} must be a whole number of ms in ${spec.min}..${spec.max}`, `e.g. --${flag} ${Math.max(spec.min, 1000)}`);
  return n;
}

/** A kit error about the command line becomes a usage error (exit 2); others stay as they are. */
function asCli(e: unknown): unknown {
  if (e instanceof ConformError && e.usage) return new CliError({ code: e.code, reason: e.reason, hint: e.hint, field: e.field, usage: true });
  return e;
}

/** Runs the device maker's restart command (power cycle, process restart) and waits for it. */
function restartBy(cmd: string, cwd: string, env: NodeJS.ProcessEnv): () => Promise<void> {
  return () =>
    new Promise((ok, fail) => {
      const p = spawn('sh', ['-c', cmd], { cwd, env, stdio: 'ignore' });
      const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('error', (e) => fail(new ConformError({ code: 'conform.restart', reason: `--restart-cmd could not run: ${e.message}`, hint: 'check the command with sh -c first' })));
      p.on('exit', (code, sig) => {
        clearTimeout(t);
        if (code === 0) ok();
        else fail(new ConformError({ code: 'conform.restart', reason: `--restart-cmd exited ${code ?? sig}`, hint: 'the command must return 0 once the device is restarting' }));
      });
    });
}

export function conformCommand(ctx: CliContext, exit: ExitState): Command {
  return new Command('conform')
    .description('check a device against protocol/SPEC.md, playing the gateway: a table, --json or JUnit XML')
    .argument('[target]', 'tcp://HOST:PORT (the kit LISTENS there; point the device at it), serial:/dev/ttyX[@baud], or ble:NAME')
    .option('--id <id>', 'the device id provisioned on the device')
    .option('--key <hex>', 'the device key (64 hex digits, as `epara register` printed it)')
    .option('--key-file <file>', 'read the key from a file instead (keeps it out of the shell history)')
    .option('--class <class>', `expected device class (${DEVICE_CLASSES.join(', ')}); checked against HELLO`)
    .option('--junit <file>', 'also write the report as JUnit XML')
    .option('--timeout <ms>', 'how long the device may take to answer one request', String(CONFORM_TIMINGS.answerMs.default))
    .option('--wait <ms>', 'how long to wait for the device to connect and say HELLO', String(CONFORM_TIMINGS.helloMs.default))
    .option('--heartbeat-ms <ms>', 'heartbeat period the kit asks for in CHALLENGE/WELCOME', String(CONFORM_TIMINGS.heartbeatMs.default))
    .option('--state-ms <ms>', 'STATE period the kit asks for in WELCOME', String(CONFORM_TIMINGS.stateMs.default))
    .option('--skip <families>', `check families not to run, comma-separated (${FAMILIES.join(', ')})`)
    .option('--kind <kind>', `artifact kind to deploy (${ARTIFACT_KINDS.join(', ')}; default: the first one the device lists that the kit has a built-in artifact for)`)
    .option('--artifact <file>', 'deploy this artifact instead of the built-in one (with --kind, and --input to run it)')
    .option('--input <json|file>', 'an input for --artifact, in the form `epara infer --input` takes')
    .option('--restart-cmd <cmd>', 'a shell command that restarts the device (enables deploy.resume-after-restart)')
    .option('--list', 'list the checks and the SPEC section each enforces, then exit')
    .addHelpText(
      'after',
      `
Devices connect to a gateway, so over TCP the kit listens on the address given and waits for the
device to connect; over a serial line it opens the port and waits for HELLO; over BLE it connects
to the peripheral by name. Provision the device first (\`epara register <id> --class <class>\` prints
the key), then point it at the kit instead of the server.

Exit codes: 0 every required check passed, 1 a check failed (or the device never came), 2 usage.
Examples:
  epara conform tcp://0.0.0.0:7878 --id pi-1 --key-file pi-1.key --class microcomputer
  epara conform serial:/dev/ttyUSB0@115200 --id basys3-01 --key-file fpga.key --junit conform.xml
  epara conform ble:epara-nano --id nano-1 --key 00112233… --skip deploy --json
  epara conform --list
Docs: docs/conformance.md`,
    )
    .action(
      action(ctx, exit, async (env, target: string | undefined, flags: ConformFlags) => {
        const out = env.out;
        if (flags.list) {
          const checks = allChecks();
          out.result(checks, () => checks.map((c) => `${c.id.padEnd(36)} ${c.spec.padEnd(24)} ${c.title}`).join('\n'));
          return ExitCode.OK;
        }
        try {
          if (!target) throw usageError('target', 'no target given', 'e.g. `epara conform tcp://127.0.0.1:7878 --id pi-1 --key-file pi-1.key` (or --list)');
          const t = parseTarget(target);
          if (!flags.id) throw usageError('id', '--id is required', 'pass the device id the device was provisioned with, e.g. --id pi-1');
          if (!flags.key && !flags.keyFile) throw usageError('key', '--key or --key-file is required', '`epara register <id>` printed the key; pass it with --key-file FILE');
          if (flags.key && flags.keyFile) throw usageError('key', 'give --key or --key-file, not both', 'keep the one that holds the key');
          let key = flags.key;
          if (flags.keyFile) {
            try {
              key = readFileSync(resolve(env.ctx.cwd, flags.keyFile), 'utf8').trim();
            } catch {
              throw usageError('key-file', `cannot read --key-file ${flags.keyFile}`, 'check the path (the file holds the 64 hex digits of the key)');
            }
          }
          if (flags.class && !(DEVICE_CLASSES as readonly string[]).includes(flags.class)) throw usageError('class', `--class ${flags.class} is not a device class`, `use one of ${DEVICE_CLASSES.join(', ')}`);
          if (flags.kind && !(ARTIFACT_KINDS as readonly string[]).includes(flags.kind)) throw usageError('kind', `--kind ${flags.kind} is not an artifact kind`, `use one of ${ARTIFACT_KINDS.join(', ')}`);
          const skip = (flags.skip ?? '').split(',').map((s) => s.trim()).filter(Boolean);
          for (const s of skip) if (!(FAMILIES as readonly string[]).includes(s)) throw usageError('skip', `--skip ${s} is not a check family`, `families: ${FAMILIES.join(', ')}`);
          let artifact;
          if (flags.artifact) {
            if (!flags.kind) throw usageError('kind', '--artifact needs --kind', `e.g. --kind onnx (${ARTIFACT_KINDS.join(', ')})`);
            let bytes: Uint8Array;
            try {
              bytes = new Uint8Array(readFileSync(resolve(env.ctx.cwd, flags.artifact)));
            } catch {
              throw usageError('artifact', `cannot read --artifact ${flags.artifact}`, 'check the path');
            }
            artifact = customArtifact(flags.kind as ArtifactKind, bytes, flags.input ? parseInputs(flags.input, env.ctx.cwd) : undefined);
          } else if (flags.input) throw usageError('input', '--input goes with --artifact', 'the built-in artifacts bring their own input');
          const timings = {
            answerMs: ms('timeout', flags.timeout, CONFORM_TIMINGS.answerMs),
            helloMs: ms('wait', flags.wait, CONFORM_TIMINGS.helloMs),
            heartbeatMs: ms('heartbeat-ms', flags.heartbeatMs, CONFORM_TIMINGS.heartbeatMs),
            stateMs: ms('state-ms', flags.stateMs, CONFORM_TIMINGS.stateMs),
          };
          const links = await openTarget(t);
          const where = t.kind === 'tcp' ? formatTarget({ ...t, port: links.port ?? t.port }) : links.description;
          out.info(
            t.kind === 'tcp'
              ? `listening on ${where}: start device ${flags.id} with this address as its gateway (waiting ${timings.helloMs ?? CONFORM_TIMINGS.helloMs.default} ms)`
              : `opened ${where}: waiting for HELLO from ${flags.id} (reset the device if it is not trying to connect)`,
          );
          const rep = await (async () => {
            try {
              return await runConformance(links, {
                id: flags.id!,
                key: key!,
                deviceClass: flags.class as DeviceClass | undefined,
                timings,
                skip: skip as Family[],
                kind: flags.kind as ArtifactKind | undefined,
                artifact,
                restart: flags.restartCmd ? restartBy(flags.restartCmd, env.ctx.cwd, env.ctx.env) : undefined,
                log: (l) => out.detail(l),
                onResult: (r) => out.step(r.status === 'skip' ? 'skip' : r.status === 'pass', r.id, r.status === 'pass' ? '' : r.detail),
              });
            } finally {
              await links.close().catch(() => undefined);
            }
          })();
          if (flags.junit) writeFileSync(resolve(env.ctx.cwd, flags.junit), toJUnit(rep));
          out.result(rep, () => toTable(rep, out.c));
          return rep.ok ? ExitCode.OK : ExitCode.FAILURE;
        } catch (e) {
          throw asCli(e);
        }
      }),
    );
}
