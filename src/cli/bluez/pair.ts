import { spawn } from 'node:child_process';
import { CliError, usageError } from '../cli-error.js';
import { runTool } from '../external-tools.js';
import { parseRfcommList } from '../port-scan.js';
import { expectTimeout, LineExpect } from './line-expect.js';

export interface PairOptions {
  mac: string;
  pin: string;
  channel: number;
  dev: string;
  scanTimeoutMs: number;
  /** Per-command reply timeout (pairing itself may take a while on a busy radio). */
  replyTimeoutMs: number;
}

export interface PairStep {
  step: 'power' | 'agent' | 'scan' | 'pair' | 'trust' | 'bind';
  ok: boolean;
  detail: string;
  skipped?: boolean;
}

/**
 * Accept the usual MAC spellings: 98:D3:31:F5:12:34, 98-d3-31-f5-12-34, and the HC-05's own
 * `AT+ADDR?` form 98d3:31:f51234 (NAP:UAP:LAP), which bluez does not understand.
 */
export function normalizeMac(raw: string): string {
  const s = raw.trim();
  let hex: string | undefined;
  if (/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(s)) hex = s.replace(/[:-]/g, '');
  else {
    const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,2}):([0-9a-f]{1,6})$/i.exec(s);
    if (m) hex = m[1]!.padStart(4, '0') + m[2]!.padStart(2, '0') + m[3]!.padStart(6, '0');
  }
  if (!hex) throw usageError('MAC', `"${raw}" is not a Bluetooth address`, 'write it as 98:D3:31:F5:12:34 (the HC-05 prints its own with AT+ADDR?, e.g. via `epara hc05 <port>`)');
  return hex.toUpperCase().match(/../g)!.join(':');
}

export function validatePin(pin: string): string {
  if (!/^[0-9A-Za-z]{1,16}$/.test(pin)) throw usageError('pin', `PIN "${pin}" must be 1 to 16 letters or digits`, 'HC-05 modules ship with 1234 (some 0000); set another with `epara hc05 <port> --pin NNNN`');
  return pin;
}

/** The exact commands the procedure runs, for --dry-run and the docs. */
export function pairPlan(o: Pick<PairOptions, 'mac' | 'pin' | 'channel' | 'dev'>): { bluetoothctl: string[]; shell: string[] } {
  return {
    bluetoothctl: ['power on', 'agent KeyboardOnly', 'default-agent', 'scan on', 'scan off', `pair ${o.mac}`, o.pin, `trust ${o.mac}`, 'quit'],
    shell: [`rfcomm bind ${o.dev} ${o.mac} ${o.channel}`],
  };
}

const NO_CONTROLLER_HINT = 'plug in or enable a Bluetooth adapter (`rfkill unblock bluetooth`; `bluetoothctl list` must show a Controller)';
const NO_DAEMON_HINT = 'start the BlueZ daemon: `sudo systemctl enable --now bluetooth`';

/**
 * Pair with an HC-05 through bluetoothctl (as if typed at its prompt, with its built-in agent
 * answering the legacy PIN request), trust it so it reconnects without asking, and bind
 * /dev/rfcommN to its SPP channel. Every step is reported through `report` as it completes.
 */
