import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { EventArgs } from '../event-map.js';
import { AuthError, EparaError, LinkError, ProtocolError } from '../errors.js';
import { authMac, macsEqual, NONCE_BYTES, serverMac } from '../protocol/auth-mac.js';
import { DEFAULT_MAX_FRAME, MIN_MAX_FRAME, WIRE, type Capabilities, type DeviceClass, type Message } from '../protocol/index.js';
import type { ByteStream } from '../transport/byte-stream.js';
import { FrameLink } from '../transport/frame-link.js';
import { asEparaError } from './client-errors.js';
import type { DeviceEvents } from './device.js';
import type { EparaDeviceOptions, ResolvedDeviceOptions } from './device-options.js';
import { checkChosenVersion } from './protocol-versions.js';
import type { DeviceSession } from './session.js';
import { backoffDelay } from '../transport/reconnect.js';
import { wakeableSleep } from '../transport/wakeable-sleep.js';

export const CLIENT_FIRMWARE = 'epara-client/0.1.0';

export interface LinkLoopHost {
  readonly id: string;
  readonly deviceClass: DeviceClass;
  readonly caps: Capabilities;
  readonly key: Buffer;
  readonly session: DeviceSession;
  readonly opts: ResolvedDeviceOptions;
  readonly options: EparaDeviceOptions;
  /** The device's events: state, registered, link-lost. */
  readonly events: Pick<EventEmitter<EventArgs<DeviceEvents>>, 'emit'>;
  report(err: EparaError): void;
  /** Give up (the first connect failed for good): what EparaDevice.close({ graceful: false }) does. */
  close(): Promise<void>;
  /** Wire the link's requests and notifications to the handler table; they wait for `welcomed` and are dropped when it is false. */
  attach(link: FrameLink, welcomed: Promise<boolean>): void;
  sendState(): Promise<void>;
  timersStopped(): void;
  uptimeMs(): number;
}

/**
 * The device's connection loop (SPEC §7.1, §7.4, device view): open a stream, HELLO → CHALLENGE →
 * AUTH → WELCOME (verifying the server's MAC too), heartbeat on the negotiated period, and on a
 * lost link back off (capped, jittered) and reconnect with HELLO `resume`. The device session
 * state machine (session.ts) says what may happen next; this acts on the state it lands in.
 */
export class LinkLoop {
  /** The current link, from stream open until it is lost. */
  link: FrameLink | undefined;
  negotiated = { maxFrame: DEFAULT_MAX_FRAME, heartbeatMs: 0, stateMs: 0, leaseMs: 0, protocolVersion: 0 };
  /** Settles when the loop has ended (closed, or a single stream dropped). */
  done: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private attempt = 0;
  private waking: (() => void) | undefined;

  constructor(private readonly h: LinkLoopHost) {}

