import { usageError } from '../cli-error.js';

/**
 * The HC-05 AT command set as far as epara needs it (name, PIN, data-mode UART, role), pure:
 * building commands, validating values, parsing replies. Replies are `OK`, `+KEY:value` lines
 * followed by `OK`, or `ERROR:(n)` with n in hex (EGBT-045MS / HC-03/05 AT command set).
 */

/** ERROR:(n) codes from the HC-03/05 AT command set document (n is hexadecimal). */
export const HC05_ERRORS: Readonly<Record<number, string>> = {
  0x00: 'AT command error (unknown command or bad syntax)',
  0x01: 'default result',
  0x02: 'PSKEY write error (flash write failed)',
  0x03: 'device name too long (more than 32 bytes)',
  0x04: 'no device name',
  0x05: 'Bluetooth address: NAP too long',
  0x06: 'Bluetooth address: UAP too long',
  0x07: 'Bluetooth address: LAP too long',
  0x08: 'no PIO number mask',
  0x09: 'no PIO number',
  0x0a: 'no Bluetooth devices',
  0x0b: 'too many devices',
  0x0c: 'no inquiry access code',
  0x0d: 'inquiry access code too long',
  0x0e: 'invalid inquiry access code',
  0x0f: 'passkey length is 0',
  0x10: 'passkey too long (more than 16 bytes)',
  0x11: 'invalid module role',
  0x12: 'invalid baud rate',
  0x13: 'invalid stop bit',
  0x14: 'invalid parity bit',
  0x15: 'authentication device is not in the pair list',
  0x16: 'SPP library not initialised',
  0x17: 'SPP library initialised twice',
  0x18: 'invalid inquiry mode',
  0x19: 'inquiry time too long',
  0x1a: 'no Bluetooth address',
  0x1b: 'invalid safe mode',
  0x1c: 'invalid encryption mode',
};

export function decodeHc05Error(hex: string): string {
  const n = parseInt(hex, 16);
  return HC05_ERRORS[n] ?? `error ${hex} (not in the HC-05 AT command set table; v3 firmware adds codes for commands only allowed in one of its two AT modes)`;
}

export type AtReply =
  | { kind: 'ok'; values: Record<string, string> }
  | { kind: 'error'; code: string; meaning: string; values: Record<string, string> };

/**
 * Parse the lines a module sent for one command. Returns undefined while the reply is not
 * complete yet (no OK / ERROR line). `+NAME:x` and `NAME:x` (some v3 firmware drops the plus)
 * both count as values.
 */
export function parseAtReply(lines: readonly string[]): AtReply | undefined {
  const values: Record<string, string> = {};
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    if (line === 'OK') return { kind: 'ok', values };
    const err = /^ERROR:?\s*\(?([0-9A-Fa-f]+)\)?$/.exec(line);
    if (err) return { kind: 'error', code: err[1]!.toUpperCase(), meaning: decodeHc05Error(err[1]!), values };
    const kv = /^\+?([A-Z]+):(.*)$/.exec(line);
    if (kv) values[kv[1]!] = kv[2]!.trim();
  }
  return undefined;
}

export const HC05_BAUDS = [4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1382400] as const;
export const ROLES = { slave: 0, master: 1, 'slave-loop': 2 } as const;

export interface Hc05Settings {
  name?: string;
  pin?: string;
  baud?: number;
  role?: 0 | 1 | 2;
}

