import type { Output } from '../output.js';
import { configureHc05, type Hc05Result } from './configure.js';
import type { Hc05Settings } from './at-protocol.js';
import { SerialLines } from './serial-lines.js';

export type Hc05Run = Hc05Result & { port: string };

/** Opens the port, runs the AT exchange printing each step, closes: `epara hc05` and `epara init`. */
export async function runHc05(out: Output, port: string, settings: Hc05Settings, o: { atBaud: number; timeoutMs: number }): Promise<Hc05Run> {
  const io = await SerialLines.open(port, o.atBaud);
  out.info(`talking to the HC-05 on ${port} at ${o.atBaud} baud ...`);
  try {
    const res = await configureHc05(io, settings, o.timeoutMs, (x) => {
      const shown = x.reply.filter((l) => l.trim()).join(' ') || '(no reply)';
      out.step(x.ok, x.command, x.error ? `ERROR:(${x.error.code}) ${x.error.meaning}` : x.verified !== undefined ? `${shown} ${x.verified ? '(matches)' : '(differs)'}` : shown);
    });
    return { ...res, port };
  } finally {
    await io.close();
  }
}