export async function pairHc05(
  tools: { bluetoothctl: string; rfcomm: string },
  o: PairOptions,
  env: NodeJS.ProcessEnv,
  report: (s: PairStep) => void,
  onToolText?: (s: string) => void,
): Promise<PairStep[]> {
  const steps: PairStep[] = [];
  const done = (s: PairStep) => {
    steps.push(s);
    report(s);
  };
  const child = spawn(tools.bluetoothctl, [], { env, stdio: 'pipe' });
  const spawnError = new Promise<never>((_, reject) => child.on('error', (e) => reject(new CliError({ code: 'cli.tool_failed', reason: `could not start bluetoothctl: ${e.message}`, hint: 'check that bluez is installed: `sudo apt-get install bluez`', cause: e }))));
  spawnError.catch(() => undefined);
  // bluetoothctl may exit first (quit, or a failure): writing to it must not crash us with EPIPE.
  child.stdin.on('error', () => undefined);
  const io = new LineExpect(child.stdout, child.stdin, onToolText);
  let quitSent = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => onToolText?.(d));
  const wait = async <K extends string>(patterns: Record<K, RegExp>, timeoutMs: number, what: string, hint: string) => {
    const m = await Promise.race([io.expect(patterns, timeoutMs), spawnError]);
    if (!m) {
      if (/Waiting to connect to bluetoothd/.test(io.transcript)) throw new CliError({ code: 'cli.bt_no_daemon', reason: 'bluetoothd is not running (bluetoothctl is "Waiting to connect to bluetoothd...")', hint: NO_DAEMON_HINT });
      throw expectTimeout(what, io.tail(), hint);
    }
    return m;
  };
  try {
    io.send('power on');
    const power = await wait(
      { ok: /Changing power on succeeded/, noctl: /No default controller available/, failed: /Failed to set power on: (\S+)/ },
      o.replyTimeoutMs,
      'the adapter to power on',
      NO_CONTROLLER_HINT,
    );
    if (power.key === 'noctl') throw new CliError({ code: 'cli.bt_no_adapter', reason: 'no Bluetooth adapter (bluetoothctl: "No default controller available")', hint: NO_CONTROLLER_HINT });
    if (power.key === 'failed') throw new CliError({ code: 'cli.bt_power', reason: `the adapter refused to power on (${power.match[1]})`, hint: power.match[1]!.includes('Blocked') ? 'it is rfkill-blocked: `rfkill unblock bluetooth`' : NO_CONTROLLER_HINT });
    done({ step: 'power', ok: true, detail: 'adapter powered on' });

    io.send('agent KeyboardOnly');
    await wait({ ok: /Agent registered|Agent is already registered/ }, o.replyTimeoutMs, 'the PIN agent to register', 'another agent may own the adapter; close other Bluetooth tools and retry');
    io.send('default-agent');
    await wait({ ok: /Default agent request successful/ }, o.replyTimeoutMs, 'the default agent', 'close other Bluetooth tools (blueman, GNOME settings) that registered an agent, and retry');
    done({ step: 'agent', ok: true, detail: 'PIN agent registered (KeyboardOnly)' });

    io.send('scan on');
    const macRe = o.mac.replace(/:/g, ':');
    const seen = await wait(
      { found: new RegExp(`\\[(NEW|CHG)\\] Device ${macRe}(?: (.*))?`), failed: /Failed to start discovery: (\S+)/ },
      o.scanTimeoutMs,
      `${o.mac} to show up in a scan`,
      'power the HC-05 in data mode (LED blinking fast, not slowly), keep it within a few metres, and check the address (AT+ADDR? via `epara hc05`)',
    ).catch((e: unknown) => {
      if (e instanceof CliError && e.code === 'cli.bt_timeout') {
        throw new CliError({ code: 'cli.bt_not_found', reason: `${o.mac} was not seen in ${Math.round(o.scanTimeoutMs / 1000)} s of scanning`, hint: 'power the HC-05 in data mode (LED blinking fast), keep it within a few metres, check the address (AT+ADDR? via `epara hc05`), or raise --scan-timeout' });
      }
      throw e;
    });
    if (seen.key === 'failed' && !/InProgress/.test(seen.match[1]!)) throw new CliError({ code: 'cli.bt_scan', reason: `scanning failed (${seen.match[1]})`, hint: NO_CONTROLLER_HINT });
    io.send('scan off');
    const name = seen.key === 'found' && seen.match[2] && !/:/.test(seen.match[2]) ? seen.match[2] : '';
    done({ step: 'scan', ok: true, detail: `found ${o.mac}${name ? ` (${name})` : ''}` });

    io.send(`pair ${o.mac}`);
    let pair = await wait(
      { pin: /Enter PIN code:/, ok: /Pairing successful/, already: /Failed to pair: org\.bluez\.Error\.AlreadyExists/, failed: /Failed to pair: (\S+)/, gone: /Device \S+ not available/ },
      o.replyTimeoutMs,
      'the pairing to start',
      'the HC-05 may be paired with another host; power-cycle it and retry',
    );
    if (pair.key === 'pin') {
      io.send(o.pin);
      pair = await wait({ ok: /Pairing successful/, failed: /Failed to pair: (\S+)/ }, o.replyTimeoutMs, 'the pairing result', 'power-cycle the HC-05 and retry');
    }
    if (pair.key === 'gone') throw new CliError({ code: 'cli.bt_not_found', reason: `${o.mac} is not available to pair`, hint: 'power the HC-05 in data mode and retry' });
    if (pair.key === 'failed') {
      const why = pair.match[1]!;
      throw new CliError({
        code: /AuthenticationFailed|AuthenticationRejected/.test(why) ? 'cli.bt_wrong_pin' : 'cli.bt_pair_failed',
        reason: `pairing with ${o.mac} failed (${why})`,
        hint: /Authentication/.test(why) ? `the PIN ${o.pin} was refused: HC-05 modules ship with 1234 (some 0000); the PIN is set with AT+PSWD (\`epara hc05 <port> --pin NNNN\`)` : 'power-cycle the HC-05 and retry; `bluetoothctl remove ' + o.mac + '` clears a stale pairing',
        details: { bluez: why },
      });
    }
    done({ step: 'pair', ok: true, detail: pair.key === 'already' ? 'already paired' : `paired with PIN ${'*'.repeat(o.pin.length)}` });

    io.send(`trust ${o.mac}`);
    await wait({ ok: /trust succeeded/ }, o.replyTimeoutMs, 'the trust to be recorded', 'retry; `bluetoothctl trust ' + o.mac + '` does the same by hand');
    done({ step: 'trust', ok: true, detail: 'trusted (reconnects without asking)' });
    io.send('quit');
    quitSent = true;
  } finally {
    if (!quitSent) io.send('quit');
    child.stdin.end();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      const t = setTimeout(() => child.kill('SIGTERM'), 2000);
      await exited;
      clearTimeout(t);
    }
  }

  // rfcomm: reuse an existing binding to the same address; refuse to steal one to another.
  const devName = o.dev.replace(/^\/dev\//, '');
  const listing = await runTool(tools.rfcomm, [], { env, timeoutMs: 5000 });
  const bound = parseRfcommList(listing.stdout).get(devName);
  if (bound && bound.address === o.mac && bound.channel === o.channel) {
    done({ step: 'bind', ok: true, detail: `${o.dev} already bound to ${o.mac} channel ${o.channel}`, skipped: true });
    return steps;
  }
  if (bound) {
    throw new CliError({
      code: 'cli.rfcomm_in_use',
      reason: `${o.dev} is already bound to ${bound.address} channel ${bound.channel}`,
      hint: `release it with \`sudo rfcomm release ${o.dev}\`, or choose another node with --dev /dev/rfcomm1`,
    });
  }
  const bind = await runTool(tools.rfcomm, ['bind', o.dev, o.mac, String(o.channel)], { env, timeoutMs: 10_000 });
  if (bind.code !== 0) {
    const msg = (bind.stderr || bind.stdout).trim().split('\n').pop() ?? `exit code ${bind.code}`;
    const perm = /Operation not permitted|Permission denied/.test(msg);
    const nosock = /Address family not supported/.test(msg);
    throw new CliError({
      code: perm ? 'cli.rfcomm_permission' : 'cli.rfcomm_failed',
      reason: `rfcomm bind failed: ${msg}`,
      hint: perm
        ? `binding needs root: run \`sudo rfcomm bind ${o.dev} ${o.mac} ${o.channel}\` (pairing above is done), then add your user to group dialout to open ${o.dev}`
        : nosock
          ? 'the kernel has no RFCOMM support loaded: `sudo modprobe rfcomm` (containers usually cannot do Bluetooth)'
          : `release a stale binding with \`sudo rfcomm release ${o.dev}\` and retry`,
    });
  }
  done({ step: 'bind', ok: true, detail: `${o.dev} → ${o.mac} channel ${o.channel}` });
  return steps;
}
