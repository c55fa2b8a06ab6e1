/**
 * EparaDevice: what an embedded host imports. It opens a link, performs the handshake (HELLO →
 * CHALLENGE → AUTH → WELCOME, verifying the server's MAC too), heartbeats and reports STATE on the
 * negotiated periods, reconnects by itself with capped backoff and HELLO `resume`, and serves the
 * services placed on it: artifacts arrive over DEPLOY (resumable, verified, loaded, warmed up,
 * rolled back on failure) and INFER requests run through per-service queues.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { authMac, macsEqual, NONCE_BYTES, serverMac } from '../protocol/auth-mac.js';
import { AuthError, ConfigError, EparaError, LinkError, ProtocolError } from '../errors.js';
import type { EventArgs } from '../event-map.js';
import { resolveNumbers } from '../options.js';
import {
  DEFAULT_MAX_FRAME,
  MAX_MAX_FRAME,
  MIN_MAX_FRAME,
  DEVICE_ID_PATTERN,
  WINDOW_MAX,
  WINDOW_MIN,
  WIRE,
  toErrorMessage,
  type Capabilities,
  type DeployChunkMessage,
  type DeployCommitMessage,
  type DeployOfferMessage,
  type DeployResultMessage,
  type DeviceClass,
  type Frame,
  type InferRequestMessage,
  type Message,
  type PlacementMessage,
  type ServiceState,
  type StateMessage,
  type ServiceStatus,
} from '../protocol/index.js';
import type { ByteStream, Connector } from '../transport/byte-stream.js';
import { FrameLink } from '../transport/frame-link.js';
import type { FrameLinkOptions } from '../transport/frame-link-options.js';
import { ArtifactStore, type ArtifactRecord, type ArtifactStoreOptions } from './artifact-store.js';
import { detectCapabilities, hostLoad, type CapabilityConfig } from './capabilities.js';
import { commitDeployment, type CommitHost, type ServiceEntry } from './deploy-commit.js';
import { asEparaError, deployError, inferError, wireOf, CLIENT_WIRE_CODES } from './client-errors.js';
import { QUEUE_SPECS, ServiceQueue, type QueueSettings } from './inference.js';
import { OnnxModel } from './onnx-runtime.js';
import { handlerRunner, type HandlerRunnerOptions, type InferHandler, type ServiceRunner } from './runner.js';
import { DeviceSession, type DeviceSessionState } from './session.js';
import { backoffDelay } from '../transport/reconnect.js';
import { wakeableSleep } from '../transport/wakeable-sleep.js';
import { checkChosenVersion, resolveProtocolRange } from './protocol-versions.js';
import { serviceStateOf } from './state-report.js';

export const CLIENT_FIRMWARE = 'epara-client/0.1.0';
const MAX_TRANSFERS = 32;

/** Turns a verified artifact into something that serves requests. */
export type ArtifactLoader = (record: ArtifactRecord) => Promise<ServiceRunner>;

/** Test and emulator hooks: wire-exact misbehaviour without forking the device code. */
export interface DeviceHooks {
  /** Called for every DEPLOY_CHUNK before it is stored; false discards it (acked with the unchanged nextOffset, so the server goes back). */
  acceptChunk?(chunk: DeployChunkMessage, index: number): boolean;
  /** Called after a chunk was stored. */
  chunkStored?(info: { deploymentId: number; service: string; nextOffset: number; size: number }): void;
  /** Extra delay before the response to `request` is sent. */
  responseDelayMs?(request: Message): number;
  /** Fields merged into every STATE (an emulator's load, temperature, power). */
  state?(): Partial<StateMessage>;
}

export interface EparaDeviceOptions {
  /** Opens a fresh stream; used again for every reconnect. */
  connector?: Connector;
  /** A single already-open stream (no reconnect after it drops). */
  stream?: ByteStream;
  id: string;
  /** The provisioned key: hex string or bytes, at least 16 bytes. Never logged. */
  key: string | Uint8Array;
  deviceClass: DeviceClass;
  /** Configuration merged over detected capabilities (GPUs and accelerators come only from here). */
  caps?: CapabilityConfig;
  /** Where artifacts and partial transfers persist across restarts. */
  dataDir: string;
  /** Loaders per artifact kind; `onnx` defaults to onnxruntime-node. */
  runtimes?: Partial<Record<'onnx' | 'int8-fc-weights' | 'blob', ArtifactLoader>>;
  firmware?: string;
  maxFrame?: number;
  rxWindow?: number;
  keepaliveMs?: number;
  /** HELLO `proto` (SPEC §8): default [1, 2]; [1, 1] is a spec 1.0 device. */
  protocolVersions?: readonly [number, number];
  /** DEPLOY_ACCEPT window: chunks the device takes in flight. */
  deployWindow?: number;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** Randomness for backoff jitter (seeded by fleets). Nonces always come from the CSPRNG. */
  random?: () => number;
  link?: FrameLinkOptions;
  store?: ArtifactStoreOptions;
  /** Wraps every runner (an emulator's service-time model). */
  wrapRunner?: (service: string, runner: ServiceRunner) => ServiceRunner;
  hooks?: DeviceHooks;
}

