import { randomBytes } from 'node:crypto';
import { authMac } from '../../../src/device-mgmt/auth.js';
import type { EparaError } from '../../../src/errors.js';
import type { ChallengeMessage, HelloMessage, Message, WelcomeMessage } from '../../../src/protocol/index.js';
import { FrameLink } from '../../../src/transport/frame-link.js';
import { connectTcp } from '../../../src/transport/tcp.js';

/**
 * A device driven message by message from a test: real TCP, real FrameLink, real codec. Used
 * for the paths a well-behaved device never takes (replays, wrong versions, duplicate sessions).
 */
export class RawDevice {
  challenge: ChallengeMessage | undefined;
  welcome: WelcomeMessage | undefined;
  lastAuth: Message | undefined;
  closed = false;
  readonly requests: Message[] = [];
  /** Scripted answers: return a message to answer a server request with it, undefined for the default. */
  handler: ((m: Message) => Message | undefined) | undefined;

  private constructor(readonly link: FrameLink) {
    link.on('close', () => {
      this.closed = true;
    });
    // Answer what a minimal device must answer so server-initiated requests do not hang.
    link.on('request', (frame, reply) => {
      this.requests.push(frame.message);
      const m = frame.message;
      const custom = this.handler?.(m);
      if (custom) return reply(custom);
      if (m.type === 'PING') return reply({ type: 'PONG' });
      if (m.type === 'PLACEMENT') return reply({ type: 'PLACEMENT_ACK', planVersion: m.planVersion, results: m.ops.map((o) => ({ service: o.service, code: 0 })) });
      return reply({ type: 'ERROR', code: 901, reason: 'raw test device does not do that' });
    });
  }

  static async connect(port: number): Promise<RawDevice> {
    const stream = await connectTcp({ host: '127.0.0.1', port });
    return new RawDevice(new FrameLink(stream, { requestTimeoutMs: 2000, retries: 1 }));
  }

  hello(id: string, over: Partial<HelloMessage> = {}): Promise<Message> {
    const msg: HelloMessage = {
      type: 'HELLO',
      deviceId: id,
      deviceClass: 'microcomputer',
      proto: [1, 1],
      firmware: 'raw-test/1',
      caps: { cpuCores: 4, memoryKiB: 1024 * 1024, computeMops: 1000 },
      maxFrame: 1024,
      rxWindow: 4,
      ...over,
    };
    return this.link.request(msg).then((r) => {
      if (r.type === 'CHALLENGE') this.challenge = r;
      return r;
    });
  }

  /** AUTH for the outstanding challenge with `key`; `deviceNonce` may be forced for replay tests. */
  async auth(id: string, key: Uint8Array, over: { serverNonce?: Uint8Array; deviceNonce?: Uint8Array } = {}): Promise<Message> {
    const serverNonce = over.serverNonce ?? this.challenge!.nonce;
    const deviceNonce = over.deviceNonce ?? new Uint8Array(randomBytes(16));
    const msg: Message = { type: 'AUTH', serverNonce, deviceNonce, mac: authMac(key, serverNonce, deviceNonce, id) };
    this.lastAuth = msg;
    const r = await this.link.request(msg);
    if (r.type === 'WELCOME') this.welcome = r;
    return r;
  }

  /** Sends a prepared message as a request and returns the response or the typed error it rejected with. */
  async send(msg: Message): Promise<Message | EparaError> {
    try {
      return await this.link.request(msg);
    } catch (e) {
      return e as EparaError;
    }
  }

  async register(id: string, key: Uint8Array, over: Partial<HelloMessage> = {}): Promise<WelcomeMessage> {
    const c = await this.hello(id, over);
    if (c.type !== 'CHALLENGE') throw new Error(`expected CHALLENGE, got ${c.type}`);
    const w = await this.auth(id, key);
    if (w.type !== 'WELCOME') throw new Error(`expected WELCOME, got ${w.type}`);
    this.link.setNegotiated({ maxFrame: c.maxFrame, window: c.window });
    return w;
  }

  heartbeat(uptimeMs = 1000): Promise<Message> {
    return this.link.request({ type: 'HEARTBEAT', uptimeMs });
  }

  state(over: Partial<Extract<Message, { type: 'STATE' }>> = {}): Promise<void> {
    return this.link.notify({ type: 'STATE', loadPermille: 100, memFreeKiB: 500_000, services: [], uptimeMs: 1000, ...over });
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/** Catches a rejected promise as its typed error. */
export async function rejection(p: Promise<unknown>): Promise<EparaError> {
  try {
    await p;
  } catch (e) {
    return e as EparaError;
  }
  throw new Error('expected a rejection');
}

/** Waits for an event on an emitter that satisfies `pred`; no wall-clock assertion, only a generous cap. */
export function waitFor<T>(emitter: { on(e: string, l: (x: T) => void): unknown; off(e: string, l: (x: T) => void): unknown }, event: string, pred: (x: T) => boolean = () => true, capMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${event}`));
    }, capMs);
    const on = (x: T): void => {
      if (!pred(x)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(x);
    };
    emitter.on(event, on);
  });
}

/** Polls a condition (for state that has no event); capped, not timed. */
export async function until(cond: () => boolean, capMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > capMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