  /** Cuts a backoff wait short (close). */
  wake(): void {
    this.waking?.();
  }

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const deadline = setTimeout(() => {
        if (settled) return;
        settled = true;
        void this.h.close();
        reject(new LinkError({ code: 'link.timeout', wire: WIRE['link.timeout'], reason: `no session with the server within ${this.h.opts.connectTimeoutMs} ms`, hint: 'check the server address and that it is running', details: { timeoutMs: this.h.opts.connectTimeoutMs } }));
      }, this.h.opts.connectTimeoutMs);
      const first = (err?: EparaError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) {
          void this.h.close();
          reject(err);
        } else resolve();
      };
      this.h.session.fire('start');
      this.done = this.loop(first);
    });
  }

  private async loop(first: (err?: EparaError) => void): Promise<void> {
    let firstDone = false;
    const once = (err?: EparaError) => {
      if (!firstDone) {
        firstDone = true;
        first(err);
      }
    };
    while (this.h.session.state === 'connecting') {
      this.h.events.emit('state', 'connecting');
      let stream: ByteStream;
      try {
        stream = await this.openStream();
      } catch (e) {
        const err = asEparaError(e, (m) => new LinkError({ code: 'link.open_failed', wire: WIRE['link.open_failed'], reason: m, hint: 'check the link to the server', cause: e }));
        if (this.h.session.tryFire('link_failed') !== 'backoff') break;
        if (!this.h.options.connector) {
          once(err);
          break;
        }
        this.h.report(err);
        await this.backoff();
        continue;
      }
      if (this.h.session.state !== 'connecting') {
        await stream.close().catch(() => undefined);
        break;
      }
      const link = new FrameLink(stream, this.h.options.link ?? {});
      this.link = link;
      const lost = new Promise<EparaError | undefined>((resolve) => link.on('close', (err?: EparaError) => resolve(err)));
      this.h.session.fire('link_open');
      this.h.events.emit('state', 'hello');
      try {
        await this.handshake(link);
        this.attempt = 0;
        once();
      } catch (e) {
        const err = asEparaError(e, (m) => new AuthError({ code: 'auth.timeout', wire: WIRE['auth.timeout'], reason: m, hint: 'the server did not complete the handshake' }));
        await link.close().catch(() => undefined);
        this.link = undefined;
        if (this.h.session.tryFire('failed') !== 'backoff' && this.h.session.tryFire('link_lost') !== 'backoff') break;
        // A refused key will not be accepted on retry: fail the first connect right away.
        const refused = (err instanceof AuthError && err.code !== 'auth.pending_approval' && err.code !== 'auth.timeout') || err.code.startsWith('proto.');
        if (!firstDone && refused) {
          once(err);
          break;
        }
        this.h.report(err);
        if (!this.h.options.connector) {
          once(err);
          break;
        }
        await this.backoff();
        continue;
      }
      const reason = await lost;
      this.stopTimers();
      this.link = undefined;
      if (this.h.session.tryFire('link_lost') !== 'backoff') break;
      this.h.events.emit('link-lost', reason);
      if (!this.h.options.connector) {
        this.h.session.tryFire('close');
        this.h.events.emit('state', 'closed');
        break;
      }
      await this.backoff();
    }
  }

  private async openStream(): Promise<ByteStream> {
    if (this.h.options.connector) return this.h.options.connector();
    if (this.h.options.stream && this.h.options.stream.isOpen && !this.link) return this.h.options.stream;
    throw new LinkError({ code: 'link.closed', wire: WIRE['link.closed'], reason: 'the device was given a single stream and it is closed', hint: 'pass a connector to let the device reconnect' });
  }

  private async backoff(): Promise<void> {
    this.h.events.emit('state', 'backoff');
    // this.attempt counts failures so far; retry number attempt+1 (1-based, as backoffDelay counts).
    // 1 − random and the rounding keep the delays a seeded device drew before the two were one.
    const random = this.h.options.random ?? Math.random;
    const ms = Math.round(backoffDelay(++this.attempt, this.h.opts.reconnect, () => 1 - random()));
    await wakeableSleep(ms, (wake) => (this.waking = wake));
    this.waking = undefined;
    this.h.session.tryFire('retry');
  }

  private async handshake(link: FrameLink): Promise<void> {
    const t = { timeoutMs: this.h.opts.handshakeTimeoutMs };
    const hello: Message = {
      type: 'HELLO',
      deviceId: this.h.id,
      deviceClass: this.h.deviceClass,
      proto: [...this.h.opts.proto],
      firmware: (this.h.options.firmware ?? CLIENT_FIRMWARE).slice(0, 32),
      caps: this.h.caps,
      maxFrame: this.h.opts.maxFrame,
      rxWindow: this.h.opts.rxWindow,
      keepaliveMs: this.h.opts.keepaliveMs,
      ...(this.h.session.sessionId ? { resume: this.h.session.sessionId } : {}),
    };
    const ch = await link.request(hello, t);
    if (ch.type !== 'CHALLENGE') throw unexpected('CHALLENGE', ch.type);
    checkChosenVersion(this.h.opts.proto, ch.version);
    if (ch.maxFrame < MIN_MAX_FRAME || ch.maxFrame > this.h.opts.maxFrame || ch.window < 1) {
      throw new ProtocolError({ code: 'proto.frame_size', wire: WIRE['proto.frame_size'], reason: `server proposed maxFrame ${ch.maxFrame} / window ${ch.window}, outside what this device offered`, hint: 'the server must pick min(device, server) values' });
    }
    this.h.session.fire('challenge');
    this.h.events.emit('state', 'auth');
    const deviceNonce = randomBytes(NONCE_BYTES);
    const mac = authMac(this.h.key, ch.nonce, deviceNonce, this.h.id);
    // Handlers go on before AUTH: the server may send a request right behind WELCOME, in the same
    // read, and it would be dispatched before this function resumes (answered not_supported). They
    // hold what arrives until the server's MAC is checked, and drop it if the handshake fails.
    let welcomed: (ok: boolean) => void = () => undefined;
    this.h.attach(link, new Promise<boolean>((resolve) => (welcomed = resolve)));
    let wel: Message;
    try {
      wel = await link.request({ type: 'AUTH', serverNonce: ch.nonce, deviceNonce, mac }, t);
      if (wel.type !== 'WELCOME') throw unexpected('WELCOME', wel.type);
      if (!macsEqual(wel.serverMac, serverMac(this.h.key, deviceNonce, ch.nonce, this.h.id))) {
        throw new AuthError({ code: 'auth.server_mac', wire: WIRE['auth.server_mac'], reason: 'the server could not prove it knows this device key', hint: 'the device is talking to the wrong server or an impostor; check the address and the provisioned key' });
      }
    } catch (e) {
      welcomed(false);
      throw e;
    }
    link.setNegotiated({ maxFrame: ch.maxFrame, window: ch.window, protocolVersion: ch.version });
    this.negotiated = { maxFrame: ch.maxFrame, heartbeatMs: wel.heartbeatMs, stateMs: wel.stateMs, leaseMs: wel.leaseMs, protocolVersion: ch.version };
    this.h.session.sessionId = new Uint8Array(wel.sessionId);
    this.h.session.fire('welcome');
    welcomed(true);
    this.h.events.emit('state', 'ready');
    this.startTimers(link);
    this.h.events.emit('registered', { sessionId: Buffer.from(wel.sessionId).toString('hex'), resumed: wel.resumed === true, maxFrame: ch.maxFrame, heartbeatMs: wel.heartbeatMs, stateMs: wel.stateMs });
    void this.h.sendState();
  }

  private startTimers(link: FrameLink): void {
    const { heartbeatMs, stateMs } = this.negotiated;
    if (heartbeatMs > 0) {
      this.timers.push(
        setInterval(() => {
          link.request({ type: 'HEARTBEAT', uptimeMs: this.h.uptimeMs() }, { timeoutMs: Math.max(heartbeatMs, 1000) }).catch((e: unknown) => {
            // An unanswered heartbeat means the server no longer hears us: drop and reconnect.
            if (e instanceof LinkError && this.link === link) void link.close();
          });
        }, heartbeatMs),
      );
    }
    if (stateMs > 0) this.timers.push(setInterval(() => void this.h.sendState(), stateMs));
  }

  stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.h.timersStopped();
  }
}

function unexpected(wanted: string, got: string): EparaError {
  return new EparaError({ code: 'msg.unexpected', wire: WIRE['msg.unexpected'], reason: `expected ${wanted}, got ${got}`, hint: 'the server does not follow SPEC §7.1' });
}
