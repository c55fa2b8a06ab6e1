import { CliError } from '../cli-error.js';
import { addrToMac, parseAtReply, planCommands, valueMatches, type AtReply, type Hc05Settings } from './at-protocol.js';
import type { SerialLines } from './serial-lines.js';

export interface AtExchange {
  command: string;
  ok: boolean;
  reply: string[];
  /** Decoded ERROR:(n), when the module refused. */
  error?: { code: string; meaning: string };
  /** Read-back check result, for verify commands. */
  verified?: boolean;
}

export interface Hc05Result {
  version?: string;
  address?: string;
  mac?: string;
  exchanges: AtExchange[];
}

/**
 * Talk to an HC-05 in AT mode: check the link (AT), read version and address, apply each
 * setting and read every one back. Stops at the first refusal with the decoded error.
 */
export async function configureHc05(io: SerialLines, settings: Hc05Settings, replyTimeoutMs: number, report: (x: AtExchange) => void): Promise<Hc05Result> {
  const exchanges: AtExchange[] = [];
  const send = async (command: string): Promise<{ reply: AtReply | undefined; lines: string[] }> => {
    await io.writeLine(command);
    const { value, lines } = await io.collect((l) => parseAtReply(l), replyTimeoutMs);
    return { reply: value, lines };
  };
  const record = (x: AtExchange) => {
    exchanges.push(x);
    report(x);
  };

  // The first command after power-up is often answered with ERROR:(0) because of noise in the
  // module's buffer: one retry of plain AT is normal, not a fault.
  io.discard();
  let hello = await send('AT');
  if (!hello.reply || hello.reply.kind === 'error') hello = await send('AT');
  if (!hello.reply) {
    throw new CliError({
      code: 'cli.hc05_no_reply',
      reason: `no reply to AT on ${io.path}${hello.lines.length ? ` (got: ${JSON.stringify(hello.lines.slice(-2))})` : ''}`,
      hint: 'put the HC-05 in full AT mode: hold its button (or EN/KEY high) while applying power; the LED then blinks slowly (2 s on/off) and the UART runs at 38400 baud. Check TX↔RX are crossed.',
      details: { path: io.path },
    });
  }
  if (hello.reply.kind === 'error') throw refusal('AT', hello.reply);
  record({ command: 'AT', ok: true, reply: hello.lines });

  const result: Hc05Result = { exchanges };
  const ver = await send('AT+VERSION?');
  if (ver.reply?.kind === 'ok') {
    result.version = ver.reply.values.VERSION;
    record({ command: 'AT+VERSION?', ok: true, reply: ver.lines });
  } else record({ command: 'AT+VERSION?', ok: false, reply: ver.lines, error: ver.reply?.kind === 'error' ? { code: ver.reply.code, meaning: ver.reply.meaning } : undefined });

  const addr = await send('AT+ADDR?');
  if (addr.reply?.kind === 'ok' && addr.reply.values.ADDR) {
    result.address = addr.reply.values.ADDR;
    result.mac = addrToMac(addr.reply.values.ADDR);
    record({ command: 'AT+ADDR?', ok: true, reply: addr.lines });
  }

  const plan = planCommands(settings, result.version);
  for (const step of plan.set) {
    const r = await send(step.command);
    if (!r.reply) throw timeout(step.command, io.path);
    if (r.reply.kind === 'error') {
      record({ command: redact(step.command), ok: false, reply: r.lines, error: { code: r.reply.code, meaning: r.reply.meaning } });
      throw refusal(redact(step.command), r.reply);
    }
    record({ command: redact(step.command), ok: true, reply: r.lines });
  }
  for (const step of plan.verify) {
    const r = await send(step.command);
    if (!r.reply) throw timeout(step.command, io.path);
    const key = step.expect!.key;
    const got = r.reply.values[key] ?? (key === 'PSWD' ? r.reply.values.PIN : undefined);
    const verified = r.reply.kind === 'ok' && valueMatches(got, step.expect!.value);
    record({ command: step.command, ok: verified, verified, reply: key === 'PSWD' ? r.lines.map((l) => l.replace(/:.*/, ':****')) : r.lines });
    if (r.reply.kind === 'error' && step.command === 'AT+NAME?') {
      // AT+NAME? only answers in full AT mode (EN high at power-up); in "mini" AT mode it fails.
      continue;
    }
    if (!verified) {
      throw new CliError({
        code: 'cli.hc05_verify',
        reason: `${step.command} read back ${key === 'PSWD' ? 'a different PIN' : JSON.stringify(got ?? r.lines.join(' '))}, expected ${key === 'PSWD' ? 'the new PIN' : JSON.stringify(step.expect!.value)}`,
        hint: 'the module did not keep the setting: power-cycle it in AT mode and run the command again',
      });
    }
  }
  return result;
}

/** The PIN never appears in output. */
function redact(command: string): string {
  return command.replace(/^(AT\+PSWD=)"?[^"]*"?$/, '$1****');
}

function refusal(command: string, reply: Extract<AtReply, { kind: 'error' }>): CliError {
  return new CliError({
    code: 'cli.hc05_error',
    reason: `the HC-05 answered ${command} with ERROR:(${reply.code}): ${reply.meaning}`,
    hint:
      reply.code === '0'
        ? 'check the command is supported by this firmware (v3 wants the PIN in quotes) and that the module is in full AT mode'
        : 'fix the value and run the command again; `epara hc05 --help` lists the accepted values',
    details: { command, code: reply.code },
  });
}

function timeout(command: string, path: string): CliError {
  return new CliError({
    code: 'cli.hc05_no_reply',
    reason: `no reply to ${command} on ${path}`,
    hint: 'the module may have left AT mode or reset: power-cycle it with the button held and try again',
    details: { path },
  });
}
