/**
 * A small server written straight from protocol/SPEC.md, for testing EparaDevice on its own:
 * real FrameLinks over in-memory streams, the handshake with real HMACs, and deployments driven by
 * the server engineer's go-back-N sender. The end-to-end tests use the real EparaServer instead.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sendChunks } from '../../src/device-mgmt/deployment/sender.js';
import type { ByteStream, Connector } from '../../src/transport/byte-stream.js';
import { FrameLink } from '../../src/transport/frame-link.js';
import { memoryPair } from '../../src/transport/memory.js';
import type { DeployResultMessage, Frame, Message, StateMessage, Tensor } from '../../src/protocol/index.js';
import { toErrorMessage } from '../../src/protocol/index.js';
import { AuthError } from '../../src/errors.js';

export interface ScriptedServerOptions {
  key: Buffer;
  heartbeatMs?: number;
  stateMs?: number;
  maxFrame?: number;
  /** Send a wrong serverMac in WELCOME (an impostor server). */
  impostor?: boolean;
  /** Called in the same turn as WELCOME is written, so what it sends follows WELCOME on the wire at once. */
  behindWelcome?: (link: FrameLink) => void;
  /** Gather what the server writes for this long and deliver it as one chunk, as TCP does. */
  coalesceMs?: number;
}

export class ScriptedServer extends EventEmitter {
  link: FrameLink | undefined;
  readonly states: StateMessage[] = [];
  readonly results: DeployResultMessage[] = [];
  readonly hellos: Array<Extract<Message, { type: 'HELLO' }>> = [];
  readonly sessions: string[] = [];
  heartbeats = 0;
  private sessionId: Uint8Array | undefined;
  private nextRequest = 1;

  constructor(readonly o: ScriptedServerOptions) {
    super();
  }

  /** A connector that makes a fresh in-memory link for each (re)connect. */
  connector(): Connector {
    return async () => {
      const [dev, srv] = memoryPair();
      if (this.o.coalesceMs !== undefined) coalesceWrites(srv, this.o.coalesceMs);
      this.attach(srv);
      return dev;
    };
  }

  attach(stream: ByteStream): void {
    const link = new FrameLink(stream, { requestTimeoutMs: 2000 });
    let nonce: Uint8Array | undefined;
    let deviceId = '';
    link.on('request', async (frame: Frame, reply) => {
      const m = frame.message;
      if (m.type === 'HELLO') {
        this.hellos.push(m);
        deviceId = m.deviceId;
        nonce = randomBytes(16);
        await reply({ type: 'CHALLENGE', nonce, version: 1, maxFrame: Math.min(m.maxFrame, this.o.maxFrame ?? 4096), window: Math.min(m.rxWindow, 8), keepaliveMs: m.keepaliveMs ?? 5000 });
      } else if (m.type === 'AUTH') {
        const want = createHmac('sha256', this.o.key).update('epara-auth-v1').update(m.serverNonce).update(m.deviceNonce).update(deviceId).digest();
        if (!nonce || Buffer.compare(want, Buffer.from(m.mac)) !== 0) {
          await reply(toErrorMessage(new AuthError({ code: 'auth.bad_mac', wire: 200, reason: 'bad mac', hint: 're-provision' })));
          return;
        }
        const key = this.o.impostor ? randomBytes(32) : this.o.key;
        const serverMac = createHmac('sha256', key).update('epara-srv-v1').update(m.deviceNonce).update(m.serverNonce).update(deviceId).digest();
        const hello = this.hellos[this.hellos.length - 1]!;
        const resumed = !!hello.resume && !!this.sessionId && Buffer.compare(Buffer.from(hello.resume), Buffer.from(this.sessionId)) === 0;
        if (!resumed) this.sessionId = randomBytes(8);
        this.sessions.push(Buffer.from(this.sessionId!).toString('hex'));
        this.link = link;
        const welcome = reply({ type: 'WELCOME', sessionId: this.sessionId!, leaseMs: 30_000, heartbeatMs: this.o.heartbeatMs ?? 1000, stateMs: this.o.stateMs ?? 1000, serverMac, ...(resumed ? { resumed: true } : {}) });
        link.setNegotiated({ maxFrame: Math.min(hello.maxFrame, this.o.maxFrame ?? 4096), window: Math.min(hello.rxWindow, 8) });
        this.o.behindWelcome?.(link);
        await welcome;
        this.emit('welcome', { resumed });
      } else if (m.type === 'HEARTBEAT') {
        this.heartbeats++;
        await reply({ type: 'HEARTBEAT_ACK', leaseMs: 30_000 });
      } else {
        await reply(toErrorMessage(new AuthError({ code: 'msg.unexpected', wire: 114, reason: `unexpected ${m.type}`, hint: '' })));
      }
    });
    link.on('notify', (frame: Frame) => {
      const m = frame.message;
      if (m.type === 'STATE') {
        this.states.push(m);
        this.emit('state', m);
      } else if (m.type === 'DEPLOY_RESULT') {
        this.results.push(m);
      }
    });
    link.on('close', () => {
      if (this.link === link) this.link = undefined;
      this.emit('link-closed');
    });
  }

