import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { LinkError } from '../errors.js';
import { linkError } from './link-errors.js';

/** Which processes hold `path` open, via fuser or lsof when installed. Never throws. */
export async function whoHolds(path: string): Promise<{ pids: number[]; names: string[]; tool?: string }> {
  const run = (cmd: string, args: string[]): Promise<string | undefined> =>
    new Promise((resolve) => {
      execFile(cmd, args, { timeout: 1500 }, (err, stdout) => {
        // fuser exits 1 when nobody holds the file; ENOENT means the tool is missing.
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve(undefined);
        else resolve(String(stdout ?? ''));
      });
    });
  let tool: string | undefined;
  let out = await run('fuser', [path]);
  if (out !== undefined) tool = 'fuser';
  else {
    out = await run('lsof', ['-t', path]);
    if (out !== undefined) tool = 'lsof';
  }
  const pids = [...new Set((out ?? '').match(/\d+/g)?.map(Number) ?? [])];
  const names: string[] = [];
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?');
    names.push(`${comm.trim()} (pid ${pid})${pid === process.pid ? ' — this process' : ''}`);
  }
  return { pids, names, tool };
}

/**
 * Turns a serialport open/write error into a LinkError with a hint a user can act on. The
 * native binding gives only messages ("Error: Permission denied, cannot open …"), so match on
 * them as well as on errno codes.
 */
export async function serialOpenError(path: string, err: unknown): Promise<LinkError> {
  const e = err as { message?: string; code?: string } | undefined;
  const msg = String(e?.message ?? err);
  const details = { path, cause: msg };
  if (e?.code === 'EACCES' || /permission denied|EACCES/i.test(msg)) {
    return linkError(
      'link.permission',
      `no permission to open ${path}`,
      `add your user to the group that owns the port (usually: sudo usermod -aG dialout $USER, then log out and in); check with ls -l ${path}`,
      { details, cause: err, field: 'path' },
    );
  }
  if (e?.code === 'EBUSY' || /cannot lock port|resource temporarily unavailable|EBUSY|device or resource busy/i.test(msg)) {
    const holders = await whoHolds(path);
    const hint =
      holders.names.length > 0
        ? `${path} is held by ${holders.names.join(', ')}; stop it (or close the other session) and retry`
        : holders.tool
          ? `${path} is locked by another open (${holders.tool} found no holder we may inspect; try sudo fuser -v ${path})`
          : `another program has ${path} open; find it with: fuser -v ${path}  or  lsof ${path}`;
    return linkError('link.busy', `${path} is in use`, hint, { details: { ...details, holders: holders.names }, cause: err, field: 'path' });
  }
  if (e?.code === 'ENOENT' || /no such file|ENOENT/i.test(msg)) {
    return linkError(
      'link.open_failed',
      `serial port ${path} does not exist`,
      /rfcomm/.test(path)
        ? `bind the Bluetooth SPP device first (e.g. sudo rfcomm bind 0 <HC-05 address>); list ports with: epara ports`
        : 'check the cable and the path; list the ports this machine has with: epara ports',
      { details, cause: err, field: 'path' },
    );
  }
  if (/inappropriate ioctl|ENOTTY/i.test(msg)) {
    return linkError('link.open_failed', `${path} is not a serial port`, 'pass a tty device such as /dev/ttyUSB0, /dev/ttyACM0 or /dev/rfcomm0 (epara ports lists them)', {
      details,
      cause: err,
      field: 'path',
    });
  }
  return linkError('link.open_failed', `could not open ${path}: ${msg.replace(/\s+/g, ' ').slice(0, 160)}`, 'check the path, the baud rate and that the device is powered; epara ports lists the ports', {
    details,
    cause: err,
  });
}
