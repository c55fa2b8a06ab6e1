/**
 * bench/server.ts's device fleet: thousands of light emulated devices in one process, each a
 * real TCP socket speaking the real codec (encodeFrame / FrameDecoder) and the real handshake
 * (HMAC over the challenge), then a HEARTBEAT every second and a STATE every three seconds.
 * Light because a fleet of full EparaDevice objects would measure the emulator, not the server.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { authMac } from '../../src/device-mgmt/auth.js';
import { encodeFrame, FrameDecoder, type Frame, type Message } from '../../src/protocol/index.js';

type Cmd =
  | { op: 'register'; port: number; devices: Array<{ id: string; key: string }>; concurrency: number }
  | { op: 'bare'; port: number; n: number; concurrency: number }
  | { op: 'run'; on: boolean }
  | { op: 'counters' }
  | { op: 'leave' };

class LiteDevice {
  sock!: Socket;
  private readonly decoder = new FrameDecoder({ maxFrame: 1024 });
  private seq = 1;
  private readonly pending = new Map<number, (m: Message) => void>();
  alive = false;

  constructor(
    readonly id: string,
    private readonly key: Uint8Array,
  ) {}

  private send(msg: Message, h: { rsp?: boolean; corr?: number } = {}): number {
    const seq = this.seq;
    this.seq = (this.seq % 0xffff) + 1;
    this.sock.write(encodeFrame(msg, { seq, ...h, maxFrame: 1024 }));
    return seq;
  }

  request(msg: Message): Promise<Message> {
    return new Promise((resolve) => this.pending.set(this.send(msg), resolve));
  }

  notify(msg: Message): void {
    this.send(msg);
  }

  private onFrame(f: Frame): void {
    if (f.header.flags & 1) {
      const p = this.pending.get(f.header.corr);
      if (p) {
        this.pending.delete(f.header.corr);
        p(f.message);
      }
      return;
    }
    if (f.message.type === 'PING') this.send({ type: 'PONG' }, { rsp: true, corr: f.header.seq });
  }

  async register(port: number): Promise<boolean> {
    await new Promise<void>((resolve, reject) => {
      this.sock = connect({ host: '127.0.0.1', port }, () => resolve());
      this.sock.once('error', reject);
    });
    this.sock.setNoDelay(true);
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => {
      this.alive = false;
    });
    this.sock.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) if (!(f instanceof Error)) this.onFrame(f);
    });
    const ch = await this.request({
      type: 'HELLO',
      deviceId: this.id,
      deviceClass: 'mcu',
      proto: [1, 1],
      firmware: 'bench-lite/1',
      caps: { cpuCores: 1, memoryKiB: 256, computeMops: 100 },
      maxFrame: 1024,
      rxWindow: 4,
      keepaliveMs: 1000,
    });
    if (ch.type !== 'CHALLENGE') return false;
    const dn = new Uint8Array(randomBytes(16));
    const w = await this.request({ type: 'AUTH', serverNonce: ch.nonce, deviceNonce: dn, mac: authMac(this.key, ch.nonce, dn, this.id) });
    this.alive = w.type === 'WELCOME';
    return this.alive;
  }
}

const devices: LiteDevice[] = [];
const bareSockets: Socket[] = [];
let running = false;
let tick = 0;
const counters = { heartbeatsSent: 0, acks: 0, states: 0 };

/** Runs `n` jobs with at most `c` in flight. */
async function pool(n: number, c: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

// One 100 ms tick drives every device: device i heartbeats when tick % 10 == i % 10 (1 Hz,
// staggered) and sends STATE when tick % 30 == i % 30 (every 3 s).
setInterval(() => {
  if (!running) return;
  tick++;
  for (let i = tick % 10; i < devices.length; i += 10) {
    const d = devices[i]!;
    if (!d.alive) continue;
    counters.heartbeatsSent++;
    void d.request({ type: 'HEARTBEAT', uptimeMs: tick * 100 }).then(() => counters.acks++);
    if (tick % 30 === i % 30) {
      counters.states++;
      d.notify({ type: 'STATE', loadPermille: (i * 37) % 1000, memFreeKiB: 100, services: [{ name: 'kws', version: '1', status: 'ready', queueLen: i % 3, served: 5, violations: i % 2 }], uptimeMs: tick * 100 });
    }
  }
}, 100).unref();

process.on('message', (cmd: Cmd) => {
  void (async () => {
    if (cmd.op === 'register') {
      const t0 = performance.now();
      let ok = 0;
      let failed = 0;
      const fresh = cmd.devices.map((d) => new LiteDevice(d.id, new Uint8Array(Buffer.from(d.key, 'hex'))));
      await pool(fresh.length, cmd.concurrency, async (i) => {
        try {
          if (await fresh[i]!.register(cmd.port)) ok++;
          else failed++;
        } catch {
          failed++;
        }
      });
      devices.push(...fresh);
      process.send!({ op: 'registered', ms: performance.now() - t0, ok, failed });
    } else if (cmd.op === 'bare') {
      const t0 = performance.now();
      let ok = 0;
      await pool(cmd.n, cmd.concurrency, async () => {
        await new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: cmd.port }, () => {
            ok++;
            resolve();
          });
          s.on('error', () => resolve());
          bareSockets.push(s);
        });
      });
      const ms = performance.now() - t0;
      // RST instead of FIN: no TIME_WAIT, so the loopback port range lasts for 10k devices too.
      for (const s of bareSockets.splice(0)) s.resetAndDestroy();
      process.send!({ op: 'bare-done', ms, ok });
    } else if (cmd.op === 'run') {
      running = cmd.on;
      process.send!({ op: 'running', on: running });
    } else if (cmd.op === 'counters') {
      process.send!({ op: 'counters', ...counters, alive: devices.filter((d) => d.alive).length });
    } else if (cmd.op === 'leave') {
      running = false;
      for (const d of devices.splice(0)) {
        if (d.alive) d.notify({ type: 'BYE', code: 0 });
        d.sock.resetAndDestroy();
      }
      process.send!({ op: 'left' });
    }
  })();
});
process.send!({ op: 'ready' });
