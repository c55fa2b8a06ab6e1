import { usageError } from '../cli-error.js';

export interface HostPort {
  host: string;
  port: number;
}

/** "127.0.0.1:7878", "0.0.0.0:7878", "[::1]:7878", ":7878" (= 127.0.0.1), "7878". */
export function parseHostPort(flag: string, raw: string, allowZero = false): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw) ?? (/^(\d+)$/.test(raw) ? [raw, undefined, '', raw] : null);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw usageError(flag, `--${flag} ${raw} is not host:port`, `e.g. --${flag} 127.0.0.1:7878 (0.0.0.0 to accept devices from the LAN)`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export interface SerialSpec {
  path: string;
  baudRate?: number;
}

const BAUDS = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1382400, 2000000]);

/** "/dev/rfcomm0@9600" or "/dev/ttyUSB1" (baud then defaults per link kind). */
export function parseSerial(raw: string): SerialSpec {
  const m = /^(\/[^@]+)(?:@(\d+))?$/.exec(raw);
  if (!m) throw usageError('serial', `--serial ${raw} is not /dev/PATH[@BAUD]`, 'e.g. --serial /dev/rfcomm0@9600 or --serial /dev/ttyUSB1@115200');
  if (m[2] === undefined) return { path: m[1]! };
  const baudRate = Number(m[2]);
  if (!BAUDS.has(baudRate)) throw usageError('serial', `--serial ${raw}: ${baudRate} is not a standard baud rate`, `use one of ${[...BAUDS].join(', ')}`);
  return { path: m[1]!, baudRate };
}
