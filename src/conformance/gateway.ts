/**
 * The gateway side the kit plays: takes the device's links as they come, runs the HELLO /
 * CHALLENGE / AUTH / WELCOME handshake (correctly, or wrong on purpose), and offers the checks a
 * few probes: a PING that proves the device is alive and has answered everything before it, an
 * expected ERROR, and a link drop that the device must notice.
 */
import { randomBytes } from 'node:crypto';
import { authMac, macsEqual, serverMac } from '../protocol/auth-mac.js';
import { FLAG_RSP, FLAG_RTX, PROTOCOL_MIN } from '../protocol/constants.js';
import { errorInfo } from '../protocol/error-codes.js';
import type { Frame } from '../protocol/frame.js';
import type { DeviceClass, HelloMessage, Message } from '../protocol/messages/types.js';
import { CheckFailure } from './conform-error.js';
import type { DeviceLinks } from './target.js';
import { Peer, type Heard } from './peer.js';

export interface GatewayTimings {
  /** How long the device may take to answer one request (ms). */
  answerMs: number;
  /** How long to wait for the device to (re)connect and send HELLO (ms). */
  helloMs: number;
  /** After the PING that follows a frame the device must ignore, how long stragglers may take (ms). */
  graceMs: number;
  /** Heartbeat period the kit asks for in CHALLENGE / WELCOME (ms). */
  heartbeatMs: number;
  /** STATE period the kit asks for in WELCOME (ms). */
  stateMs: number;
  /** Lease granted in WELCOME and HEARTBEAT_ACK (ms). */
  leaseMs: number;
}

export interface GatewayOptions {
  id: string;
  key: Uint8Array;
  deviceClass?: DeviceClass;
  /** Protocol versions the kit speaks. */
  proto: [number, number];
  timings: GatewayTimings;
  /** Largest frame the kit receives (CHALLENGE maxFrame is the smaller of this and the device's). */
  maxFrame: number;
  /** Requests the kit lets the device have outstanding (CHALLENGE window is the smaller). */
  window: number;
  log?: (line: string) => void;
}

export interface HandshakeOptions {
  /** Corrupt the WELCOME serverMac (auth check). */
  badServerMac?: boolean;
  /**
   * CHALLENGE version to send instead of the negotiated one: outside HELLO `proto` the device must
   * refuse it (version check); inside, the session runs at it (a version-1 session with a device
   * that also speaks 2).
   */
  version?: number;
  /** Accept a HELLO `resume` naming the current session (default true). */
  acceptResume?: boolean;
}

export interface Session {
  peer: Peer;
  hello: HelloMessage;
  helloFrame: Frame;
  sessionId: Uint8Array;
  resumed: boolean;
  version: number;
  maxFrame: number;
  window: number;
  /** peer.now() when WELCOME was sent */
  welcomedAt: number;
  /** peer.mark() when WELCOME was sent: what the device said in this session starts there. */
  heardFrom: number;
}

export type HandshakeOutcome =
  | { kind: 'welcomed'; session: Session }
  /** The device did not send AUTH after CHALLENGE (what a refused CHALLENGE should get). */
  | { kind: 'no-auth'; peer: Peer; hello: HelloMessage; from: number }
  /** WELCOME sent (with a bad MAC when asked). */
  | { kind: 'welcome-sent'; peer: Peer; hello: HelloMessage; from: number };

/** A service name no device serves: requests for it must get ERROR 500 infer.unknown_service. */
export const NO_SERVICE = 'conform-no-such-service';

