import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * Which processes have `devicePath` open. Reads /proc/<pid>/fd directly, so it works where lsof
 * and fuser are not installed (minimal images, Raspberry Pi OS Lite). Processes of other users
 * are only visible to root; the caller says so when the list is empty.
 */
export function findPortHolders(devicePath: string, procRoot = '/proc', excludePid = process.pid): PortHolder[] {
  let target: string;
  try {
    target = realpathSync(devicePath);
  } catch {
    target = devicePath;
  }
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const holders: PortHolder[] = [];
  for (const pid of pids) {
    if (Number(pid) === excludePid) continue;
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, pid, 'fd'));
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(join(procRoot, pid, 'fd', fd)) === target;
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid: Number(pid), command: commandLine(procRoot, pid) });
  }
  return holders;
}

function commandLine(procRoot: string, pid: string): string {
  try {
    const argv = readFileSync(join(procRoot, pid, 'cmdline'), 'utf8').split('\0').filter(Boolean);
    if (argv.length) return argv.join(' ').slice(0, 200);
  } catch {
    /* fall through to comm */
  }
  try {
    return readFileSync(join(procRoot, pid, 'comm'), 'utf8').trim();
  } catch {
    return '?';
  }
}