const NUM_SPECS = {
  maxFrame: { default: 4096, min: MIN_MAX_FRAME, max: MAX_MAX_FRAME, integer: true, unit: 'bytes' },
  rxWindow: { default: 8, min: WINDOW_MIN, max: WINDOW_MAX, integer: true },
  keepaliveMs: { default: 5000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  deployWindow: { default: 4, min: WINDOW_MIN, max: WINDOW_MAX, integer: true },
  connectTimeoutMs: { default: 30_000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  handshakeTimeoutMs: { default: 5000, min: 50, max: 600_000, integer: true, unit: 'ms' },
};
const RECONNECT_SPECS = {
  initialMs: { default: 200, min: 1, max: 600_000, integer: true, unit: 'ms' },
  maxMs: { default: 10_000, min: 1, max: 3_600_000, integer: true, unit: 'ms' },
  jitter: { default: 0.5, min: 0, max: 1 },
};

export interface ServiceInfo {
  name: string;
  version: string;
  status: ServiceStatus;
  kind: 'onnx' | 'int8-fc-weights' | 'blob' | 'custom';
}

interface Transfer {
  offer: DeployOfferMessage;
  chunks: number;
  /** Chunks and commit of one deployment run one at a time, in arrival order. */
  chain: Promise<unknown>;
}

export interface DeployedEvent {
  service: string;
  version: string;
  state: 'ready' | 'failed' | 'rolled-back';
  error?: EparaError;
}

export interface DeviceEvents {
  registered: (info: { sessionId: string; resumed: boolean; maxFrame: number; heartbeatMs: number; stateMs: number }) => void;
  deployed: (info: DeployedEvent) => void;
  'deploy-progress': (info: { service: string; version: string; nextOffset: number; size: number }) => void;
  'link-lost': (error?: EparaError) => void;
  state: (state: DeviceSessionState) => void;
  served: (info: { service: string; requestId: number; queueUs: number; computeUs: number }) => void;
  error: (error: EparaError) => void;
}

export class EparaDevice extends EventEmitter<EventArgs<DeviceEvents>> {
  readonly id: string;
  readonly deviceClass: DeviceClass;
  readonly caps: Capabilities;
  readonly store: ArtifactStore;
  readonly session = new DeviceSession();

  private readonly key: Buffer;
  private readonly opts: ReturnType<typeof resolveOptions>;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly pendingSettings = new Map<string, QueueSettings>();
  private readonly transfers = new Map<number, Transfer>();
  private readonly inflightInfer = new Map<number, string>();
  private readonly startedAt = performance.now();
  private link: FrameLink | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stateSoon: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastPlan = -1;
  private negotiated = { maxFrame: DEFAULT_MAX_FRAME, heartbeatMs: 0, stateMs: 0, leaseMs: 0, protocolVersion: 0 };
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly options: EparaDeviceOptions) {
    super();
    this.opts = resolveOptions(options);
    this.id = options.id;
    this.deviceClass = options.deviceClass;
    this.key = parseKey(options.key);
    // Formats the device accepts: configured, or ONNX plus every kind it was given a runtime for.
    const formats = options.caps?.formats ?? [...new Set(['onnx', ...Object.keys(options.runtimes ?? {})])];
    this.caps = detectCapabilities({ ...options.caps, formats });
    this.store = new ArtifactStore(options.dataDir, options.store);
  }

  /**
   * Create a device, load the artifacts it already holds, and connect. Resolves once the server
   * has welcomed it; rejects on a refused handshake (wrong key, unknown id) or after
   * connectTimeoutMs without a session.
   */
  static async connect(options: EparaDeviceOptions): Promise<EparaDevice> {
    const device = new EparaDevice(options);
    await device.restoreServices();
    await device.start();
    return device;
  }

  get state(): DeviceSessionState {
    return this.session.state;
  }

  /** The protocol version of the current session (SPEC §8); 0 before the first handshake. */
  get protocolVersion(): number {
    return this.negotiated.protocolVersion;
  }

  get sessionId(): string | undefined {
    return this.session.sessionId ? Buffer.from(this.session.sessionId).toString('hex') : undefined;
  }

  serviceInfo(): ServiceInfo[] {
    return [...this.services.values()].map(({ name, version, status, kind }) => ({ name, version, status, kind }));
  }

  /**
   * Serve `service` with a custom handler instead of a model (an FPGA proxy, a sensor pipeline).
   * It is reported ready in STATE straight away.
   */
  registerHandler(service: string, handler: InferHandler, opts: HandlerRunnerOptions & { version?: string; settings?: QueueSettings } = {}): void {
    if (!service || service.length > 64) throw new ConfigError({ code: 'config.value', reason: `service name must be 1..64 characters`, hint: 'use a short service name', field: 'service' });
    const runner = this.wrap(service, handlerRunner(handler, opts));
    const old = this.services.get(service);
    const entry: ServiceEntry = { name: service, version: opts.version ?? 'custom', status: 'ready', kind: 'custom', runner };
    entry.queue = old?.queue && old.status === 'ready' ? old.queue : new ServiceQueue(service, runner, { ...this.pendingSettings.get(service), ...opts.settings });
    entry.queue.setRunner(runner);
    this.services.set(service, entry);
    this.sendStateSoon();
  }

  /** Run an inference locally (the same queue remote requests use). */
  async infer(service: string, inputs: Parameters<ServiceQueue['submit']>[0]['inputs'], opts: { deadlineMs?: number; requestId?: number } = {}) {
    const entry = this.readyService(service);
    return entry.queue!.submit({ requestId: opts.requestId ?? 0x8000_0000 + Math.floor(Math.random() * 0x7fff_ffff), inputs, deadlineUs: opts.deadlineMs !== undefined ? opts.deadlineMs * 1000 : undefined });
  }

  /**
   * Leave: BYE to the server (graceful) or just drop the link (graceful: false, an emulated power
   * cut), stop timers, fail pending requests and release sessions.
   */
  async close(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.session.state === 'closed') return;
    const link = this.link;
    this.session.fire('close');
    this.emit('state', 'closed');
    this.stopTimers();
    this.wake?.();
    if (link) {
      if (opts.graceful !== false) await withTimeout(link.notify({ type: 'BYE', code: 0, reason: 'device closing' }), 500).catch(() => undefined);
      await link.close().catch(() => undefined);
    }
    for (const e of this.services.values()) {
      e.queue?.close();
      // A handler that ignores its abort signal must not hold the shutdown forever.
      if (e.runner) await withTimeout(e.queue ? e.queue.idle(e.runner) : Promise.resolve(), 2000).then(() => e.runner!.release?.()).catch(() => undefined);
    }
    await this.store.close();
    await this.loopDone?.catch(() => undefined);
  }

  // ---------------------------------------------------------------- connection loop

  private start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const deadline = setTimeout(() => {
        if (settled) return;
        settled = true;
        void this.close({ graceful: false });
        reject(new LinkError({ code: 'link.timeout', wire: WIRE['link.timeout'], reason: `no session with the server within ${this.opts.connectTimeoutMs} ms`, hint: 'check the server address and that it is running', details: { timeoutMs: this.opts.connectTimeoutMs } }));
      }, this.opts.connectTimeoutMs);
      const first = (err?: EparaError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) {
          void this.close({ graceful: false });
          reject(err);
        } else resolve();
      };
      this.session.fire('start');
      this.loopDone = this.loop(first);
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
    while (this.session.state === 'connecting') {
      this.emit('state', 'connecting');
      let stream: ByteStream;
      try {
        stream = await this.openStream();
      } catch (e) {
        const err = asEparaError(e, (m) => new LinkError({ code: 'link.open_failed', wire: WIRE['link.open_failed'], reason: m, hint: 'check the link to the server', cause: e }));
        if (this.session.tryFire('link_failed') !== 'backoff') break;
        if (!this.options.connector) {
          once(err);
          break;
        }
        this.report(err);
        await this.backoff();
        continue;
      }
      if (this.session.state !== 'connecting') {
        await stream.close().catch(() => undefined);
        break;
      }
      const link = new FrameLink(stream, this.options.link ?? {});
      this.link = link;
      const lost = new Promise<EparaError | undefined>((resolve) => link.on('close', (err?: EparaError) => resolve(err)));
      this.session.fire('link_open');
      this.emit('state', 'hello');
      try {
        await this.handshake(link);
        this.attempt = 0;
        once();
      } catch (e) {
        const err = asEparaError(e, (m) => new AuthError({ code: 'auth.timeout', wire: WIRE['auth.timeout'], reason: m, hint: 'the server did not complete the handshake' }));
        await link.close().catch(() => undefined);
        this.link = undefined;
        if (this.session.tryFire('failed') !== 'backoff' && this.session.tryFire('link_lost') !== 'backoff') break;
        // A refused key will not be accepted on retry: fail the first connect right away.
        const refused = (err instanceof AuthError && err.code !== 'auth.pending_approval' && err.code !== 'auth.timeout') || err.code.startsWith('proto.');
        if (!firstDone && refused) {
          once(err);
          break;
        }
        this.report(err);
        if (!this.options.connector) {
          once(err);
          break;
        }
        await this.backoff();
        continue;
      }
      const reason = await lost;
      this.stopTimers();
      this.link = undefined;
      if (this.session.tryFire('link_lost') !== 'backoff') break;
      this.emit('link-lost', reason);
      if (!this.options.connector) {
        this.session.tryFire('close');
        this.emit('state', 'closed');
        break;
      }
      await this.backoff();
    }
  }

  private async openStream(): Promise<ByteStream> {
    if (this.options.connector) return this.options.connector();
    if (this.options.stream && this.options.stream.isOpen && !this.link) return this.options.stream;
    throw new LinkError({ code: 'link.closed', wire: WIRE['link.closed'], reason: 'the device was given a single stream and it is closed', hint: 'pass a connector to let the device reconnect' });
  }

  private async backoff(): Promise<void> {
    this.emit('state', 'backoff');
    // this.attempt counts failures so far; retry number attempt+1 (1-based, as backoffDelay counts).
    // 1 − random and the rounding keep the delays a seeded device drew before the two were one.
    const random = this.options.random ?? Math.random;
    const ms = Math.round(backoffDelay(++this.attempt, this.opts.reconnect, () => 1 - random()));
    await wakeableSleep(ms, (wake) => (this.wake = wake));
    this.wake = undefined;
    this.session.tryFire('retry');
  }

  private async handshake(link: FrameLink): Promise<void> {
    const t = { timeoutMs: this.opts.handshakeTimeoutMs };
    const hello: Message = {
      type: 'HELLO',
      deviceId: this.id,
      deviceClass: this.deviceClass,
      proto: [...this.opts.proto],
      firmware: (this.options.firmware ?? CLIENT_FIRMWARE).slice(0, 32),
      caps: this.caps,
      maxFrame: this.opts.maxFrame,
      rxWindow: this.opts.rxWindow,
      keepaliveMs: this.opts.keepaliveMs,
      ...(this.session.sessionId ? { resume: this.session.sessionId } : {}),
    };
    const ch = await link.request(hello, t);
    if (ch.type !== 'CHALLENGE') throw unexpected('CHALLENGE', ch.type);
    checkChosenVersion(this.opts.proto, ch.version);
    if (ch.maxFrame < MIN_MAX_FRAME || ch.maxFrame > this.opts.maxFrame || ch.window < 1) {
      throw new ProtocolError({ code: 'proto.frame_size', wire: WIRE['proto.frame_size'], reason: `server proposed maxFrame ${ch.maxFrame} / window ${ch.window}, outside what this device offered`, hint: 'the server must pick min(device, server) values' });
    }
    this.session.fire('challenge');
    this.emit('state', 'auth');
    const deviceNonce = randomBytes(NONCE_BYTES);
    const mac = authMac(this.key, ch.nonce, deviceNonce, this.id);
    // Handlers go on before AUTH: the server may send a request right behind WELCOME, in the same
    // read, and it would be dispatched before this function resumes (answered not_supported). They
    // hold what arrives until the server's MAC is checked, and drop it if the handshake fails.
    let welcomed!: (ok: boolean) => void;
    const accepted = new Promise<boolean>((resolve) => (welcomed = resolve));
    link.on('request', (frame: Frame, reply: (m: Message) => Promise<void>) => void accepted.then((ok) => (ok ? this.onRequest(frame.message, reply) : undefined)));
    link.on('notify', (frame: Frame) => void accepted.then((ok) => (ok ? this.onNotify(frame.message) : undefined)));
    let wel: Message;
    try {
      wel = await link.request({ type: 'AUTH', serverNonce: ch.nonce, deviceNonce, mac }, t);
      if (wel.type !== 'WELCOME') throw unexpected('WELCOME', wel.type);
      if (!macsEqual(wel.serverMac, serverMac(this.key, deviceNonce, ch.nonce, this.id))) {
        throw new AuthError({ code: 'auth.server_mac', wire: WIRE['auth.server_mac'], reason: 'the server could not prove it knows this device key', hint: 'the device is talking to the wrong server or an impostor; check the address and the provisioned key' });
      }
    } catch (e) {
      welcomed(false);
      throw e;
    }
    link.setNegotiated({ maxFrame: ch.maxFrame, window: ch.window, protocolVersion: ch.version });
    this.negotiated = { maxFrame: ch.maxFrame, heartbeatMs: wel.heartbeatMs, stateMs: wel.stateMs, leaseMs: wel.leaseMs, protocolVersion: ch.version };
    this.session.sessionId = new Uint8Array(wel.sessionId);
    this.session.fire('welcome');
    welcomed(true);
    this.emit('state', 'ready');
    this.startTimers(link);
    this.emit('registered', { sessionId: this.sessionId!, resumed: wel.resumed === true, maxFrame: ch.maxFrame, heartbeatMs: wel.heartbeatMs, stateMs: wel.stateMs });
    void this.sendState();
  }

  private startTimers(link: FrameLink): void {
    const { heartbeatMs, stateMs } = this.negotiated;
    if (heartbeatMs > 0) {
      this.timers.push(
        setInterval(() => {
          link.request({ type: 'HEARTBEAT', uptimeMs: this.uptimeMs() }, { timeoutMs: Math.max(heartbeatMs, 1000) }).catch((e: unknown) => {
            // An unanswered heartbeat means the server no longer hears us: drop and reconnect.
            if (e instanceof LinkError && this.link === link) void link.close();
          });
        }, heartbeatMs),
      );
    }
    if (stateMs > 0) this.timers.push(setInterval(() => void this.sendState(), stateMs));
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.stateSoon) clearTimeout(this.stateSoon);
    this.stateSoon = undefined;
  }

  private report(err: EparaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private uptimeMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  // ---------------------------------------------------------------- STATE

  /**
   * The STATE report as it would be sent now. `consume` restarts the served/violation counters
   * (what sending does: they count "since the last STATE").
   */
  buildState(consume = false): StateMessage {
    const services: ServiceState[] = [...this.services.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => serviceStateOf(e, consume ? e.queue?.takeCounters() : e.queue?.peekCounters()));
    const host = hostLoad(this.caps.cpuCores);
    const stats = this.link?.stats;
    const msg: StateMessage = {
      type: 'STATE',
      loadPermille: host.loadPermille,
      memFreeKiB: Math.min(host.memFreeKiB, this.caps.memoryKiB),
      services,
      uptimeMs: this.uptimeMs(),
      ...(stats ? { link: { rxErrors: stats.badFrames, txRetries: stats.retries }, frames: { good: stats.framesIn, badCrc: stats.badFrames, oversize: 0 } } : {}),
    };
    return { ...msg, ...this.options.hooks?.state?.(), type: 'STATE' };
  }

  private async sendState(): Promise<void> {
    const link = this.link;
    if (!link || this.session.state !== 'ready') return;
    let state = this.buildState(true);
    // A small-frame link (an FPGA's 256 bytes) cannot always carry every service: drop the link
    // counters first, then report as many services as fit rather than nothing at all.
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await link.notify(state);
        return;
      } catch (e) {
        if (!(e instanceof EparaError) || e.code !== 'frame.oversize') return;
        const { link: _l, frames: _f, ...rest } = state;
        state = rest.services.length > 1 && !state.link && !state.frames ? { ...rest, services: rest.services.slice(0, Math.ceil(rest.services.length / 2)) } : rest;
      }
    }
  }

  /** Report soon after a service changes state, coalescing bursts. */
  private sendStateSoon(): void {
    if (this.stateSoon || this.session.state !== 'ready') return;
    this.stateSoon = setTimeout(() => {
      this.stateSoon = undefined;
      void this.sendState();
    }, 20);
  }

  // ---------------------------------------------------------------- requests from the server

  private async onRequest(msg: Message, reply: (m: Message) => Promise<void>): Promise<void> {
    let answer: Message;
    try {
      answer = await this.answer(msg);
    } catch (e) {
      const err = asEparaError(e, (m) => new EparaError({ code: 'internal', wire: WIRE['internal'], reason: m, hint: 'this is a bug in the epara client; please report it', cause: e }));
      answer = toErrorMessage(err);
    }
    const delay = this.options.hooks?.responseDelayMs?.(msg) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await reply(answer).catch(() => undefined);
  }

  private async answer(msg: Message): Promise<Message> {
    switch (msg.type) {
      case 'PING':
        return msg.data ? { type: 'PONG', data: msg.data } : { type: 'PONG' };
      case 'PLACEMENT':
        return this.onPlacement(msg);
      case 'DEPLOY_OFFER':
        return this.onOffer(msg);
      case 'DEPLOY_CHUNK':
        return this.onChunk(msg);
      case 'DEPLOY_COMMIT':
        return this.onCommit(msg);
      case 'INFER_REQUEST':
        return this.onInfer(msg);
      default:
        return toErrorMessage(new EparaError({ code: 'msg.unexpected', wire: WIRE['msg.unexpected'], reason: `a device does not answer ${msg.type}`, hint: 'only the server → device requests of SPEC §5 are valid here' }));
    }
  }

  private onNotify(msg: Message): void {
    if (msg.type === 'INFER_CANCEL') {
      const service = this.inflightInfer.get(msg.requestId);
      if (service) this.services.get(service)?.queue?.cancel(msg.requestId);
    } else if (msg.type === 'BYE') {
      // The server is going away: drop the link now and let the loop reconnect with backoff.
      void this.link?.close();
    }
  }

  // ---------------------------------------------------------------- inference

  private readyService(service: string): ServiceEntry {
    const entry = this.services.get(service);
    if (!entry || entry.status !== 'ready' || !entry.queue) {
      throw inferError('infer.unknown_service', { reason: `service ${service} is ${entry ? entry.status : 'not deployed'} on device ${this.id}`, hint: 'deploy it here first or route to a device that serves it', field: 'service' });
    }
    return entry;
  }

  private async onInfer(msg: InferRequestMessage): Promise<Message> {
    try {
      const entry = this.readyService(msg.service);
      if (this.inflightInfer.has(msg.requestId)) {
        throw inferError('infer.bad_input', { reason: `request id ${msg.requestId} is already in progress`, hint: 'use a fresh requestId per request', field: 'requestId' });
      }
      this.inflightInfer.set(msg.requestId, msg.service);
      try {
        const r = await entry.queue!.submit({ requestId: msg.requestId, inputs: msg.inputs, deadlineUs: msg.deadlineUs, flowId: msg.flowId });
        this.emit('served', { service: msg.service, requestId: msg.requestId, queueUs: r.queueUs, computeUs: r.computeUs });
        return { type: 'INFER_RESPONSE', requestId: msg.requestId, outputs: r.outputs, queueUs: r.queueUs, computeUs: r.computeUs };
      } finally {
        this.inflightInfer.delete(msg.requestId);
      }
    } catch (e) {
      return toErrorMessage(asEparaError(e, (m) => inferError('infer.runtime', { reason: m, hint: 'check the service on this device', cause: e })));
    }
  }

  // ---------------------------------------------------------------- placement

  private async onPlacement(msg: PlacementMessage): Promise<Message> {
    if (msg.planVersion < this.lastPlan) {
      return { type: 'PLACEMENT_ACK', planVersion: msg.planVersion, results: msg.ops.map((op) => ({ service: op.service, code: CLIENT_WIRE_CODES['placement.stale_plan'] })) };
    }
    this.lastPlan = msg.planVersion;
    const results = [];
    for (const op of msg.ops) {
      let code = 0;
      try {
        const settings: QueueSettings = {};
        if (op.settings?.batch !== undefined) settings.batch = op.settings.batch;
        if (op.settings?.maxQueue !== undefined) settings.maxQueue = op.settings.maxQueue;
        if (op.settings?.replicas !== undefined) settings.concurrency = Math.max(1, op.settings.replicas);
        if (op.action === 'unload') {
          code = (await this.unload(op.service)) ? 0 : CLIENT_WIRE_CODES['placement.unknown_service'];
        } else {
          // Validate before remembering: a bad value must not poison the queue built at the next deploy.
          const merged = { ...this.pendingSettings.get(op.service), ...settings };
          resolveNumbers(QUEUE_SPECS, merged, 'settings.');
          this.pendingSettings.set(op.service, merged);
          let entry = this.services.get(op.service);
          if (op.action === 'load' && (!entry || entry.status === 'unloaded')) entry = await this.reload(op.service);
          if (!entry || (op.version !== undefined && op.action === 'load' && entry.version !== op.version)) code = CLIENT_WIRE_CODES['placement.unknown_service'];
          else entry.queue?.configure(settings);
        }
      } catch (e) {
        code = e instanceof ConfigError ? WIRE['msg.schema'] : wireOf(asEparaError(e, (m) => new EparaError({ code: 'internal', wire: WIRE['internal'], reason: m, hint: '' })));
      }
      results.push({ service: op.service, code });
    }
    this.sendStateSoon();
    return { type: 'PLACEMENT_ACK', planVersion: msg.planVersion, results };
  }

  private async unload(service: string): Promise<boolean> {
    const entry = this.services.get(service);
    if (!entry) return false;
    await this.store.setUnloaded(service, true);
    entry.queue?.close();
    this.services.set(service, { name: entry.name, version: entry.version, status: 'unloaded', kind: entry.kind, record: entry.record });
    if (entry.runner) {
      const runner = entry.runner;
      void (entry.queue ? entry.queue.idle(runner) : Promise.resolve()).then(() => runner.release?.()).catch(() => undefined);
    }
    return true;
  }

  /** Load an unloaded service again from its active artifact on disk. */
  private async reload(service: string): Promise<ServiceEntry | undefined> {
    const { current } = await this.store.active(service);
    if (!current) return undefined;
    const runner = await this.loadRunner(current);
    await this.store.setUnloaded(service, false);
    return this.install(current, runner);
  }

  // ---------------------------------------------------------------- deployment

  private loaderFor(kind: string): ArtifactLoader | undefined {
    if (!(this.caps.formats ?? []).includes(kind)) return undefined;
    const custom = this.options.runtimes?.[kind as keyof NonNullable<EparaDeviceOptions['runtimes']>];
    if (custom) return custom;
    if (kind === 'onnx') {
      return async (rec) => {
        const model = await OnnxModel.load(rec.path);
        await model.warmUp().catch(async (e: unknown) => {
          await model.release().catch(() => undefined);
          throw e;
        });
        return model;
      };
    }
    return undefined;
  }

  private async loadRunner(record: ArtifactRecord): Promise<ServiceRunner> {
    const loader = this.loaderFor(record.kind);
    if (!loader) throw deployError('deploy.unsupported_kind', { reason: `this device cannot run ${record.kind} artifacts`, hint: 'deploy a format listed in the device capabilities' });
    const runner = await loader(record);
    if (runner.warmUp && !(runner instanceof OnnxModel)) {
      try {
        await runner.warmUp();
      } catch (e) {
        await runner.release?.().catch(() => undefined);
        throw asEparaError(e, (m) => deployError('deploy.warmup_failed', { reason: m, hint: 'the runtime loaded the artifact but cannot run it', cause: e }));
      }
    }
    return this.wrap(record.service, runner);
  }

  private wrap(service: string, runner: ServiceRunner): ServiceRunner {
    return this.options.wrapRunner ? this.options.wrapRunner(service, runner) : runner;
  }

  /** Put a loaded runner in service (replacing and releasing the old one, keeping the queue). */
  private install(record: ArtifactRecord, runner: ServiceRunner): ServiceEntry {
    const old = this.services.get(record.service);
    const queue = old?.queue && old.status === 'ready' ? old.queue : new ServiceQueue(record.service, runner, this.pendingSettings.get(record.service));
    queue.setRunner(runner);
    const entry: ServiceEntry = { name: record.service, version: record.version, status: 'ready', kind: record.kind, runner, queue, record };
    this.services.set(record.service, entry);
    if (old?.runner && old.runner !== runner) {
      const retired = old.runner;
      // Release the old version only once the runs it is still serving have finished.
      void queue.idle(retired).then(() => retired.release?.()).catch(() => undefined);
    }
    this.sendStateSoon();
    return entry;
  }

  /** On start: serve what was active before the restart; a version that no longer loads rolls back. */
  private async restoreServices(): Promise<void> {
    for (const rec of await this.store.activeServices()) {
      if ((await this.store.active(rec.service)).unloaded) {
        this.services.set(rec.service, { name: rec.service, version: rec.version, status: 'unloaded', kind: rec.kind, record: rec });
        continue;
      }
      let candidate: ArtifactRecord | undefined = rec;
      while (candidate) {
        try {
          this.install(candidate, await this.loadRunner(candidate));
          break;
        } catch (e) {
          this.report(asEparaError(e, (m) => deployError('deploy.load_failed', { reason: m, hint: 'rolling back to the previous version' })));
          candidate = await this.store.rollback(rec.service);
          if (!candidate) this.services.set(rec.service, { name: rec.service, version: rec.version, status: 'failed', kind: rec.kind });
        }
      }
    }
  }

  private transferFor(id: number): Transfer | undefined {
    return this.transfers.get(id);
  }

  private serialize<T>(t: Transfer, fn: () => Promise<T>): Promise<T> {
    const run = t.chain.then(fn, fn);
    t.chain = run.catch(() => undefined);
    return run;
  }

  private async onOffer(msg: DeployOfferMessage): Promise<Message> {
    try {
      if (!this.loaderFor(msg.kind)) {
        throw deployError('deploy.unsupported_kind', { reason: `device ${this.id} (${this.deviceClass}) cannot run ${msg.kind} artifacts`, hint: `it accepts ${(this.caps.formats ?? []).join(', ') || 'no artifacts'}; use a custom handler or another device`, field: 'kind' });
      }
      const existing = this.transfers.get(msg.deploymentId);
      const t: Transfer = existing && Buffer.compare(existing.offer.sha256, msg.sha256) === 0 ? existing : { offer: msg, chunks: 0, chain: existing?.chain ?? Promise.resolve() };
      t.offer = msg;
      this.transfers.set(msg.deploymentId, t);
      // Offers the server abandoned must not pile up: keep the most recent few (their bytes stay on disk for a resume).
      while (this.transfers.size > MAX_TRANSFERS) this.transfers.delete(this.transfers.keys().next().value!);
      const nextOffset = await this.serialize(t, () =>
        this.store.begin({ deploymentId: msg.deploymentId, service: msg.service, version: msg.version, kind: msg.kind, size: msg.size, sha256: msg.sha256, meta: msg.meta as Record<string, unknown> | undefined }),
      );
      return { type: 'DEPLOY_ACCEPT', deploymentId: msg.deploymentId, nextOffset, window: this.opts.deployWindow };
    } catch (e) {
      return toErrorMessage(asEparaError(e, (m) => deployError('deploy.no_space', { reason: m, hint: 'check the device data directory', cause: e })));
    }
  }

  private async onChunk(msg: DeployChunkMessage): Promise<Message> {
    let t = this.transferFor(msg.deploymentId);
    if (!t) {
      // A rebooted device can still hold the partial; the server normally re-offers first.
      const p = await this.store.partial(msg.deploymentId);
      if (!p) return toErrorMessage(deployError('deploy.unknown', { reason: `no transfer in progress for deployment ${msg.deploymentId}`, hint: 'send DEPLOY_OFFER first (again after a reconnect)' }));
      t = { offer: { type: 'DEPLOY_OFFER', deploymentId: msg.deploymentId, service: p.service, version: p.version, kind: 'blob', size: p.size, sha256: Buffer.from(p.sha256, 'hex'), chunkSize: msg.data.length, category: 'latency-single' }, chunks: 0, chain: Promise.resolve() };
      this.transfers.set(msg.deploymentId, t);
    }
    const transfer = t;
    try {
      const nextOffset = await this.serialize(transfer, async () => {
        const index = transfer.chunks++;
        if (this.options.hooks?.acceptChunk && !this.options.hooks.acceptChunk(msg, index)) return this.store.nextOffset(msg.deploymentId);
        const next = await this.store.write(msg.deploymentId, msg.offset, msg.data);
        const info = { deploymentId: msg.deploymentId, service: transfer.offer.service, version: transfer.offer.version, nextOffset: next, size: transfer.offer.size };
        this.emit('deploy-progress', info);
        this.options.hooks?.chunkStored?.(info);
        return next;
      });
      return { type: 'DEPLOY_CHUNK_ACK', deploymentId: msg.deploymentId, nextOffset };
    } catch (e) {
      return toErrorMessage(asEparaError(e, (m) => deployError('deploy.no_space', { reason: `could not store the chunk: ${m}`, hint: 'check free space in the device data directory', cause: e })));
    }
  }

  private async onCommit(msg: DeployCommitMessage): Promise<Message> {
    const t = this.transferFor(msg.deploymentId);
    if (!t) return toErrorMessage(deployError('deploy.unknown', { reason: `no transfer to commit for deployment ${msg.deploymentId}`, hint: 'offer and send the artifact first' }));
    return this.serialize(t, () => this.commit(t.offer));
  }

  /** Verify, load, warm up, activate — or keep serving the previous version and say so (deploy-commit.ts). */
  private commit(offer: DeployOfferMessage): Promise<DeployResultMessage> {
    return commitDeployment(this.commitHost, offer);
  }

  private readonly commitHost: CommitHost = {
    store: () => this.store,
    services: () => this.services,
    notify: (m) => void this.link?.notify(m).catch(() => undefined),
    forgetTransfer: (id) => this.transfers.delete(id),
    loadRunner: (r) => this.loadRunner(r),
    install: (r, runner) => this.install(r, runner),
    deployed: (e) => this.emit('deployed', e),
    changed: () => this.sendStateSoon(),
  };
}