export interface LinkDrop {
  how: 'cut' | 'silence';
  afterMs: number;
  /** HEARTBEATs the device sent while the kit was silent: retransmissions must carry RTX. */
  heartbeats: { seq: number; rtx: boolean }[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class Gateway {
  readonly peers: Peer[] = [];
  session?: Session;
  /** Every session the kit has had with the device, in order (the version checks read them). */
  readonly sessions: Session[] = [];
  /** The last HELLO the kit answered (its caps decide which checks apply). */
  lastHello?: HelloMessage;
  private used = new WeakSet<Heard>();
  private seqBase = 0x100;

  constructor(
    readonly links: DeviceLinks,
    readonly o: GatewayOptions,
  ) {
    links.on('stream', (s) => {
      // Each link gets its own seq range so a device's per-link duplicate cache cannot mix them.
      this.peers.push(new Peer(s, this.seqBase));
      this.seqBase = (this.seqBase + 0x1000) & 0xffff;
    });
  }

  get t(): GatewayTimings {
    return this.o.timings;
  }

  log(line: string): void {
    this.o.log?.(line);
  }

  /** The peer of the current session. Throws (fails the check) without one. */
  get peer(): Peer {
    const p = this.session?.peer;
    if (!p || p.closed) throw new CheckFailure('no live session with the device (an earlier check lost it)');
    return p;
  }

  /**
   * The device's newest HELLO not yet answered, on a link that is still open, waiting up to
   * `timeoutMs`. Older HELLOs (retries the device sent while the kit was busy) are passed over.
   */
  async nextHello(timeoutMs: number): Promise<{ peer: Peer; heard: Heard; hello: HelloMessage } | undefined> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      for (let pi = this.peers.length - 1; pi >= 0; pi--) {
        const p = this.peers[pi]!;
        if (p.closed) continue;
        let found: Heard | undefined;
        for (const h of p.heard) if (h.frame?.message.type === 'HELLO' && !(h.frame.header.flags & FLAG_RSP) && !this.used.has(h)) found = h;
        if (found) {
          for (const h of p.heard) if (h.frame?.message.type === 'HELLO') this.used.add(h);
          // a HELLO the device has already given up on is answered anyway: the device ignores a
          // CHALLENGE for an old seq, and the next HELLO is picked up by the caller's retry
          return { peer: p, heard: found, hello: found.frame!.message as HelloMessage };
        }
      }
      const left = end - performance.now();
      if (left <= 0) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(25, left)));
    }
  }

  /** Let nextHello return this HELLO again (a check peeked at it). */
  unconsume(h: Heard): void {
    this.used.delete(h);
  }

  /** Serve one handshake: wait for HELLO, CHALLENGE, wait for AUTH, WELCOME. */
  async handshake(o: HandshakeOptions = {}): Promise<HandshakeOutcome> {
    for (let attempt = 0; ; attempt++) {
      const got = await this.nextHello(this.t.helloMs);
      if (!got) throw new CheckFailure(`no HELLO from the device within ${this.t.helloMs} ms`);
      const { peer, heard, hello } = got;
      this.lastHello = hello;
      const [dmin, dmax] = hello.proto;
      const [kmin, kmax] = this.o.proto;
      const negotiated = Math.min(dmax, kmax);
      if (negotiated < Math.max(dmin, kmin)) throw new CheckFailure(`the device speaks protocol ${dmin}..${dmax}, the kit ${kmin}..${kmax}: no common version`);
      const version = o.version ?? negotiated;
      // a version outside the device's range is the refusal check's; inside it is a session
      const refusing = version < dmin || version > dmax;
      const nonce = randomBytes(16);
      const maxFrame = Math.min(hello.maxFrame, this.o.maxFrame);
      const window = Math.min(hello.rxWindow, this.o.window);
      const from = peer.mark();
      // HELLO .. WELCOME use only version-1 keys (§8); the frames after CHALLENGE use `version`
      peer.version = PROTOCOL_MIN;
      await peer.send({ type: 'CHALLENGE', nonce, version, maxFrame, window, keepaliveMs: this.t.heartbeatMs }, { rsp: true, corr: heard.frame!.header.seq });
      if (!refusing) peer.version = version;
      const authHeard = await peer.waitFor((h) => h.frame?.message.type === 'AUTH' || h.frame?.message.type === 'HELLO', this.t.answerMs * 2, from);
      const auth = authHeard?.frame?.message;
      if (auth?.type === 'HELLO') {
        // A refused CHALLENGE: the device dropped it and started over (the new HELLO is for the next check).
        if (refusing) {
          this.unconsume(authHeard!);
          return { kind: 'no-auth', peer, hello, from };
        }
        // The device retried HELLO before our CHALLENGE reached it: answer the new one.
        if (attempt < 3) continue;
        throw new CheckFailure('the device keeps sending HELLO and never answers CHALLENGE with AUTH');
      }
      if (auth?.type !== 'AUTH') {
        if (refusing) return { kind: 'no-auth', peer, hello, from };
        throw new CheckFailure(`no AUTH within ${this.t.answerMs * 2} ms of CHALLENGE`);
      }
      if (refusing) {
        throw new CheckFailure(`the device answered a CHALLENGE for version ${version} (outside its ${dmin}..${dmax}) with AUTH; §8 rule 4 says BYE 120/121 and close`);
      }
      if (!macsEqual(auth.serverNonce, nonce)) throw new CheckFailure(`AUTH serverNonce ${hex(auth.serverNonce)} is not the CHALLENGE nonce ${hex(nonce)}`);
      if (!macsEqual(auth.mac, authMac(this.o.key, nonce, auth.deviceNonce, this.o.id))) {
        throw new CheckFailure(`the AUTH MAC does not verify with the key given for ${this.o.id}: the device holds another key (or MACs other bytes than §5.3)`);
      }
      const resumable = o.acceptResume !== false && !!hello.resume && !!this.session && macsEqual(hello.resume, this.session.sessionId);
      const sessionId = resumable ? this.session!.sessionId : randomBytes(8);
      let mac = serverMac(this.o.key, auth.deviceNonce, nonce, this.o.id);
      if (o.badServerMac) {
        mac = Uint8Array.from(mac);
        mac[0] = mac[0]! ^ 0x01;
      }
      const welcomeFrom = peer.mark();
      await peer.send(
        { type: 'WELCOME', sessionId, leaseMs: this.t.leaseMs, heartbeatMs: this.t.heartbeatMs, stateMs: this.t.stateMs, serverMac: mac, ...(resumable ? { resumed: true } : {}) },
        { rsp: true, corr: authHeard!.frame!.header.seq },
      );
      if (o.badServerMac) return { kind: 'welcome-sent', peer, hello, from: welcomeFrom };
      // Give the device its first word after WELCOME (its STATE, §7.3) before the checks talk:
      // a request in the same read as WELCOME tests the device's read loop, not the protocol.
      await peer.waitFor(() => true, Math.min(this.t.answerMs, this.t.stateMs + 500), welcomeFrom);
      this.session = { peer, hello, helloFrame: heard.frame!, sessionId, resumed: resumable, version, maxFrame, window, welcomedAt: peer.now(), heardFrom: welcomeFrom };
      this.sessions.push(this.session);
      this.log(`session ${hex(sessionId)} with ${hello.deviceId} over ${peer.description}${resumable ? ' (resumed)' : ''}: v${version}, maxFrame ${maxFrame}, window ${window}`);
      return { kind: 'welcomed', session: this.session };
    }
  }

  /** Handshake that must succeed (a check's precondition). */
  async establish(o: HandshakeOptions = {}): Promise<Session> {
    const r = await this.handshake(o);
    if (r.kind !== 'welcomed') throw new CheckFailure('the handshake did not complete');
    return r.session;
  }

  /**
   * PING with fresh data and wait for the PONG. Devices answer in order, so once it is back,
   * anything the device was going to say about the frames before it has been said.
   */
  async probe(peer: Peer = this.peer): Promise<{ ok: boolean; rttMs: number; why?: string }> {
    const data = randomBytes(8);
    data[3] = 0; // a zero in the data: its COBS is not the trivial one
    const t0 = performance.now();
    const { answer } = await peer.request({ type: 'PING', data }, this.t.answerMs);
    const rttMs = performance.now() - t0;
    if (!answer) return { ok: false, rttMs, why: peer.closed ? 'the link closed' : `no PONG within ${this.t.answerMs} ms` };
    const m = answer.message;
    if (m.type !== 'PONG') return { ok: false, rttMs, why: `PING answered with ${describe(m)}` };
    if (!m.data || !macsEqual(m.data, data)) return { ok: false, rttMs, why: 'PONG does not echo the PING data' };
    return { ok: true, rttMs };
  }

  /**
   * Is the device still registered? A request only a registered device serves (INFER for a
   * service that does not exist): ERROR 500 means yes, 205 or nothing means it left the session.
   */
  async registered(peer: Peer = this.peer): Promise<{ ok: boolean; why?: string }> {
    const { answer } = await peer.request({ type: 'INFER_REQUEST', requestId: 0xc0f, service: NO_SERVICE, inputs: [{ name: 'x', dtype: 'uint8', shape: [1], data: new Uint8Array(1) }] }, this.t.answerMs);
    if (!answer) return { ok: false, why: peer.closed ? 'the link closed' : `a session request got no answer within ${this.t.answerMs} ms` };
    const m = answer.message;
    if (m.type === 'ERROR' && m.code === 500) return { ok: true };
    return { ok: false, why: `a session request (INFER for an unknown service) got ${describe(m)}, not ERROR 500` };
  }

  /**
   * Before a family of checks: a registered session, re-established if an earlier check (or a
   * device that obeyed what it should have ignored) lost it, so one deviation does not hide others.
   */
  async ensureSession(): Promise<void> {
    const p = this.session?.peer;
    if (p && !p.closed) {
      const r = await this.registered(p);
      if (r.ok) return;
      this.log(`the session is gone (${r.why}): waiting for the device's HELLO`);
    }
    await this.establish();
  }

  /** Require the device to be alive and registered, else fail the check. */
  async alive(what: string): Promise<number> {
    const p = await this.probe();
    if (!p.ok) throw new CheckFailure(`after ${what}: ${p.why}`);
    return p.rttMs;
  }

  /**
   * Everything the device said about `seq` (an answer), between `from` and now, plus a wait of
   * `graceMs` for stragglers: used after a probe to prove silence.
   */
  answersTo(peer: Peer, seq: number, from: number): Frame[] {
    return peer.heard
      .slice(from)
      .filter((h) => h.frame && h.frame.header.flags & FLAG_RSP && h.frame.header.corr === seq)
      .map((h) => h.frame!);
  }

  /**
   * A request the device must refuse with `code` (a name like `msg.schema`). Returns the ERROR.
   */
  async expectError(sendIt: () => Promise<number>, code: string, what: string): Promise<Extract<Message, { type: 'ERROR' }>> {
    const peer = this.peer;
    const from = peer.mark();
    const seq = await sendIt();
    const got = await peer.waitAnswer(seq, this.t.answerMs, from);
    const wire = errorInfo(code)?.wire;
    if (!got?.frame) throw new CheckFailure(`${what}: no answer within ${this.t.answerMs} ms (ERROR ${wire} ${code} is due)`);
    const m = got.frame.message;
    if (m.type !== 'ERROR') throw new CheckFailure(`${what}: answered with ${describe(m)} where ERROR ${wire} ${code} is due`);
    if (m.code !== wire) throw new CheckFailure(`${what}: ERROR ${m.code} ${errorInfo(m.code)?.name ?? '(unknown code)'} where ${wire} ${code} is due`);
    return m;
  }

  /**
   * Send something the device must NOT answer, then a probe: the probe's PONG proves the device
   * is alive and, answering in order, had its say about the first frame already.
   */
  async expectSilence(sendIt: (peer: Peer) => Promise<number | undefined>, what: string): Promise<void> {
    const peer = this.peer;
    const from = peer.mark();
    const seq = await sendIt(peer);
    const p = await this.probe(peer);
    if (!p.ok) throw new CheckFailure(`after ${what}: ${p.why}`);
    await new Promise((r) => setTimeout(r, this.t.graceMs));
    const said = peer.heard.slice(from).filter((h) => h.frame && (h.frame.header.flags & FLAG_RSP) && h.frame.message.type !== 'PONG' && (seq === undefined || h.frame.header.corr === seq));
    if (said.length > 0) throw new CheckFailure(`${what} was answered with ${describe(said[0]!.frame!.message)}; the spec says silence`);
  }

  /**
   * Make the device lose the link: cut it (TCP, BLE) or, where it cannot be cut (a tty), go
   * silent (answer nothing) until the device gives the session up and says HELLO again.
   */
  async dropLink(): Promise<LinkDrop> {
    if (!this.links.canDrop) return this.dropLinkBySilence();
    await this.peer.close();
    return { how: 'cut', afterMs: 0, heartbeats: [] };
  }

  /** Answer nothing (not even HEARTBEAT or PING) until the device says HELLO again. */
  async dropLinkBySilence(): Promise<LinkDrop> {
    const peer = this.peer;
    const t0 = performance.now();
    const from = peer.mark();
    const saved = peer.auto;
    peer.auto = { heartbeatLeaseMs: 0, ping: false };
    // A device that hears nothing for leaseMs knows its session is gone (§7.2): that bounds the wait.
    const limit = this.t.leaseMs + this.t.answerMs;
    try {
      const hello = await this.waitAnyHello(limit);
      if (!hello) throw new CheckFailure(`the kit stopped answering, and the device did not say HELLO again within ${limit} ms (§7.2: a HEARTBEAT unanswered after its retries means the link is lost)`);
      const heartbeats = peer.heard
        .slice(from)
        .filter((h) => h.frame?.message.type === 'HEARTBEAT' && !(h.frame.header.flags & FLAG_RSP))
        .map((h) => ({ seq: h.frame!.header.seq, rtx: (h.frame!.header.flags & FLAG_RTX) !== 0 }));
      return { how: 'silence', afterMs: performance.now() - t0, heartbeats };
    } finally {
      peer.auto = saved;
    }
  }

  /** Any HELLO not yet answered, on any link (without taking it). */
  private async waitAnyHello(timeoutMs: number): Promise<boolean> {
    const got = await this.nextHello(timeoutMs);
    if (got) this.unconsume(got.heard);
    return !!got;
  }

  async close(): Promise<void> {
    for (const p of this.peers) await p.close();
  }
}

/** `ERROR 113 msg.schema (field x)`, `PONG`, … for failure messages. */
export function describe(m: Message): string {
  if (m.type === 'ERROR') return `ERROR ${m.code} ${errorInfo(m.code)?.name ?? ''}${m.field ? ` (field ${m.field})` : ''}`.trim();
  return m.type;
}
