import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const haveSocat = spawnSync('sh', ['-c', 'command -v socat']).status === 0;

export interface PtyPair {
  a: string;
  b: string;
  proc: ChildProcess;
  /** Kills socat: both ptys hang up, like a USB adapter being pulled. */
  kill(): Promise<void>;
}

/** A linked pair of real kernel pseudo-terminals, made by socat. */
export async function ptyPair(): Promise<PtyPair> {
  const proc = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const paths = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat gave no ptys: ${err}`)), 5000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const found = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
      if (found.length >= 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    proc.on('exit', (code) => reject(new Error(`socat exited ${code}: ${err}`)));
  });
  return {
    a: paths[0]!,
    b: paths[1]!,
    proc,
    kill: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