function resolveOptions(o: EparaDeviceOptions) {
  if (!DEVICE_ID_PATTERN.test(o.id ?? '')) {
    throw new ConfigError({ code: 'config.value', reason: `device id ${JSON.stringify(o.id)} must be 1..64 of [A-Za-z0-9._-]`, hint: 'use the id the server provisioned', field: 'id' });
  }
  if (!o.connector && !o.stream) throw new ConfigError({ code: 'config.value', reason: 'neither connector nor stream given', hint: 'pass connector: () => connectTcp({...}) (reconnects) or an open stream', field: 'connector' });
  if (!o.dataDir) throw new ConfigError({ code: 'config.value', reason: 'dataDir is required', hint: 'pass a writable directory for artifacts', field: 'dataDir' });
  const n = resolveNumbers(NUM_SPECS, o as Partial<Record<keyof typeof NUM_SPECS, unknown>>);
  const reconnect = resolveNumbers(RECONNECT_SPECS, o.reconnect, 'reconnect.');
  return { ...n, reconnect, proto: resolveProtocolRange(o.protocolVersions) };
}

function parseKey(key: string | Uint8Array): Buffer {
  const bytes = typeof key === 'string' ? (/^([0-9a-fA-F]{2})+$/.test(key) ? Buffer.from(key, 'hex') : undefined) : Buffer.from(key);
  if (!bytes || bytes.length < 16) {
    // The key itself never goes into the message.
    throw new ConfigError({ code: 'config.value', reason: 'device key must be at least 16 bytes, given as hex or bytes', hint: 'use the key printed once by `epara register`', field: 'key' });
  }
  return bytes;
}

function unexpected(wanted: string, got: string): EparaError {
  return new EparaError({ code: 'msg.unexpected', wire: WIRE['msg.unexpected'], reason: `expected ${wanted}, got ${got}`, hint: 'the server does not follow SPEC §7.1' });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}
