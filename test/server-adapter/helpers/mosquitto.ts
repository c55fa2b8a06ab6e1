import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's mosquitto broker and clients, started by the test on a loopback port (skipped with the reason when missing). */
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status === 0;
export const MOSQUITTO = has('mosquitto') ? (spawnSync('sh', ['-c', 'command -v mosquitto']).stdout.toString().trim() || '/usr/sbin/mosquitto') : undefined;
export const haveMosquitto = MOSQUITTO !== undefined && has('mosquitto_sub') && has('mosquitto_rr') && has('mosquitto_passwd');
export const mosquittoMissing = haveMosquitto ? '' : 'mosquitto and mosquitto-clients are not installed (.ci/run installs them)';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Broker {
  port: number;
  dir: string;
  /** Stops the broker (its retained messages go with it: persistence is off). */
  stop(): Promise<void>;
  /** Start it again on the same port (after stop). */
  start(): Promise<void>;
  /** Stop and remove its temp dir. */
  cleanup(): Promise<void>;
}

export interface BrokerOptions {
  port?: number;
  /** user → password; anonymous clients are refused when given. */
  users?: Record<string, string>;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

export async function startMosquitto(o: BrokerOptions = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'epara-mosquitto-'));
  const port = o.port ?? (await freePort());
  const conf = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error'];
  // Run as root, mosquitto would switch to its own user, which cannot read this 0700 temp dir.
  if (process.getuid?.() === 0) conf.push('user root');
  if (o.users) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(o.users)) spawnSync('mosquitto_passwd', ['-b', pw, u, p], { stdio: 'ignore' });
    conf.push('allow_anonymous false', `password_file ${pw}`);
  } else conf.push('allow_anonymous true');
  if (o.tls) {
    writeFileSync(join(dir, 'ca.crt'), o.tls.ca);
    writeFileSync(join(dir, 'server.crt'), o.tls.cert);
    writeFileSync(join(dir, 'server.key'), o.tls.key);
    conf.push(`cafile ${join(dir, 'ca.crt')}`, `certfile ${join(dir, 'server.crt')}`, `keyfile ${join(dir, 'server.key')}`);
  }
  writeFileSync(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
  let child: ChildProcess | undefined;
  const b: Broker = {
    port,
    dir,
    start: async () => {
      child = spawn(MOSQUITTO!, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      await accepting(port, 5000);
    },
    stop: async () => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((r) => {
        c.once('exit', () => r());
        c.kill('SIGTERM');
      });
    },
    cleanup: async () => {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await b.start();
  return b;
}

/** `mosquitto_sub -v`: every message as "topic payload", collected; `next` waits for a matching line. */
export interface Subscriber {
  lines: string[];
  next(pred: (topic: string, payload: string) => boolean, timeoutMs?: number): Promise<{ topic: string; payload: string }>;
  stop(): Promise<void>;
}

export function mosquittoSub(port: number, topicsWanted: string[], extra: string[] = []): Subscriber {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-v', '-V', 'mqttv5', ...topicsWanted.flatMap((t) => ['-t', t]), ...extra];
  const child = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ pred: (t: string, p: string) => boolean; done: (m: { topic: string; payload: string }) => void }> = [];
  const split = (l: string) => {
    const i = l.indexOf(' ');
    return i < 0 ? { topic: l, payload: '' } : { topic: l.slice(0, i), payload: l.slice(i + 1) };
  };
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      const m = split(line);
      for (const w of [...waiters]) if (w.pred(m.topic, m.payload)) (waiters.splice(waiters.indexOf(w), 1), w.done(m));
    }
  });
  return {
    lines,
    next: (pred, timeoutMs = 10_000) =>
      new Promise((ok, fail) => {
        const have = lines.map(split).find((m) => pred(m.topic, m.payload));
        if (have) return ok(have);
        const t = setTimeout(() => fail(new Error(`mosquitto_sub saw no matching message within ${timeoutMs} ms; saw:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ pred, done: (m) => (clearTimeout(t), ok(m)) });
      }),
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** `mosquitto_rr`: one MQTT 5 request with a response topic and correlation data; resolves with the response payload. */
export function mosquittoRr(port: number, topic: string, responseTopic: string, message: string, timeoutS = 10): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('mosquitto_rr', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-e', responseTopic, '-m', message, '-W', String(timeoutS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
