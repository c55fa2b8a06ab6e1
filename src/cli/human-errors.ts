import { readFileSync, statSync } from 'node:fs';
import { EparaError, LinkError } from '../errors.js';
import { WIRE } from '../protocol/error-codes.js';
import { CliError } from './cli-error.js';
import { findPortHolders } from './port-holders.js';

/**
 * Turn whatever a command threw into an EparaError a person can act on. EparaErrors from the
 * SDK keep their code; a few get a sharper CLI hint (a wrong key means re-provisioning, a busy
 * or forbidden port gets the process or group to deal with). Raw Node errors become cli.* errors.
 */
export function humanize(e: unknown, opts: { path?: string } = {}): EparaError {
  // A CliError was written for people already; SDK errors may get a sharper CLI hint.
  if (e instanceof CliError) return e;
  if (e instanceof EparaError) return sharpen(e, opts.path ?? pathOf(e));
  const errno = e as NodeJS.ErrnoException;
  const path = opts.path ?? errno?.path;
  if (errno && typeof errno.code === 'string') {
    const mapped = fromErrno(errno.code, path, errno);
    if (mapped) return mapped;
  }
  const message = e instanceof Error ? e.message : String(e);
  // serialport reports errno codes only inside the message ("Error: Permission denied, cannot open /dev/ttyUSB0").
  if (/permission denied/i.test(message)) return fromErrno('EACCES', path, e)!;
  if (/cannot lock port|resource temporarily unavailable|resource busy/i.test(message)) return fromErrno('EBUSY', path, e)!;
  if (/no such file or directory/i.test(message)) return fromErrno('ENOENT', path, e)!;
  return new CliError({
    code: 'internal',
    reason: `unexpected failure: ${message.split('\n')[0]}`,
    hint: 'run again with --verbose; if it persists, report it with the command line you used',
    wire: WIRE.internal,
    cause: e,
  });
}

function pathOf(e: EparaError): string | undefined {
  const p = e.details?.path;
  return typeof p === 'string' ? p : undefined;
}

function sharpen(e: EparaError, path: string | undefined): EparaError {
  switch (e.code) {
    case 'auth.bad_mac':
    case 'auth.unknown_device':
    case 'auth.revoked': {
      const id = typeof e.details?.deviceId === 'string' ? e.details.deviceId : '<id>';
      return rehint(e, `the device's key does not match the registry: store the key \`epara register ${id}\` printed on the device again; if it is lost, re-provision: \`epara devices rm ${id}\`, then \`epara register <new-id> --class <class>\` and put the new id and key on the device`);
    }
    case 'auth.pending_approval': {
      const id = typeof e.details?.deviceId === 'string' ? e.details.deviceId : '<id>';
      return rehint(e, `approve the device with \`epara devices approve ${id}\``);
    }
    case 'link.permission':
      return path ? fromErrno('EACCES', path, e) ?? e : e;
    case 'link.busy':
      return path ? fromErrno('EBUSY', path, e) ?? e : e;
    default:
      return e;
  }
}

function rehint(e: EparaError, hint: string): EparaError {
  const Ctor = e.constructor as new (init: ConstructorParameters<typeof EparaError>[0]) => EparaError;
  return new Ctor({ code: e.code, reason: e.reason, hint, wire: e.wire, field: e.field, details: e.details, cause: e });
}

/** A tty is a character device (also through a symlink such as socat's or udev's by-id links). */
function isTty(path: string): boolean {
  if (/^\/dev\/(tty|rfcomm)/.test(path)) return true;
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Name of the group owning `path`, from /etc/group (no getent needed). */
function groupOf(path: string): string | undefined {
  try {
    const gid = statSync(path).gid;
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
    return line?.split(':')[0];
  } catch {
    return undefined;
  }
}

function fromErrno(code: string, path: string | undefined, cause: unknown): EparaError | undefined {
  const where = path ?? 'the port';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      if (path && isTty(path)) {
        const group = groupOf(path);
        return new LinkError({
          code: 'link.permission',
          wire: WIRE['link.permission'],
          reason: `permission denied opening ${path}`,
          hint:
            group === undefined || group === 'dialout'
              ? `serial ports belong to group dialout: run \`sudo usermod -aG dialout $USER\`, then log out and back in (or \`newgrp dialout\`)`
              : `${path} belongs to group ${group}: add yourself with \`sudo usermod -aG ${group} $USER\` (Debian's serial ports use dialout), then log in again`,
          details: { path, group },
          cause,
        });
      }
      return new CliError({
        code: 'cli.permission',
        reason: `permission denied: ${where}`,
        hint: 'check the file owner and mode, or pass a path you can use (e.g. --data-dir)',
        details: { path },
        cause,
      });
    case 'EBUSY':
    case 'EAGAIN': {
      const holders = path ? findPortHolders(path) : [];
      const who = holders.length
        ? `it is held by ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')}; stop that process first`
        : 'another program has it open (a serial monitor, ModemManager, another epara); close it, or check with `sudo fuser -v ' + where + '`';
      return new LinkError({
        code: 'link.busy',
        wire: WIRE['link.busy'],
        reason: `${where} is busy`,
        hint: who,
        details: { path, holders },
        cause,
      });
    }
    case 'ENOENT':
      return new CliError({
        code: 'cli.not_found',
        reason: `${where} does not exist`,
        hint: path && path.startsWith('/dev/') ? 'run `epara ports` to see the serial ports present (and what is attached)' : 'check the path',
        details: { path },
        cause,
      });
    case 'ECONNREFUSED':
      return new CliError({
        code: 'cli.server_unreachable',
        reason: 'no epara server is answering',
        hint: 'start one with `epara serve --http 127.0.0.1:8080` (in another terminal), or point --server at it',
        cause,
      });
    default:
      return undefined;
  }
}