export function validateSettings(raw: { name?: string; pin?: string; baud?: string; role?: string }): Hc05Settings {
  const s: Hc05Settings = {};
  if (raw.name !== undefined) {
    if (!/^[\x20-\x7e]{1,32}$/.test(raw.name) || raw.name.includes(',')) throw usageError('name', `--name "${raw.name}" must be 1 to 32 printable ASCII characters without commas`, 'e.g. --name FPGA-EDGE');
    s.name = raw.name;
  }
  if (raw.pin !== undefined) {
    if (!/^[0-9]{4,16}$/.test(raw.pin)) throw usageError('pin', `--pin "${raw.pin}" must be 4 to 16 digits`, 'e.g. --pin 4821 (the factory PIN is 1234)');
    s.pin = raw.pin;
  }
  if (raw.baud !== undefined) {
    const b = Number(raw.baud);
    if (!(HC05_BAUDS as readonly number[]).includes(b)) throw usageError('baud', `--baud ${raw.baud} is not a rate the HC-05 supports`, `choose one of ${HC05_BAUDS.join(', ')} (the Basys 3 bitstream runs at 9600 unless built with BAUD=115200)`);
    s.baud = b;
  }
  if (raw.role !== undefined) {
    const r = raw.role in ROLES ? ROLES[raw.role as keyof typeof ROLES] : Number(raw.role);
    if (r !== 0 && r !== 1 && r !== 2) throw usageError('role', `--role ${raw.role} must be slave (0), master (1) or slave-loop (2)`, 'a device (slave) waits for the host to connect: use --role slave');
    s.role = r;
  }
  return s;
}

/** v3.x firmware wants the PIN quoted (AT+PSWD="1234"); 2.x takes it bare. */
export function firmwareMajor(version: string | undefined): number | undefined {
  const m = /(\d+)\.\d+/.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface AtStep {
  command: string;
  /** What the value should read back as (for the verify pass). */
  expect?: { key: string; value: string };
  purpose: string;
}

/** Commands to apply settings, then to read each one back. Pure. */
export function planCommands(s: Hc05Settings, version: string | undefined): { set: AtStep[]; verify: AtStep[] } {
  const quoted = (firmwareMajor(version) ?? 2) >= 3;
  const set: AtStep[] = [];
  const verify: AtStep[] = [];
  if (s.name !== undefined) {
    set.push({ command: `AT+NAME=${s.name}`, purpose: 'set the Bluetooth name' });
    verify.push({ command: 'AT+NAME?', expect: { key: 'NAME', value: s.name }, purpose: 'read the name back' });
  }
  if (s.pin !== undefined) {
    set.push({ command: quoted ? `AT+PSWD="${s.pin}"` : `AT+PSWD=${s.pin}`, purpose: 'set the PIN' });
    verify.push({ command: 'AT+PSWD?', expect: { key: 'PSWD', value: s.pin }, purpose: 'read the PIN back' });
  }
  if (s.baud !== undefined) {
    set.push({ command: `AT+UART=${s.baud},0,0`, purpose: 'set the data-mode UART (8N1)' });
    verify.push({ command: 'AT+UART?', expect: { key: 'UART', value: `${s.baud},0,0` }, purpose: 'read the UART back' });
  }
  if (s.role !== undefined) {
    set.push({ command: `AT+ROLE=${s.role}`, purpose: 'set the role' });
    verify.push({ command: 'AT+ROLE?', expect: { key: 'ROLE', value: String(s.role) }, purpose: 'read the role back' });
  }
  return { set, verify };
}

/** Compare a read-back value, tolerating the quotes v3 firmware puts around strings. */
export function valueMatches(got: string | undefined, want: string): boolean {
  // (callers pass values.PSWD ?? values.PIN: firmware differs in which key it answers with)
  if (got === undefined) return false;
  return got.replace(/^"(.*)"$/, '$1') === want;
}

/** `+ADDR:98d3:31:f51234` → `98:D3:31:F5:12:34` (the form bluez wants). */
export function addrToMac(addr: string): string | undefined {
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,2}):([0-9a-f]{1,6})$/i.exec(addr.trim());
  if (!m) return undefined;
  const hex = (m[1]!.padStart(4, '0') + m[2]!.padStart(2, '0') + m[3]!.padStart(6, '0')).toUpperCase();
  return hex.match(/../g)!.join(':');
}