  async waitFor(event: string, pred: (x: any) => boolean = () => true): Promise<any> {
    return new Promise((resolve) => {
      const l = (x: unknown) => {
        if (pred(x)) {
          this.off(event, l);
          resolve(x);
        }
      };
      this.on(event, l);
    });
  }

  private need(): FrameLink {
    if (!this.link) throw new Error('no device link');
    return this.link;
  }

  async deploy(bytes: Uint8Array, o: { deploymentId: number; service: string; version: string; kind?: 'onnx' | 'blob' | 'int8-fc-weights'; chunkSize?: number; onChunkError?: 'throw' }): Promise<{ result: Message; goBacks: number; startOffset: number }> {
    const link = this.need();
    const sha256 = createHash('sha256').update(bytes).digest();
    const chunkSize = o.chunkSize ?? 256;
    const accept = await link.request({ type: 'DEPLOY_OFFER', deploymentId: o.deploymentId, service: o.service, version: o.version, kind: o.kind ?? 'onnx', size: bytes.length, sha256, chunkSize, category: 'latency-single' });
    if (accept.type !== 'DEPLOY_ACCEPT') throw new Error(`expected DEPLOY_ACCEPT, got ${accept.type}`);
    const r = await sendChunks({
      size: bytes.length,
      chunkSize,
      window: accept.window,
      startOffset: accept.nextOffset,
      read: (off, len) => bytes.subarray(off, off + len),
      sendChunk: async (offset, data) => {
        const ack = await link.request({ type: 'DEPLOY_CHUNK', deploymentId: o.deploymentId, offset, data });
        if (ack.type !== 'DEPLOY_CHUNK_ACK') throw new Error(`expected DEPLOY_CHUNK_ACK, got ${ack.type}`);
        return ack.nextOffset;
      },
    });
    const result = await link.request({ type: 'DEPLOY_COMMIT', deploymentId: o.deploymentId }, { timeoutMs: 10_000 });
    return { result, goBacks: r.goBacks, startOffset: accept.nextOffset };
  }

  async offer(bytes: Uint8Array, o: { deploymentId: number; service: string; version: string }): Promise<Message> {
    return this.need().request({ type: 'DEPLOY_OFFER', deploymentId: o.deploymentId, service: o.service, version: o.version, kind: 'onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest(), chunkSize: 256, category: 'latency-single' });
  }

  async chunk(deploymentId: number, offset: number, data: Uint8Array): Promise<Message> {
    return this.need().request({ type: 'DEPLOY_CHUNK', deploymentId, offset, data });
  }

  async infer(service: string, inputs: Tensor[], o: { deadlineUs?: number; requestId?: number } = {}): Promise<Message> {
    const requestId = o.requestId ?? this.nextRequest++;
    return this.need().request({ type: 'INFER_REQUEST', requestId, service, inputs, ...(o.deadlineUs !== undefined ? { deadlineUs: o.deadlineUs } : {}) }, { timeoutMs: 10_000, retries: 0 });
  }

  async cancel(requestId: number): Promise<void> {
    await this.need().notify({ type: 'INFER_CANCEL', requestId });
  }

  async placement(planVersion: number, ops: Extract<Message, { type: 'PLACEMENT' }>['ops']): Promise<Message> {
    return this.need().request({ type: 'PLACEMENT', planVersion, ops });
  }

  /** Drop the current link as if the cable was pulled. */
  async drop(): Promise<void> {
    await this.link?.stream.close();
  }
}

/** Writes gathered for `ms` and delivered as one chunk (several frames in one read, as over TCP). */
function coalesceWrites(stream: ByteStream, ms: number): void {
  const write = stream.write.bind(stream);
  let pending: Uint8Array[] = [];
  let timer: NodeJS.Timeout | undefined;
  stream.write = async (bytes: Uint8Array) => {
    pending.push(Uint8Array.from(bytes));
    timer ??= setTimeout(() => {
      timer = undefined;
      const all = Buffer.concat(pending);
      pending = [];
      write(all).catch(() => undefined);
    }, ms);
  };
}
